package jcluster.master.systemd;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class NotifySocketTest {
    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aPathIsItsBytesAndANul() {
        byte[] a = NotifySocket.sockaddr("/run/systemd/notify");
        assertEquals(2 + 19 + 1, a.length);
        assertArrayEquals(new byte[] {1, 0}, Arrays.copyOf(a, 2), "AF_UNIX, little-endian");
        assertArrayEquals(bytes("/run/systemd/notify"), Arrays.copyOfRange(a, 2, 21));
        assertEquals(0, a[21]);
    }

    /** An abstract name is a NUL and the name, with no NUL after it: its length is part of the name. */
    @Test
    void anAbstractNameIsANulAndTheNameExactly() {
        byte[] a = NotifySocket.sockaddr("@/org/freedesktop/systemd1/notify/42");
        assertEquals(2 + 1 + 35, a.length);
        assertEquals(0, a[2]);
        assertArrayEquals(bytes("/org/freedesktop/systemd1/notify/42"), Arrays.copyOfRange(a, 3, a.length));
    }

    @Test
    void emptyRelativeAndTooLongNamesAreRefused() {
        assertNull(NotifySocket.sockaddr(""));
        assertNull(NotifySocket.sockaddr("@"));
        assertNull(NotifySocket.sockaddr("run/notify"));
        assertNull(NotifySocket.sockaddr("/" + "x".repeat(107)));
        assertEquals(108 + 2, NotifySocket.sockaddr("/" + "x".repeat(106)).length, "107 bytes and the NUL fit");
    }

    @Test
    void theWatchdogIntervalIsHalfOfWatchdogUsecForThisPidOnly() {
        assertEquals(Duration.ofMillis(1500), ServiceManager.watchdogInterval(Map.of("WATCHDOG_USEC", "3000000"), 7));
        assertEquals(Duration.ofMillis(1500),
                ServiceManager.watchdogInterval(Map.of("WATCHDOG_USEC", "3000000", "WATCHDOG_PID", "7"), 7));
        assertNull(ServiceManager.watchdogInterval(Map.of("WATCHDOG_USEC", "3000000", "WATCHDOG_PID", "8"), 7),
                "another process's watchdog");
        assertNull(ServiceManager.watchdogInterval(Map.of("WATCHDOG_USEC", "0"), 7));
        assertNull(ServiceManager.watchdogInterval(Map.of("WATCHDOG_USEC", "soon"), 7));
        assertNull(ServiceManager.watchdogInterval(Map.of(), 7));
    }
}
