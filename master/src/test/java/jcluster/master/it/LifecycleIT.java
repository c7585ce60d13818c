package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Start-up, shutdown and the death of the master, with real signals. */
@Timeout(120)
class LifecycleIT {

    @Test
    void sigtermLetsAnInFlightRequestFinishThenExitsZeroLeavingNothing() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            List<Long> workers = c.workerPids();
            try (Http h = new Http(c.port)) {
                h.send("GET /compute?ms=2000 HTTP/1.1\r\nHost: x\r\n\r\n");
                Thread.sleep(500);
                c.signal("TERM");
                Http.Response r = h.read(false);
                assertEquals(200, r.status());
                assertTrue(r.text().startsWith("computed 2000 ms"), r.text());
                assertTrue(h.closedByServer(), "a draining worker closes the connection after the response");
            }
            assertEquals(0, c.awaitExit(Duration.ofSeconds(15)));
            Cluster.await(() -> workers.stream().noneMatch(p -> ProcessHandle.of(p).isPresent()),
                    Duration.ofSeconds(5), () -> "workers outlived the master");
            assertFalse(Files.exists(c.runtimeDir), "runtime directory removed");
            assertThrows(IOException.class, () -> Http.get(c.port, "/"), "nothing listens any more");
        }
    }

    @Test
    void idleKeepAliveConnectionsDoNotHoldUpShutdown() throws Exception {
        try (Cluster c = Cluster.start("--workers=2"); Http idle = new Http(c.port)) {
            assertEquals(200, idle.get("/").status());
            long start = System.nanoTime();
            c.signal("TERM");
            assertEquals(0, c.awaitExit(Duration.ofSeconds(10)));
            assertTrue((System.nanoTime() - start) / 1_000_000 < 5000, "shutdown waited on an idle connection");
            assertTrue(idle.closedByServer());
        }
    }

    @Test
    void aSecondSigtermStopsWithoutWaitingForInFlightRequests() throws Exception {
        try (Cluster c = Cluster.start("--workers=1"); Http h = new Http(c.port)) {
            c.expectErrors();
            h.send("GET /compute?ms=8000 HTTP/1.1\r\nHost: x\r\n\r\n");
            Thread.sleep(300);
            long start = System.nanoTime();
            c.signal("TERM");
            c.awaitLog("shutting down", Duration.ofSeconds(5));
            c.signal("TERM");
            assertEquals(0, c.awaitExit(Duration.ofSeconds(5)));
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < 4000, "stopped after " + ms + " ms, not after the 8 s request");
            assertTrue(h.closedByServer());
        }
    }

    @Test
    void workersLeaveWhenTheMasterIsKilled() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            List<Long> workers = c.workerPids();
            assertEquals(2, workers.size());
            c.signal("KILL");
            Cluster.await(() -> workers.stream().noneMatch(p -> ProcessHandle.of(p).isPresent()),
                    Duration.ofSeconds(5), () -> "workers still alive 5 s after the master died:\n" + c.logText());
            // (what they log meanwhile is lost with the master, which relayed their output)
        }
    }

    @Test
    void masterGivesUpWhenWorkersCannotStart() throws Exception {
        try (Cluster c = Cluster.launch("--workers=1", "--worker-jvm-opts=-XX:+NoSuchJvmFlag")) {
            c.expectErrors();
            assertEquals(3, c.awaitExit(Duration.ofSeconds(60)));
            assertTrue(c.logText().contains("5 unstable worker deaths in a row"), c.logText());
            assertTrue(c.logText().contains("its last output:"), "the worker's own words are in the log");
            assertTrue(c.logText().contains("Unrecognized VM option 'NoSuchJvmFlag'"), c.logText());
            assertFalse(Files.exists(c.runtimeDir), "runtime directory removed");
        }
    }

    @Test
    void staleRuntimeDirectoryFromACrashedRunDoesNotBlockStartUp() throws Exception {
        try (Cluster first = Cluster.start("--workers=1")) {
            first.signal("KILL");
            first.awaitExit(Duration.ofSeconds(5));
            java.nio.file.Path dir = first.runtimeDir;
            assertTrue(Files.exists(dir.resolve("handoff.sock")), "a crash leaves the socket behind");
            try (Cluster second = Cluster.startAt(first.port, dir, "--workers=1")) {
                assertEquals(200, Http.get(second.port, "/").status());
                assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(dir)));
                assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(dir.resolve("handoff.sock"))));
            }
        }
    }
}
