package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Start-up, shutdown and the death of the master, with real signals. */
@Timeout(120)
class LifecycleIT {

    @Test
    void sigtermLetsAnInFlightRequestFinishThenExitsZeroLeavingNothing() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            List<Long> workers = c.workerPids();
            try (Http h = new Http(c.port)) {
                h.send("GET /compute?ms=2000&offload=1 HTTP/1.1\r\nHost: x\r\n\r\n");
                c.awaitInFlight(1);
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
            h.send("GET /compute?ms=8000&offload=1 HTTP/1.1\r\nHost: x\r\n\r\n");
            c.awaitInFlight(1);
            long start = System.nanoTime();
            c.signal("TERM");
            c.awaitStatus(s -> Cluster.flag(s, "draining"), Duration.ofSeconds(5), "not shutting down");
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
            c.awaitInFlight(1);
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
                    h.send("GET /compute?ms=1500&offload=1 HTTP/1.1\r\nHost: x\r\n\r\n");
                    c.awaitInFlight(1);
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
        String[] stray = {"USR1", "ALRM", "VTALRM", "PROF", "IO", "PWR", "STKFLT", "XCPU", "SYS", "TRAP"};
        try (Cluster c = Cluster.start("--workers=1")) {
            long worker = c.workerPids().get(0);
            for (String sig : stray) {
                c.signal(sig);
                Cluster.kill(sig, worker);
            }
            // the master's own signals are the master's: a worker ignores them
            for (String sig : new String[] {"HUP", "TTIN", "TTOU", "USR2"}) {
                Cluster.kill(sig, worker);
            }
            Cluster.await(() -> c.logText().lines().filter(l -> l.contains("[worker-1 ") && l.contains("ignoring SIG"))
                    .count() == stray.length + 4, Duration.ofSeconds(10), () -> "worker log:\n" + c.logText());
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
    void withoutAnOrphanTimeoutWorkersLeaveAtOnceWhenTheMasterIsKilled() throws Exception {
        try (Cluster c = Cluster.start("--workers=2", "--orphan-timeout=0")) {
            List<Long> workers = c.workerPids();
            assertEquals(2, workers.size());
            c.signal("KILL");
            Cluster.await(() -> workers.stream().noneMatch(p -> ProcessHandle.of(p).isPresent()),
                    Duration.ofSeconds(5), () -> "workers still alive 5 s after the master died:\n" + c.logText());
            // (what they log meanwhile is lost with the master, which relayed their output)
        }
    }

    /**
     * Workers that die before READY five times in a row: the master gives up with exit 3. (A JVM option the JVM
     * refuses no longer gets that far: the master checks --worker-jvm-opts once, see CliIT. Without Netty's native
     * transport the JVM starts, and the worker cannot.)
     */
    @Test
    void masterGivesUpWhenWorkersCannotStart() throws Exception {
        try (Cluster c = Cluster.launch("--workers=1", "--restart-delay=10ms",
                "--worker-jvm-opts=-XX:+UseSerialGC -Dio.netty.transport.noNative=true")) {
            c.expectErrors();
            assertEquals(3, c.awaitExit(Duration.ofSeconds(60)));
            String log = c.logText();
            assertTrue(log.contains("5 unstable worker deaths in a row"), log);
            assertTrue(log.contains("exited with code 1; respawning in"), "the action, then the worker's words: " + log);
            assertTrue(log.lines().anyMatch(l -> l.contains("[master pid=") && l.contains("worker 5 output: ")
                    && l.contains("could not start: java.lang.UnsatisfiedLinkError")), "each line tagged: " + log);
            assertFalse(log.contains("\tat "), "no stack trace: " + log);
            assertFalse(Files.exists(c.runtimeDir), "runtime directory removed");
        }
    }

    /** A crash leaves sockets and claim files; the next start clears them, and a clean stop removes it all. */
    @Test
    void startUpClearsWhatACrashedRunLeftAndACleanStopRemovesTheDirectory() throws Exception {
        try (Cluster first = Cluster.start("--workers=2", "--orphan-timeout=0")) {
            List<Long> workers = first.workerPids();
            first.signal("KILL");
            first.awaitExit(Duration.ofSeconds(5));
            Cluster.await(() -> workers.stream().noneMatch(p -> ProcessHandle.of(p).isPresent()),
                    Duration.ofSeconds(10), () -> "the workers of a killed master linger");
            java.nio.file.Path dir = first.runtimeDir;
            assertEquals(Set.of("claims-1", "claims-2", "control.sock", "handoff.sock"), TestFiles.list(dir),
                    "what a crash leaves");
            try (Cluster second = Cluster.startAt(first.port, dir, "--workers=1")) {
                assertEquals(200, Http.get(second.port, "/").status());
                assertEquals(Set.of("claims-1", "control.sock", "handoff.sock"), TestFiles.list(dir),
                        "only the second run's files");
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
                for (String f : TestFiles.list(dir)) {
                    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                            dir.resolve(f))), f);
                }
                second.signal("TERM");
                assertEquals(0, second.awaitExit(Duration.ofSeconds(15)));
                assertFalse(Files.exists(dir), "a clean stop removes the runtime directory");
            }
        }
    }

    @Test
    void aRuntimeDirectoryHoldingFilesTheServerDidNotMakeIsRefusedAndLeftAlone() throws Exception {
        java.nio.file.Path dir = Files.createDirectory(TestFiles.dir("jcluster-it").resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.writeString(dir.resolve("notes.txt"), "mine");
        try (Cluster c = Cluster.launchAt(dir, "--workers=1")) {
            assertEquals(1, c.awaitExit(Duration.ofSeconds(20)));
            String out = c.logText().strip();
            assertEquals("master: runtime directory " + dir + " holds files this server did not make (notes.txt); "
                    + "remove them or choose another --runtime-dir", out);
            assertEquals("mine", Files.readString(dir.resolve("notes.txt")));
        } finally {
            TestFiles.deleteTree(dir.getParent());
        }
    }

    @Test
    void aRuntimeDirectoryALiveMasterUsesIsRefused() throws Exception {
        try (Cluster a = Cluster.start("--workers=1"); Cluster b = Cluster.launchAt(a.runtimeDir, "--workers=1")) {
            assertEquals(1, b.awaitExit(Duration.ofSeconds(20)));
            assertEquals("master: runtime directory " + a.runtimeDir + " is in use by a running master (its control "
                    + "socket answers); stop it or choose another --runtime-dir", b.logText().strip());
            assertEquals(200, Http.get(a.port, "/").status());
            assertEquals(a.pid(), Cluster.field(a.status(), "pid"), "the first master's sockets are untouched");
        }
    }

    /**
     * Every line names its process and its time with an offset; DEBUG accounts for dispatch once a second, per
     * worker, and writes no line per request.
     */
    @Test
    void logLinesCarryTheirOffsetAndDebugAccountsOnceASecondNotPerRequest() throws Exception {
        try (Cluster c = Cluster.startWithJvmOptions(List.of("-Djcluster.log.level=DEBUG"), "--workers=2",
                "--dispatch=round-robin")) {
            for (int i = 0; i < 300; i++) {
                try (Http h = new Http(c.port)) {
                    h.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                    assertEquals(200, h.read(false).status());
                }
            }
            java.util.regex.Pattern account = java.util.regex.Pattern.compile(
                    // a period may see one worker or both
                    "last \\d+ ms: (\\d+) accepted, (\\d+) handed off \\(worker \\d+: \\d+(, worker \\d+: \\d+)?\\)");
            Cluster.await(() -> c.logText().lines().map(account::matcher).filter(java.util.regex.Matcher::find)
                    .mapToLong(m -> Long.parseLong(m.group(1))).sum() == 300, Duration.ofSeconds(5),
                    () -> "the accounts do not add up to 300 connections:\n" + c.logText());
            // each worker accounts once a second, on its own clock
            Cluster.await(() -> c.logText().lines().filter(l -> l.contains(" DEBUG [worker-")).anyMatch(l -> l.contains(
                    "connection(s) received")), Duration.ofSeconds(5), () -> "the workers do not account");
            List<String> lines = c.logText().lines().toList();
            long debug = lines.stream().filter(l -> l.contains(" DEBUG ")).count();
            assertTrue(debug < 60, debug + " DEBUG lines for 300 requests: one per request, or nearly");
            java.util.regex.Pattern stamped = java.util.regex.Pattern.compile(
                    "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) [A-Z]+ +\\[(master|worker-\\d+) pid=\\d+\\] .*");
            for (String l : lines) {
                assertTrue(stamped.matcher(l).matches(), "not ISO 8601 with an offset, or not tagged: " + l);
            }
        }
    }
}
