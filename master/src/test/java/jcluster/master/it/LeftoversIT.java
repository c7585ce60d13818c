package jcluster.master.it;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs after every other process test (junit-platform.properties orders classes by @Order): what the suite made is
 * gone. No master or worker is left running, nothing of the tests' is left in /tmp (the test directory itself
 * goes when this JVM exits), and the user's class-data cache holds exactly what it held before.
 */
@Order(Integer.MAX_VALUE)
@Timeout(60)
class LeftoversIT {

    @Test
    void noProcessOfTheSuiteIsLeftRunning() {
        Cluster.await(() -> suiteProcesses().isEmpty(), Duration.ofSeconds(20),
                () -> "still running: " + suiteProcesses());
    }

    private static List<String> suiteProcesses() {
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses().filter(p -> p.pid() != self).map(p -> {
            try {
                return p.pid() + " " + Files.readString(Path.of("/proc/" + p.pid() + "/cmdline"),
                        StandardCharsets.ISO_8859_1).replace('\0', ' ');
            } catch (IOException e) {
                return "";
            }
        }).filter(c -> c.contains(Cluster.JAR.toString()) || c.contains(TestFiles.ROOT.toString())).toList();
    }

    @Test
    void nothingIsLeftInTmp() throws IOException {
        Set<String> added = new TreeSet<>(TestFiles.list(TestFiles.TMP));
        added.removeAll(TestFiles.TMP_BEFORE);
        added.remove(TestFiles.ROOT.getFileName().toString());
        added.removeIf(n -> !(n.startsWith("jcluster") || n.startsWith("cli") || n.startsWith("claims")
                || n.startsWith("hsperfdata_") || n.startsWith("org.chromium.") || n.endsWith(".log")));
        assertEquals(Set.of(), added, "left in " + TestFiles.TMP);
        assertEquals(Set.of("cache"), TestFiles.list(TestFiles.ROOT), "left by a test in " + TestFiles.ROOT);
    }

    @Test
    void theUsersClassDataCacheIsUntouched() throws IOException {
        assertEquals(TestFiles.USER_CACHE_BEFORE, TestFiles.list(TestFiles.userCache()),
                "the masters the tests start use their own cache");
    }
}
