package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The cluster as users see it: spread, stickiness, the single listener, crash containment, fd hygiene. */
@Timeout(120)
class ClusterIT {

    /**
     * Exact while no worker is skipped: with the default 50 ms handoff timeout, a cold worker's first requests on a
     * busy machine can hold its loop long enough to be skipped once, by design, so this takes 1 s.
     */
    @Test
    void withRoundRobinNewConnectionsGoToEveryWorkerInTurn() throws Exception {
        try (Cluster c = Cluster.start("--workers=3", "--dispatch=round-robin", "--handoff-timeout=1s")) {
            List<Long> workers = c.workerPids();
            assertEquals(3, workers.size());
            List<Long> served = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                Http.Response r = Http.get(c.port, "/worker");
                assertEquals(200, r.status());
                served.add(r.pid());
            }
            assertEquals(Set.copyOf(workers), Set.copyOf(served), "every worker serves");
            for (int i = 3; i < served.size(); i++) {
                assertEquals(served.get(i - 3), served.get(i), "exact round-robin: " + served);
            }
            assertTrue(Http.get(c.port, "/worker").text().contains("\"ppid\":" + c.pid()));
        }
    }

    @Test
    void aKeepAliveConnectionStaysOnOneWorker() throws Exception {
        try (Cluster c = Cluster.start("--workers=2"); Http h = new Http(c.port)) {
            Set<Long> pids = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                Http.Response r = h.get("/worker");
                assertEquals(200, r.status());
                assertNull(r.header("connection"));
                pids.add(r.pid());
            }
            assertEquals(1, pids.size());
        }
    }

    /** Every thread of the master and of its workers: the JVM's own (GC, JIT, finalizer) as well as ours. */
    @Test
    void everyThreadOfTheMasterAndItsWorkersRunsUnderTheSchedulingPolicyAsked() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            assertEquals(200, Http.get(c.port, "/").status());
            assertEquals(Set.of(SCHED_BATCH), threadPolicies(c.pid()).keySet(), "master: " + threadPolicies(c.pid()));
            for (long w : c.workerPids()) {
                assertEquals(Set.of(SCHED_BATCH), threadPolicies(w).keySet(), "worker " + w + ": " + threadPolicies(w));
            }
        }
        try (Cluster c = Cluster.start("--workers=1", "--sched=other")) {
            assertEquals(Set.of(SCHED_OTHER), threadPolicies(c.pid()).keySet());
            assertEquals(Set.of(SCHED_OTHER), threadPolicies(c.workerPids().get(0)).keySet());
        }
    }

    private static final int SCHED_OTHER = 0;
    private static final int SCHED_BATCH = 3;

    /** The threads of a process by scheduling policy (field 41 of each thread's /proc stat, sched(7)). */
    private static java.util.Map<Integer, List<String>> threadPolicies(long pid) throws IOException {
        java.util.Map<Integer, List<String>> byPolicy = new java.util.TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    // the fields after the command name, which is in parentheses, start with field 3
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    byPolicy.computeIfAbsent(Integer.parseInt(f[41 - 3]), k -> new ArrayList<>())
                            .add(Files.readString(t.resolve("comm")).strip());
                } catch (java.nio.file.NoSuchFileException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return byPolicy;
    }

    @Test
    void onlyTheMasterListensOnThePort() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            Set<String> inodes = listeningInodes(c.port);
            assertFalse(inodes.isEmpty(), "a listening socket on the port");
            assertTrue(holdsAny(c.pid(), inodes), "the master holds the listener");
            for (long w : c.workerPids()) {
                assertFalse(holdsAny(w, inodes), "worker " + w + " must not hold the listener");
            }
        }
    }

    @Test
    void aKilledWorkerIsReplacedWhileTheOthersServe() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            c.expectErrors();
            List<Long> before = c.workerPids();
            long victim = before.get(0);
            Cluster.kill("KILL", victim);
            // every new connection is answered meanwhile, by the survivor or the replacement
            for (int i = 0; i < 20; i++) {
                assertEquals(200, Http.get(c.port, "/").status());
            }
            Cluster.await(() -> {
                List<Long> now = c.workerPids();
                return now.size() == 2 && !now.contains(victim);
            }, Duration.ofSeconds(10), () -> "no replacement worker; log:\n" + c.logText());
            // its replacement inherits its place's count, as pm2 counts restarts per process
            Cluster.await(() -> c.status().contains("\"restarts\":1,\"connections\""), Duration.ofSeconds(10),
                    c::status);
            assertEquals(1, Cluster.field(c.status(), "restarts"));
            assertTrue(c.logText().contains("(pid " + victim + ", gen 1) was killed by signal 9; respawning in"),
                    "the death is logged with its signal: " + c.logText());
            // the replacement takes its share once READY
            Set<Long> serving = new HashSet<>();
            Cluster.await(() -> {
                try {
                    serving.add(Http.get(c.port, "/worker").pid());
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
                return serving.containsAll(c.workerPids());
            }, Duration.ofSeconds(10), () -> "the replacement serves nothing: " + serving);
        }
    }

    @Test
    void connectionsHandedToAWorkerThatDiesBeforeTakingThemAreServedByAnother() throws Exception {
        // a handoff timeout long enough that the death, not the revocation tick, takes the connections back
        try (Cluster c = Cluster.start("--workers=2", "--dispatch=round-robin", "--handoff-timeout=20s")) {
            c.expectErrors();
            long frozen = Http.get(c.port, "/worker").pid();
            long survivor = Http.get(c.port, "/worker").pid();
            // Frozen, the worker cannot read its fd socket: what the master sends it stays unacknowledged.
            Cluster.freeze(frozen);
            List<CompletableFuture<Http.Response>> clients = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                clients.add(Http.getAsync(c.port, "/worker"));
                Thread.sleep(50);
            }
            Thread.sleep(300);
            long waiting = clients.stream().filter(f -> !f.isDone()).count();
            assertTrue(waiting >= 3, "round-robin gave the frozen worker its share: " + waiting + " waiting");
            Cluster.kill("KILL", frozen);
            for (CompletableFuture<Http.Response> f : clients) {
                Http.Response r;
                try {
                    r = f.get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    // what the master did with the connection is in its log, which close() removes
                    fail("a client failed: " + e.getCause() + "; the master's log:\n" + c.logText());
                    return;
                }
                assertEquals(200, r.status());
                assertEquals(survivor, r.pid(), "answered by the survivor");
            }
            assertTrue(Cluster.field(c.status(), "redispatched") >= waiting, "the frozen worker's connections were re-sent: "
                    + c.status());
        }
    }

    @Test
    void aBusyWorkerDoesNotDelayAConnectionServedByAnother() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            long busyPid = Http.get(c.port, "/worker").pid();
            // round-robin: the next connection goes to the other worker, this one to the first again
            assertNotEquals(busyPid, Http.get(c.port, "/worker").pid());
            CompletableFuture<Http.Response> slow = Http.getAsync(c.port, "/compute?ms=3000");
            Thread.sleep(300);
            long start = System.nanoTime();
            Http.Response fast = Http.get(c.port, "/worker");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertNotEquals(busyPid, fast.pid());
            assertTrue(millis < 1000, "GET / on the free worker took " + millis + " ms");
            assertFalse(slow.isDone(), "the compute request is still running");
            assertEquals(200, slow.get().status());
        }
    }

    @Test
    void theMastersOpenFdsDoNotGrowWithConnections() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            for (int i = 0; i < 100; i++) {
                assertEquals(200, Http.get(c.port, "/").status());
            }
            long before = fdCount(c.pid());
            for (int i = 0; i < 2000; i++) {
                try (Http h = new Http(c.port)) {
                    h.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                    assertEquals(200, h.read(false).status());
                }
            }
            // acks travel asynchronously: let the last ones arrive
            Cluster.await(() -> fdCount(c.pid()) <= before + 2, Duration.ofSeconds(5),
                    () -> "master fds grew from " + before + " to " + fdCount(c.pid()));
        }
    }

    static long fdCount(long pid) {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    /** Socket inodes in LISTEN state on this port, IPv4 or IPv6. */
    static Set<String> listeningInodes(int port) throws IOException {
        Set<String> inodes = new HashSet<>();
        for (Cluster.TcpListener l : Cluster.tcpListeners(port)) {
            inodes.add(l.inode());
        }
        return inodes;
    }

    static boolean holdsAny(long pid, Set<String> inodes) throws IOException {
        return !java.util.Collections.disjoint(Cluster.socketInodes(pid), inodes);
    }
}
