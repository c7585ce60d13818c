package jcluster.master;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(5)
class RestartBackoffTest {

    @Test
    void delayDoublesWithConsecutiveBootFailuresAndGivesUp() {
        RestartBackoff b = new RestartBackoff();
        assertEquals(RestartBackoff.BASE, b.nextDelay(), "a crash after READY waits the base delay");
        assertTrue(b.bootFailed());
        assertEquals(Duration.ofMillis(100), b.nextDelay());
        assertTrue(b.bootFailed());
        assertEquals(Duration.ofMillis(200), b.nextDelay());
        assertTrue(b.bootFailed());
        assertTrue(b.bootFailed());
        assertEquals(Duration.ofMillis(800), b.nextDelay());
        assertFalse(b.bootFailed(), "the fifth failure in a row gives up");
    }

    @Test
    void aWorkerThatBootsResetsTheCount() {
        RestartBackoff b = new RestartBackoff();
        for (int i = 0; i < RestartBackoff.MAX_BOOT_FAILURES - 1; i++) {
            assertTrue(b.bootFailed());
        }
        b.booted();
        assertEquals(0, b.bootFailures());
        assertEquals(RestartBackoff.BASE, b.nextDelay());
        assertTrue(b.bootFailed());
    }

    @Test
    void delayIsCapped() {
        RestartBackoff b = new RestartBackoff();
        for (int i = 0; i < 30; i++) {
            b.bootFailed();
        }
        assertEquals(RestartBackoff.MAX, b.nextDelay());
    }
}
