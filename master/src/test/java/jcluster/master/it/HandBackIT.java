package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reload closes no idle keep-alive connection: a draining worker hands each back to the master, which gives it
 * to a worker that stays, and the client never sees a close.
 */
@Timeout(180)
class HandBackIT {

    /** Keep-alive clients that never close: each counts the times the server closed its connection. */
    private static final class Persistent implements AutoCloseable {
        final AtomicLong ok = new AtomicLong();
        final AtomicLong closedByServer = new AtomicLong();
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        /** Per client, the worker pids that served its one connection. */
        final List<Set<Long>> pids = new ArrayList<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();

        Persistent(int port, int clients) {
            for (int i = 0; i < clients; i++) {
                Set<Long> seen = ConcurrentHashMap.newKeySet();
                pids.add(seen);
                Thread t = new Thread(() -> run(port, seen), "persistent-" + i);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
        }

        private void run(int port, Set<Long> seen) {
            while (running.get()) {
                try (Http h = new Http(port)) {
                    while (running.get()) {
                        Http.Response r = h.get("/worker");
                        if (r.status() != 200) {
                            failures.add("status " + r.status());
                        }
                        ok.incrementAndGet();
                        seen.add(r.pid());
                        if ("close".equals(r.header("connection"))) {
                            closedByServer.incrementAndGet();
                            break;
                        }
                        Thread.sleep(2);
                    }
                } catch (IOException e) {
                    // the connection broke under a request: a close the client saw
                    closedByServer.incrementAndGet();
                    failures.add(e.toString());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void awaitProgress(long n) throws InterruptedException {
            long target = ok.get() + n;
            while (ok.get() < target) {
                Thread.sleep(5);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(20_000);
            }
        }
    }

    @Test
    void threeReloadsUnderAKeepAliveLoadCloseNoConnectionAndFailNoRequest() throws Exception {
        try (Cluster c = Cluster.start("--workers=2");
             Persistent load = new Persistent(c.port, 8)) {
            load.awaitProgress(200);
            for (int generation = 2; generation <= 4; generation++) {
                assertEquals(0, cli(c, "reload"));
                c.awaitReloadComplete(generation, Duration.ofSeconds(60));
                load.awaitProgress(50);
            }
            load.close();
            assertEquals(List.of(), load.failures, "failed requests");
            assertEquals(0, load.closedByServer.get(), "connections the server closed during 3 reloads");
            for (Set<Long> pids : load.pids) {
                assertTrue(pids.size() >= 3, "one connection, served by the workers of several generations: " + pids);
            }
            String status = c.status();
            // each reload drains every old worker: each of the 8 connections moves at least once per reload
            assertTrue(Cluster.field(status, "handedBack") >= 8 * 3, "hand-backs: " + status);
        }
    }

    @Test
    void aConnectionWithAPartlySentRequestWhenItsWorkerDrainsIsAnsweredThereThenMoves() throws Exception {
        try (Cluster c = Cluster.start("--workers=1");
             Http h = new Http(c.port)) {
            long first = h.get("/worker").pid();
            h.send("GET /worker HTTP/1.1\r\nHost: x\r\n");
            // the worker has read half a request: it cannot hand this connection back yet
            assertEquals(0, cli(c, "reload"));
            c.awaitStatus(s -> Cluster.states(s).contains("DRAINING"), Duration.ofSeconds(30), "no drain");
            h.send("\r\n");
            Http.Response r = h.read(false);
            assertEquals(200, r.status());
            assertEquals(first, r.pid(), "answered by the worker that read its first half");
            assertEquals(null, r.header("connection"), "kept alive: it goes back once idle");
            // once idle between two requests, the connection moves to the new worker, never closed
            long served = first;
            for (int i = 0; i < 100 && served == first; i++) {
                Thread.sleep(20);
                Http.Response next = h.get("/worker");
                assertEquals(200, next.status());
                assertEquals(null, next.header("connection"));
                served = next.pid();
            }
            assertTrue(served != first, "the same connection, served by the new worker");
            c.awaitReloadComplete(2, Duration.ofSeconds(60));
        }
    }

    private static int cli(Cluster c, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Cluster.javaBinary(), "-jar", Cluster.JAR.toString()));
        cmd.addAll(List.of(args));
        cmd.add("--runtime-dir=" + c.runtimeDir);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        p.waitFor();
        return p.exitValue();
    }
}
