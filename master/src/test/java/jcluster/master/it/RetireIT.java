package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A worker that retires itself (AppContext.retire; the default app's POST /retire) is replaced, then drains. */
@Timeout(90)
class RetireIT {
    @Test
    void aWorkerThatRetiresItselfIsReplacedAndDrainsWithoutAFailedRequestOrARestart() throws Exception {
        try (Cluster c = Cluster.start("--workers=2");
             Load load = new Load(c.port, 4)) {
            Map<Integer, Http> conns = MessagesIT.pinned(c.port, 2);
            long retiring;
            try {
                Http h = conns.values().iterator().next();
                retiring = h.get("/worker").pid();
                h.send("POST /retire HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
                Http.Response r = h.read(false);
                assertEquals(202, r.status(), r.text());
            } finally {
                MessagesIT.closeAll(conns);
            }
            String status = c.awaitStatus(s -> !Cluster.pidsIn(s, "READY").contains(retiring)
                    && Cluster.pidsIn(s, "READY").size() == 2 && Cluster.states(s).size() == 2,
                    Duration.ofSeconds(30), "the retired worker replaced and gone");
            assertEquals(0, Cluster.field(status, "restarts"), "a retire is no crash");
            assertEquals(1, Cluster.field(status, "recycled"));
            List<Long> now = Cluster.pidsIn(status, "READY");
            assertFalse(now.contains(retiring));
            ProcessHandle.of(retiring).ifPresent(p -> p.onExit().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS)
                    .join());
            assertFalse(ProcessHandle.of(retiring).map(ProcessHandle::isAlive).orElse(false), "it exited");
            load.close();
            assertTrue(load.failures.isEmpty(), "no failed request: " + load.failures);
            assertTrue(load.pids.containsAll(now), "the load reached the replacement too");
        }
    }
}
