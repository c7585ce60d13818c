package jcluster.master;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(5)
class UnitsTest {
    @Test
    void sizes() {
        assertEquals(1024, Units.parseSize("1024"));
        assertEquals(512 * 1024, Units.parseSize("512k"));
        assertEquals(1 << 20, Units.parseSize("1M"));
        assertEquals(2L << 30, Units.parseSize("2g"));
        for (String bad : new String[] {"", "k", "-1", "1.5m", "lots", "99999999999999999999g"}) {
            assertThrows(IllegalArgumentException.class, () -> Units.parseSize(bad), bad);
        }
    }

    @Test
    void durations() {
        assertEquals(Duration.ofMillis(500), Units.parseDuration("500ms"));
        assertEquals(Duration.ofSeconds(5), Units.parseDuration("5s"));
        assertEquals(Duration.ofMinutes(2), Units.parseDuration("2m"));
        assertEquals(Duration.ofHours(1), Units.parseDuration("1h"));
        for (String bad : new String[] {"", "5", "s", "-1s", "soon", "1d", "1.5h"}) {
            assertThrows(IllegalArgumentException.class, () -> Units.parseDuration(bad), bad);
        }
    }
}
