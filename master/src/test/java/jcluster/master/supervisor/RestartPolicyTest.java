package jcluster.master.supervisor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(5)
class RestartPolicyTest {
    private static final Duration BASE = Duration.ofMillis(100);
    private static final Duration MIN_UPTIME = Duration.ofSeconds(1);

    @Test
    void unstableDeathsDoubleTheDelayThenGiveUp() {
        RestartPolicy p = new RestartPolicy(BASE, 5, MIN_UPTIME);
        assertEquals(Duration.ofMillis(100), p.died(false, Duration.ZERO), "died before READY");
        assertEquals(Duration.ofMillis(200), p.died(true, Duration.ofMillis(300)), "died young");
        assertEquals(Duration.ofMillis(400), p.died(false, Duration.ZERO));
        assertEquals(Duration.ofMillis(800), p.died(false, Duration.ZERO));
        assertNull(p.died(false, Duration.ZERO), "the fifth in a row is a crash loop");
        assertEquals(5, p.unstableInARow());
    }

    @Test
    void aStableDeathResetsTheCount() {
        RestartPolicy p = new RestartPolicy(BASE, 3, MIN_UPTIME);
        p.died(false, Duration.ZERO);
        p.died(false, Duration.ZERO);
        assertEquals(BASE, p.died(true, Duration.ofSeconds(5)));
        assertEquals(0, p.unstableInARow());
        assertNotNull(p.died(false, Duration.ZERO));
        assertNotNull(p.died(false, Duration.ZERO));
        assertNull(p.died(false, Duration.ZERO));
    }

    @Test
    void delayIsCapped() {
        RestartPolicy p = new RestartPolicy(Duration.ofSeconds(3), 100, MIN_UPTIME);
        for (int i = 0; i < 10; i++) {
            p.died(false, Duration.ZERO);
        }
        assertEquals(RestartPolicy.MAX_DELAY, p.died(false, Duration.ZERO));
    }
}
