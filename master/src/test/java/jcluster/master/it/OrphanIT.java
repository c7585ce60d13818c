package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A master that dies (SIGKILL) leaves its workers serving: they keep the connections they hold and wait for a new
 * master on the same runtime directory, which adopts them (the same pids) instead of starting new ones; without one
 * they leave after --orphan-timeout.
 */
@Timeout(120)
class OrphanIT {

    @Test
    void aNewMasterAdoptsTheWorkersAKilledMasterLeftAndTheirHeldConnectionsNeverNoticed() throws Exception {
        List<Http> held = new ArrayList<>();
        try (Cluster first = Cluster.start("--workers=2")) {
            List<Long> workers = first.workerPids();
            // keep-alive connections, at least one on each worker
            for (int i = 0; i < 6; i++) {
                Http h = new Http(first.port);
                held.add(h);
                assertEquals(200, h.get("/worker").status());
            }
            first.signal("KILL");
            first.awaitExit(Duration.ofSeconds(10));
            // no master: the held connections are served by the same workers; the port is closed
            for (Http h : held) {
                Http.Response r = h.get("/worker");
                assertEquals(200, r.status());
                assertTrue(workers.contains(r.pid()), r.text());
            }
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", first.port).close());

            try (Cluster second = Cluster.startAt(first.port, first.runtimeDir, "--workers=2")) {
                String status = second.status();
                assertEquals(workers, Cluster.pidsIn(status, "READY").stream().sorted().toList(),
                        "the same workers, adopted: " + status);
                assertEquals(List.of(), second.workerPids(), "no new worker started");
                assertTrue(status.contains("\"id\":1,") && status.contains("\"id\":2,"), status);
                for (Http h : held) {
                    assertEquals(200, h.get("/worker").status(), "a held connection, after the adoption");
                }
                for (int i = 0; i < 10; i++) {
                    Http.Response r = Http.get(second.port, "/worker");
                    assertEquals(200, r.status());
                    assertTrue(workers.contains(r.pid()), "a new connection, to an adopted worker: " + r.text());
                }
                // the adopted workers' output reaches the new master's log again
                second.awaitLog("Output: output goes to the master that adopted this worker", Duration.ofSeconds(10));
                closeAll(held);
                second.signal("TERM");
                assertEquals(0, second.awaitExit(Duration.ofSeconds(30)), "a clean stop drains adopted workers too");
                for (long w : workers) {
                    Cluster.await(() -> ProcessHandle.of(w).map(p -> !p.isAlive()).orElse(true),
                            Duration.ofSeconds(10), () -> "adopted worker " + w + " still running");
                }
                assertFalse(java.nio.file.Files.exists(first.runtimeDir), "the runtime directory is removed");
            }
        } finally {
            closeAll(held);
        }
    }

    private static void closeAll(List<Http> connections) throws IOException {
        for (Http h : connections) {
            h.close();
        }
    }

    @Test
    void orphansNobodyAdoptsServeWhatTheyHoldThenLeaveAfterTheOrphanTimeout() throws Exception {
        try (Cluster c = Cluster.start("--workers=1", "--orphan-timeout=3s");
             Http h = new Http(c.port)) {
            long worker = c.workerPids().get(0);
            assertEquals(200, h.get("/").status());
            long killed = System.nanoTime();
            c.signal("KILL");
            c.awaitExit(Duration.ofSeconds(10));
            assertEquals(200, h.get("/").status(), "served while orphaned");
            assertTrue(ProcessHandle.of(worker).map(ProcessHandle::isAlive).orElse(false));
            // at the timeout it drains: the held connection is closed once idle, and it exits
            Cluster.await(() -> ProcessHandle.of(worker).map(p -> !p.isAlive()).orElse(true), Duration.ofSeconds(20),
                    () -> "the orphan did not leave");
            long waited = (System.nanoTime() - killed) / 1_000_000;
            assertTrue(waited >= 3000, "left after " + waited + " ms, before the orphan timeout");
            assertThrows(IOException.class, () -> h.get("/"));
        }
    }
}
