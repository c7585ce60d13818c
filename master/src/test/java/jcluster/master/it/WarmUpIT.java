package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * --warm-up: a new worker serves itself before READY, and leaves nothing of it behind: not a request in the counts
 * or the access log, not a listening socket, not an fd, not a buffer. An app that fails the warm-up is still served; bad values
 * are refused in one line.
 */
@Timeout(90)
class WarmUpIT {
    private static final Pattern WARMED = Pattern.compile("worker 1 warmed up: (\\d+) requests of GET / in \\d+ ms");

    @Test
    void aWorkerWarmsUpBeforeReadyAndLeavesNoTrace() throws Exception {
        Path accessLog = TestFiles.file("jcluster-warm", ".log");
        try (Cluster warm = Cluster.start("--workers=1", "--warm-up=5s", "--warm-up-path=/",
                "--access-log=" + accessLog, Cluster.LEAK_CHECKED_WORKERS);
             Cluster cold = Cluster.start("--workers=1", "--warm-up=0", "--access-log=" + accessLog)) {
            Matcher m = WARMED.matcher(warm.logText());
            assertTrue(m.find(), warm.logText());
            assertTrue(Long.parseLong(m.group(1)) >= 1000, m.group());
            assertFalse(cold.logText().contains("warmed up"), cold.logText());
            long worker = warm.workerPids().get(0);
            // the warm-up's requests were the worker's own: the counts and the access log have the clients' alone
            assertEquals("", Files.readString(accessLog));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, Http.get(warm.port, "/").status());
            }
            warm.awaitStatus(s -> Cluster.field(s, "requests") == 3, Duration.ofSeconds(10), "3 requests counted");
            assertEquals(3, Files.readAllLines(accessLog).size());
            // its listener was there only while it connected: the worker listens on nothing, and holds the fds a
            // worker that did not warm up holds
            assertEquals(Set.of(), Cluster.listeningAmong(Cluster.socketInodes(worker)));
            long coldWorker = cold.workerPids().get(0);
            assertEquals(ClusterIT.fdCount(coldWorker), ClusterIT.fdCount(worker),
                    "fds of a warmed worker " + fds(worker) + " against a cold one's " + fds(coldWorker));
            // and not a buffer of its hundred thousand requests is left unreleased
            warm.assertNoLeaks();
        } finally {
            Files.deleteIfExists(accessLog);
        }
    }

    @Test
    void aWarmUpPathTheAppFailsLeavesTheWorkerServingCold() throws Exception {
        try (Cluster c = Cluster.start("--workers=1", "--app-jar=" + Cluster.EXAMPLE_JAR, "--warm-up=5s",
                "--warm-up-path=/boom")) {
            c.expectErrors();
            assertTrue(c.logText().contains("worker 1 warm-up stopped after 0 requests of GET /boom"), c.logText());
            assertTrue(c.logText().contains("HTTP/1.1 500"), c.logText());
            Http.Response r = Http.get(c.port, "/");
            assertEquals(200, r.status());
            assertTrue(r.text().startsWith("Hello from hello-app"), r.text());
        }
    }

    @Test
    void badValuesAreRefusedInOneLine() throws Exception {
        CliIT.assertOneLineError(CliIT.run("--warm-up-path=health"), 2, "--warm-up-path", "starts with /");
        CliIT.assertOneLineError(CliIT.run("--warm-up=30s"), 2, "--warm-up must be shorter than --boot-timeout");
    }

    private static List<String> fds(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.map(p -> {
                try {
                    return Files.readSymbolicLink(p).toString();
                } catch (IOException e) {
                    return "?";
                }
            }).sorted().toList();
        }
    }
}
