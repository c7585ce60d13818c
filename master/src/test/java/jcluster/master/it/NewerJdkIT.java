package jcluster.master.it;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The same jar (built for 17) on a newer JVM where the machine has one (JDK 25, as Temurin's package installs
 * it, or -Djcluster.newer.java=BINARY): the workers start from an AOT cache made once for the jar, and neither the
 * master nor any worker prints a line of JVM warning, before or after the cache exists.
 */
@Timeout(120)
class NewerJdkIT {
    static final Path JAVA = Path.of(System.getProperty("jcluster.newer.java",
            "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"));

    @Test
    void workersStartFromAnAotCacheAndNoJvmWarnsAtAll() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(JAVA), "no newer JDK at " + JAVA);
        // a cache of its own: the other tests look for their JVM's archive of this same jar in the shared one
        Path home = TestFiles.dir("jcluster-newer-jdk");
        Path cache = home.resolve("jcluster");
        try (Cluster c = Cluster.startOn(JAVA, java.util.Map.of("XDG_CACHE_HOME", home.toString()), "--workers=1")) {
            c.awaitLog("class-data archive for workers ready", Duration.ofSeconds(90));
            List<Long> before = c.workerPids();
            c.signal("TTIN");
            c.awaitReadyWorkers(2, Duration.ofSeconds(30));
            long added = c.workerPids().stream().filter(p -> !before.contains(p)).findFirst().orElseThrow();
            String cmdline = Files.readString(Path.of("/proc/" + added + "/cmdline")).replace('\0', ' ');
            assertTrue(cmdline.contains("-XX:AOTCache=" + cache), cmdline);
            assertEquals(200, Http.get(c.port, "/").status());
            String log = c.logText();
            for (String line : log.lines().toList()) {
                assertFalse(line.contains("WARNING") || line.contains("[warning]") || line.contains("[error]"),
                        "a JVM spoke up: " + line + "\n" + log);
            }
        } finally {
            TestFiles.deleteTree(home);
        }
    }
}
