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
            assertEquals(5, c.awaitExit(Duration.ofSeconds(5)), "a stop that cut a request is not a clean one");
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < 4000, "stopped after " + ms + " ms, not after the 8 s request");
            assertTrue(h.closedByServer());
        }
    }

    @Test
    void aShutdownTimeoutThatCutsARequestExitsFive() throws Exception {
        try (Cluster c = Cluster.start("--workers=1", "--shutdown-timeout=1s"); Http h = new Http(c.port)) {
            c.expectErrors();
            h.send("GET /compute?ms=6000&offload=1 HTTP/1.1\r\nHost: x\r\n\r\n");
            Cluster.await(() -> Cluster.field(c.status(), "inFlight") == 1, Duration.ofSeconds(5),
                    () -> "the request is not in flight: " + c.status());
            c.signal("TERM");
            assertEquals(5, c.awaitExit(Duration.ofSeconds(10)));
            assertTrue(h.closedByServer(), "the request was cut");
        }
    }

    /**
     * SIGTERM to a worker (kill, a supervisor, a script) drains it like the master's DRAIN: its request finishes,
     * it exits 0 unkilled, and it is replaced at once, which counts as no crash. Three times, since a race made it
     * pass one time in three.
     */
    @Test
    void aWorkerSentSigtermDrainsAndIsReplacedWithoutBeingKilledOrCountedAsACrash() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            for (int i = 0; i < 3; i++) {
                List<Long> before = c.awaitReadyWorkers(2, Duration.ofSeconds(20));
                try (Http h = new Http(c.port)) {
                    long victim = h.get("/worker").pid();
                    h.send("GET /compute?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n");
                    Thread.sleep(100);
                    Cluster.kill("TERM", victim);
                    Http.Response r = h.read(false);
                    assertEquals(200, r.status(), "the request in flight finishes");
                    assertTrue(h.closedByServer(), "then the draining worker closes the connection");
                    Cluster.await(() -> ProcessHandle.of(victim).isEmpty(), Duration.ofSeconds(10),
                            () -> "worker " + victim + " did not exit");
                    List<Long> after = c.awaitReadyWorkers(2, Duration.ofSeconds(20));
                    assertFalse(after.contains(victim));
                    assertTrue(after.stream().anyMatch(p -> !before.contains(p)), "a replacement serves");
                }
                assertEquals(0, Cluster.field(c.status(), "restarts"), "a drained worker is no crash");
            }
            String log = c.logText();
            assertFalse(log.contains("killed by signal"), log);
            assertEquals(List.of(), log.lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList());
            assertEquals(3, log.lines().filter(l -> l.contains("drains on its own (SIGTERM)")).count(), log);
        }
    }

    /** Every signal that would end a JVM: trapped and acted on by the master, or logged and ignored by both. */
    @Test
    void straySignalsEndNeitherTheMasterNorItsWorkers() throws Exception {
        String[] stray = {"USR1", "USR2", "ALRM", "VTALRM", "PROF", "IO", "PWR", "STKFLT", "XCPU", "SYS", "TRAP"};
        try (Cluster c = Cluster.start("--workers=1")) {
            long worker = c.workerPids().get(0);
            for (String sig : stray) {
                c.signal(sig);
                Cluster.kill(sig, worker);
            }
            // the master's own signals are the master's: a worker ignores them
            for (String sig : new String[] {"HUP", "TTIN", "TTOU"}) {
                Cluster.kill(sig, worker);
            }
            Cluster.await(() -> c.logText().lines().filter(l -> l.contains("[worker-1 ") && l.contains("ignoring SIG"))
                    .count() == stray.length + 3, Duration.ofSeconds(10), () -> "worker log:\n" + c.logText());
            Cluster.await(() -> c.logText().lines().filter(l -> l.contains("[master ") && l.contains(": SIG")
                    || l.contains("ignoring SIG") && l.contains("[master ")).count() == stray.length,
                    Duration.ofSeconds(10), () -> "master log:\n" + c.logText());
            assertEquals(List.of(worker), c.awaitReadyWorkers(1, Duration.ofSeconds(5)));
            assertEquals(200, Http.get(c.port, "/").status());
            String status = c.status();
            assertEquals(0, Cluster.field(status, "restarts"));
            assertEquals(1, Cluster.field(status, "generation"), "a HUP to a worker is not a reload");
            assertEquals(1, Cluster.field(status, "desired"), "nor TTIN a scale-up");
            c.signal("TERM");
            assertEquals(0, c.awaitExit(Duration.ofSeconds(15)));
            assertFalse(Files.exists(c.runtimeDir), "runtime directory removed");
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
