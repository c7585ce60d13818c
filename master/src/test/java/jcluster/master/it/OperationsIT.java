package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Reload, scaling, hung and crashing workers, under real load and real signals. */
@Timeout(180)
class OperationsIT {

    static long count(String text, String needle) {
        return text.lines().filter(l -> l.contains(needle)).count();
    }

    @Test
    void aReloadDuringAReloadIsQueued() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            c.signal("HUP");
            // Signals of one kind that arrive before the first is handled merge into one (POSIX): the next ones
            // are sent once the first reload is under way.
            c.awaitStatus(s -> Cluster.flag(s, "reloading") && Cluster.field(s, "generation") == 2,
                    Duration.ofSeconds(10), "reload to generation 2 not under way");
            c.signal("HUP");
            c.signal("HUP");
            // replaced one at a time, sampled all along: never more than one new worker starting at once, never
            // more than one worker beyond the two wanted, and never fewer than two serving once a new one is READY
            int[] most = new int[2];
            c.awaitStatus(s -> {
                List<String> states = Cluster.states(s);
                most[0] = Math.max(most[0], (int) states.stream().filter("STARTING"::equals).count());
                most[1] = Math.max(most[1], (int) states.stream().filter(st -> !st.equals("DRAINING")).count());
                return "generation 3 complete".equals(Cluster.text(s, "lastReload"));
            }, Duration.ofSeconds(30), "the queued reload did not run");
            assertEquals(1, most[0], "new workers started one at a time");
            assertEquals(3, most[1], "at most one worker beyond the wanted two, not counting those draining");
            assertEquals(3, Cluster.field(c.status(), "generation"), "two HUPs during a reload queue one reload");
            assertEquals(200, Http.get(c.port, "/").status());
        }
    }

    @Test
    void aReloadWhoseNewWorkersCannotStartKeepsTheOldOnesServing() throws Exception {
        // the master runs from a copy of the jar; a broken "new version" makes every new worker fail to start
        Path dir = TestFiles.dir("jcluster-reload");
        Path jar = Files.copy(Cluster.JAR, dir.resolve("master.jar"));
        try (Cluster c = Cluster.startWithJar(jar, "--workers=2")) {
            c.expectErrors();
            List<Long> before = c.workerPids();
            // deployed as a deploy must be: a new file renamed over the old (the running master keeps its inode)
            Path broken = Files.write(dir.resolve("broken.jar"), new byte[] {1, 2, 3});
            Files.move(broken, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            // reload --wait (as the systemd unit's ExecReload=) fails, and says why
            CliIT.assertOneLineError(CliIT.run("reload", "--wait", "--runtime-dir=" + c.runtimeDir), 1,
                    "generation 2 aborted: worker 3 (pid ", "gen 2) exited with code 1 before it was ready");
            for (int i = 0; i < 4; i++) {
                assertEquals(200, Http.get(c.port, "/").status());
            }
            assertEquals(before, c.workerPids(), "the old workers keep serving");
            CliIT.Result status = CliIT.run("status", "--runtime-dir=" + c.runtimeDir);
            assertTrue(status.out().contains("last reload: generation 2 aborted"), status.out());
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    @Test
    void ttinAndTtouScaleTheWorkers() throws Exception {
        try (Cluster c = Cluster.start("--workers=1")) {
            // one signal at a time: signals of one kind sent before the first is handled merge into one (POSIX)
            for (int n = 2; n <= 3; n++) {
                c.signal("TTIN");
                int wanted = n;
                Cluster.await(() -> servingPids(c).size() == wanted, Duration.ofSeconds(20),
                        () -> "not scaled up to " + wanted + ":\n" + c.logText());
            }
            for (int n = 2; n >= 1; n--) {
                c.signal("TTOU");
                int wanted = n;
                Cluster.await(() -> c.workerPids().size() == wanted, Duration.ofSeconds(20),
                        () -> "not scaled down to " + wanted + ":\n" + c.logText());
            }
            c.signal("TTOU"); // not below one
            c.awaitLog("not scaling below 1 worker", Duration.ofSeconds(5));
            assertEquals(200, Http.get(c.port, "/").status());
        }
    }

    @Test
    void killingARandomWorkerEverySecondUnderLoadKeepsTheServerAnswering() throws Exception {
        try (Cluster c = Cluster.start("--workers=3", "--min-uptime=100ms")) {
            c.expectErrors();
            Random random = new Random(42);
            long failuresAllowed = 0;
            try (Load load = new Load(c.port, 6)) {
                load.awaitProgress(300);
                for (int i = 0; i < 4; i++) {
                    List<Long> pids = c.workerPids();
                    Cluster.kill("KILL", pids.get(random.nextInt(pids.size())));
                    // only requests in flight on the killed worker may fail: at most one per client
                    failuresAllowed += 6;
                    Thread.sleep(1000);
                    long okBefore = load.ok.get();
                    load.awaitProgress(50);
                    assertTrue(load.ok.get() > okBefore, "the server keeps answering");
                }
                load.stop();
                assertTrue(load.failures.size() <= failuresAllowed, "failures: " + load.failures);
            }
            Cluster.await(() -> servingPids(c).size() == 3, Duration.ofSeconds(20),
                    () -> "worker count did not return to 3:\n" + c.logText());
        }
    }

    @Test
    void aStoppedWorkerGetsNoNewConnectionsAndIsReplacedAfterTheWorkerTimeout() throws Exception {
        try (Cluster c = Cluster.start("--workers=2", "--worker-timeout=3s")) {
            c.expectErrors();
            long frozen = c.workerPids().get(0);
            Cluster.freeze(frozen);
            c.awaitStatus(s -> Cluster.pidsIn(s, "SUSPECT").contains(frozen), Duration.ofSeconds(5),
                    "the stopped worker is not SUSPECT");
            for (int i = 0; i < 10; i++) {
                Http.Response r = Http.get(c.port, "/worker");
                assertEquals(200, r.status());
                assertNotEquals(frozen, r.pid(), "a SUSPECT worker gets no new connections");
            }
            Cluster.await(() -> !c.workerPids().contains(frozen) && servingPids(c).size() == 2,
                    Duration.ofSeconds(10), () -> "the stopped worker was not replaced:\n" + c.logText());
            assertEquals(1, Cluster.field(c.status(), "timeouts"));
        }
    }

    @Test
    void aHungWorkerLeavesAThreadDumpBeforeItIsReplaced() throws Exception {
        try (Cluster c = Cluster.start("--workers=2", "--worker-timeout=2s"); Http h = new Http(c.port)) {
            c.expectErrors();
            long hung = h.get("/worker").pid();
            h.send("GET /compute?ms=10000 HTTP/1.1\r\nHost: x\r\n\r\n");
            Cluster.await(() -> !c.workerPids().contains(hung), Duration.ofSeconds(10),
                    () -> "the hung worker was not replaced:\n" + c.logText());
            c.awaitLog("Full thread dump", Duration.ofSeconds(2));
            String log = c.logText();
            assertTrue(log.contains("jcluster.worker.DefaultApp.compute"), "the dump shows where it hung");
            assertTrue(log.lines().filter(l -> l.contains("Full thread dump"))
                    .allMatch(l -> l.contains("pid=" + hung)), "dump lines are tagged with the worker");
            Cluster.await(() -> servingPids(c).size() == 2, Duration.ofSeconds(10), () -> "not replaced");
        }
    }

    @Test
    void maxRequestsRecyclesWorkersOneAtATimeWithoutAFailedRequest() throws Exception {
        try (Cluster c = Cluster.start("--workers=2", "--max-requests=300", "--max-requests-jitter=50")) {
            List<Long> before = c.workerPids();
            try (Load load = new Load(c.port, 6)) {
                // each of the two first workers once
                Cluster.await(() -> Cluster.field(c.status(), "recycled") >= 2, Duration.ofSeconds(60),
                        () -> "not recycled:\n" + c.logText());
                load.stop();
                assertEquals(List.of(), load.failures, "failed requests while recycling");
            }
            assertTrue(c.logText().contains("(--max-requests)"));
            Cluster.await(() -> c.workerPids().stream().noneMatch(before::contains), Duration.ofSeconds(10),
                    () -> "the first workers were not recycled");
        }
    }

    @Test
    void maxMemoryRecyclesWorkersOneAtATimeWithoutAFailedRequest() throws Exception {
        // every JVM is over 1 MiB: the workers are replaced over and over, one at a time, under load
        try (Cluster c = Cluster.start("--workers=2", "--max-memory=1m")) {
            // one at a time: never more than one recycled worker draining (or exiting) while its replacement
            // starts, so never more than 3 worker processes, sampled all along
            java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
            try (Load load = new Load(c.port, 6)) {
                Cluster.await(() -> {
                    most.accumulateAndGet(c.workerPids().size(), Math::max);
                    return Cluster.field(c.status(), "recycled") >= 3;
                }, Duration.ofSeconds(60), () -> "not recycled:\n" + c.logText());
                load.stop();
                assertEquals(List.of(), load.failures, "failed requests while recycling");
                assertTrue(load.ok.get() > 100);
            }
            assertTrue(c.logText().contains("over --max-memory"));
            assertTrue(most.get() <= 3, "at most one extra worker during a recycle; saw " + most.get());
        }
    }

    @Test
    void newWorkersStartFromTheClassDataArchiveOnceItIsMade() throws Exception {
        // the tests' own cache (TestFiles.CACHE is every master's XDG_CACHE_HOME), never the user's
        Path cache = TestFiles.CACHE.resolve("jcluster");
        // the archive of this jar as it is now (its names end with the jar's size and modification time), not one
        // another test's master left in the shared cache for another jar
        String suffix = "-" + Files.size(Cluster.JAR) + "-" + Files.getLastModifiedTime(Cluster.JAR).toMillis()
                + ".jsa";
        try (Cluster c = Cluster.start("--workers=1")) {
            Cluster.await(() -> {
                try {
                    return TestFiles.list(cache).stream().anyMatch(n -> n.startsWith("worker-") && n.endsWith(suffix));
                } catch (IOException e) {
                    return false;
                }
            }, Duration.ofSeconds(60), () -> "no archive in " + cache + ":\n" + c.logText());
            List<Long> before = c.workerPids();
            c.signal("TTIN");
            Cluster.await(() -> servingPids(c).size() == 2, Duration.ofSeconds(20), () -> "not scaled up");
            long added = c.workerPids().stream().filter(p -> !before.contains(p)).findFirst().orElseThrow();
            String cmdline = Files.readString(Path.of("/proc/" + added + "/cmdline")).replace('\0', ' ');
            assertTrue(cmdline.contains("-XX:SharedArchiveFile=" + cache), cmdline);
            assertFalse(c.logText().contains("[warning][cds]"), "the archive maps cleanly");
        }
    }

    /**
     * A deploy makes a new class-data archive and removes the one it replaces: the cache holds one archive per jar
     * (and JVM), however many deploys there were.
     */
    @Test
    void aDeployReplacesItsJarsClassDataArchive() throws Exception {
        Path cache = TestFiles.CACHE.resolve("jcluster");
        Path dir = TestFiles.dir("jcluster-deploy");
        Path jar = Files.copy(Cluster.JAR, dir.resolve("master.jar"));
        Set<String> others = TestFiles.list(cache);
        try (Cluster c = Cluster.startWithJar(jar, "--workers=1")) {
            Cluster.await(() -> archivesBesides(cache, others).size() == 1, Duration.ofSeconds(60),
                    () -> "no archive for the copy in " + cache + ":\n" + c.logText());
            Set<String> first = archivesBesides(cache, others);
            for (int deploy = 1; deploy <= 2; deploy++) {
                // a new build of the same jar: another modification time, renamed into place
                Path next = Files.copy(Cluster.JAR, dir.resolve("master.jar.new"));
                Files.setLastModifiedTime(next, java.nio.file.attribute.FileTime.fromMillis(
                        System.currentTimeMillis() + deploy * 60_000L));
                Files.move(next, jar, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                c.signal("HUP");
                int done = deploy;
                Cluster.await(() -> count(c.logText(), "class-data archive for workers ready") > done,
                        Duration.ofSeconds(60), () -> "no new archive after deploy " + done + ":\n" + c.logText());
                Set<String> now = archivesBesides(cache, others);
                assertEquals(1, now.size(), "one archive for the jar after deploy " + deploy + ": " + now);
                assertFalse(now.containsAll(first), "the old one is gone: " + now);
                first = now;
            }
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    private static Set<String> archivesBesides(Path cache, Set<String> others) {
        try {
            Set<String> s = new HashSet<>(TestFiles.list(cache));
            s.removeAll(others);
            s.removeIf(n -> !n.endsWith(".jsa"));
            return s;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The pids that answer /worker on new connections, once every live worker is among them. */
    static Set<Long> servingPids(Cluster c) {
        Set<Long> seen = new HashSet<>();
        List<Long> live = c.workerPids();
        try {
            for (int i = 0; i < live.size() * 3 && !seen.containsAll(live); i++) {
                seen.add(Http.get(c.port, "/worker").pid());
            }
        } catch (IOException e) {
            return Set.of();
        }
        return seen.containsAll(live) && live.containsAll(seen) ? seen : Set.of();
    }
}
