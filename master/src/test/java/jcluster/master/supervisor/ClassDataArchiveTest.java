package jcluster.master.supervisor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The class-data cache stays bounded: one archive per jar path and JVM, a few in all. */
@Timeout(10)
class ClassDataArchiveTest {
    private Path cache;

    @BeforeEach
    void setUp() throws IOException {
        cache = Files.createTempDirectory("jcluster-cds-test");
    }

    @AfterEach
    void tearDown() throws IOException {
        try (Stream<Path> files = Files.walk(cache)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private void archive(String name, long usedMillisAgo) throws IOException {
        Path p = Files.writeString(cache.resolve(name), "x");
        Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() - usedMillisAgo));
    }

    private List<String> left() throws IOException {
        try (Stream<Path> files = Files.list(cache)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aNewArchiveReplacesTheOlderOnesOfItsJarAndJvm() throws IOException {
        archive("worker-0000000a-0000000b-100-1.jsa", 3000);
        archive("worker-0000000a-0000000b-100-2.jsa", 2000);
        archive("worker-0000000a-0000000b-101-3.jsa", 0);
        archive("worker-0000000a-0000000c-100-1.jsa", 1000); // the same jar under another JVM
        archive("worker-0000000d-0000000b-100-1.jsa", 1000); // another jar
        archive("worker-bf660ae7-10038833-1796113192685.jsa", 0); // the naming before the JVM was in it
        Files.writeString(cache.resolve("worker-0000000a-0000000b-100-3.log"), "a training run's output");
        ClassDataArchive.prune(cache, "worker-0000000a-0000000b-101-3", ClassDataArchive.MAX_ARCHIVES);
        assertEquals(List.of("worker-0000000a-0000000b-100-3.log", "worker-0000000a-0000000b-101-3.jsa",
                "worker-0000000a-0000000c-100-1.jsa", "worker-0000000d-0000000b-100-1.jsa"), left());
    }

    @Test
    void pastTheBoundTheLeastRecentlyUsedGo() throws IOException {
        for (int i = 1; i <= 6; i++) {
            archive(String.format("worker-%08x-0000000b-100-1.jsa", i), i * 1000L);
        }
        ClassDataArchive.prune(cache, "worker-00000006-0000000b-100-1", 4);
        // the current one (the oldest used here) and the three used most recently
        assertEquals(List.of("worker-00000001-0000000b-100-1.jsa", "worker-00000002-0000000b-100-1.jsa",
                "worker-00000003-0000000b-100-1.jsa", "worker-00000006-0000000b-100-1.jsa"), left());
    }
}
