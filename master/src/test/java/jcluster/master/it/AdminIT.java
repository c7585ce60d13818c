package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The admin port: Prometheus metrics, status, health and readiness. */
@Timeout(60)
class AdminIT {
    /** A sample line of the Prometheus text format: name, optional labels, value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\",?)*})? (-?[0-9.E+-]+|NaN|[+-]Inf)");

    @Test
    void metricsAreValidPrometheusTextWithTheMastersAndWorkersFigures() throws Exception {
        int admin = Cluster.freePort();
        try (Cluster c = Cluster.start("--workers=2", "--admin-port=" + admin)) {
            for (int i = 0; i < 10; i++) {
                Http.get(c.port, "/");
            }
            // counted by the workers' next heartbeats
            c.awaitStatus(s -> Cluster.field(s, "requests") >= 10, Duration.ofSeconds(5), "requests not counted");
            Http.Response r = Http.get(admin, "/metrics");
            assertEquals(200, r.status());
            assertTrue(r.header("content-type").startsWith("text/plain; version=0.0.4"), r.header("content-type"));
            Map<String, Double> samples = new HashMap<>();
            for (String line : r.text().lines().toList()) {
                if (line.isEmpty() || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                    continue;
                }
                Matcher m = SAMPLE.matcher(line);
                assertTrue(m.matches(), "not Prometheus text: " + line);
                samples.merge(m.group(1), Double.parseDouble(m.group(4)), Double::sum);
            }
            assertEquals(10.0, samples.get("jcluster_connections_accepted_total"));
            assertEquals(10.0, samples.get("jcluster_connections_handed_off_total"));
            assertEquals(10.0, samples.get("jcluster_requests_total"));
            assertEquals(0.0, samples.get("jcluster_worker_restarts_total"));
            assertTrue(r.text().contains("jcluster_workers{state=\"ready\"} 2.0"), r.text());
            assertTrue(samples.get("jcluster_worker_rss_bytes") > 0);
            assertTrue(samples.containsKey("jcluster_worker_event_loop_lag_seconds"));
            assertTrue(r.text().contains("jcluster_worker_open_connections{generation=\"1\",pid=\""));
        }
    }

    @Test
    void statusHealthAndReadinessWhichFailsWhileDraining() throws Exception {
        int admin = Cluster.freePort();
        try (Cluster c = Cluster.start("--workers=1", "--admin-port=" + admin); Http slow = new Http(c.port)) {
            assertTrue(Http.get(admin, "/status").text().startsWith("{\"pid\":" + c.pid()));
            assertEquals(200, Http.get(admin, "/healthz").status());
            assertEquals(200, Http.get(admin, "/readyz").status());
            assertEquals(404, Http.get(admin, "/nope").status());
            slow.send("GET /compute?ms=3000&offload=1 HTTP/1.1\r\nHost: x\r\n\r\n");
            c.awaitInFlight(1);
            c.signal("TERM");
            c.awaitStatus(s -> Cluster.flag(s, "draining"), Duration.ofSeconds(5), "not shutting down");
            Http.Response ready = Http.get(admin, "/readyz");
            assertEquals(503, ready.status());
            assertEquals("shutting down\n", ready.text());
            assertEquals(200, Http.get(admin, "/healthz").status());
            assertEquals(200, slow.read(false).status());
            assertEquals(0, c.awaitExit(Duration.ofSeconds(15)));
        }
    }

    /**
     * --drain-delay: after SIGTERM, readiness fails at once while the port still accepts and the workers serve, for
     * the delay; then the drain begins, the port closes and the master exits 0. Measured: the first refused
     * connection comes after the delay, not within 50 ms of the signal.
     */
    @Test
    void theDrainDelayKeepsServingWhileReadinessFails() throws Exception {
        int admin = Cluster.freePort();
        try (Cluster c = Cluster.start("--workers=2", "--admin-port=" + admin, "--drain-delay=2s")) {
            long start = System.nanoTime();
            c.signal("TERM");
            Cluster.await(() -> readyz(admin) == 503, Duration.ofMillis(500), () -> "still ready after SIGTERM");
            long servedUntil = 0;
            long refusedAt = 0;
            while (System.nanoTime() - start < 6_000_000_000L) {
                long at = (System.nanoTime() - start) / 1_000_000;
                try {
                    assertEquals(200, Http.get(c.port, "/").status());
                    servedUntil = at;
                } catch (java.io.IOException e) {
                    refusedAt = at;
                    break;
                }
                Thread.sleep(50);
            }
            assertTrue(servedUntil >= 1800, "served only until " + servedUntil + " ms after SIGTERM");
            assertTrue(refusedAt >= 2000, "refused at " + refusedAt + " ms, the delay is 2 s");
            assertEquals(0, c.awaitExit(Duration.ofSeconds(15)));
        }
    }

    @Test
    void aSecondSigtermDuringTheDrainDelayDrainsAtOnce() throws Exception {
        int admin = Cluster.freePort();
        try (Cluster c = Cluster.start("--workers=1", "--admin-port=" + admin, "--drain-delay=30s")) {
            c.signal("TERM");
            Cluster.await(() -> readyz(admin) == 503, Duration.ofMillis(500), () -> "still ready after SIGTERM");
            assertEquals(200, Http.get(c.port, "/").status());
            long start = System.nanoTime();
            c.signal("TERM");
            assertEquals(0, c.awaitExit(Duration.ofSeconds(10)), "a drain, not a forced stop");
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "did not wait out the 30 s delay");
        }
    }

    private static int readyz(int admin) {
        try {
            return Http.get(admin, "/readyz").status();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    @Test
    void theAdminPortListensOnLoopbackOnly() throws Exception {
        int admin = Cluster.freePort();
        try (Cluster c = Cluster.start("--workers=1", "--admin-port=" + admin)) {
            assertEquals(200, Http.get(admin, "/healthz").status(), "the master " + c.pid() + " answers");
            List<Cluster.TcpListener> listeners = Cluster.tcpListeners(admin);
            assertFalse(listeners.isEmpty(), "the admin port listens");
            for (Cluster.TcpListener l : listeners) {
                assertTrue(l.address().equals("0100007F") || l.address().equals("0000000000000000FFFF00000100007F"),
                        "admin port bound to " + l.address());
            }
        }
    }
}
