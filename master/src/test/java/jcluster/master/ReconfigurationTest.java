package jcluster.master;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ReconfigurationTest {
    @Test
    void workerFlagsChangeWithTheReloadOthersWaitForAnUpgrade() {
        MasterOptions running = new MasterOptions();
        MasterOptions reread = new MasterOptions();
        reread.keepAliveTimeout = Duration.ofSeconds(9);
        reread.compress = true;
        reread.workers = running.workers + 1;
        reread.backlog = 77;
        List<Reconfiguration.Change> changes = Reconfiguration.diff(running, reread);
        assertEquals(List.of("--workers", "--backlog", "--keepalive-timeout", "--compress"),
                changes.stream().map(Reconfiguration.Change::flag).toList(), "in the flags' order");
        assertEquals(List.of(true, false, true, true), changes.stream().map(Reconfiguration.Change::applied).toList());
        assertEquals("keepalive-timeout 5s -> 9s", changes.get(2).toString());
        Reconfiguration.apply(changes, running);
        assertEquals(Duration.ofSeconds(9), running.keepAliveTimeout);
        assertTrue(running.compress);
        assertEquals(1024, running.backlog, "the listener's backlog needs a new master");
        assertNotEquals(reread.workers, running.workers, "the count changes as a scale, by the arbiter");
        assertTrue(Reconfiguration.diff(new MasterOptions(), new MasterOptions()).isEmpty());
    }
}
