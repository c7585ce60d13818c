package jcluster.master;

import java.time.Duration;

/**
 * How long to wait before respawning a worker, and when to stop trying. Each worker that dies before it became
 * READY counts as a boot failure; the delay doubles with each consecutive one, and past {@link #MAX_BOOT_FAILURES}
 * the master gives up (a broken build or JVM flag would otherwise respawn forever). A worker that reaches READY
 * resets the count. A worker that dies after READY is respawned after the base delay.
 */
final class RestartBackoff {
    static final Duration BASE = Duration.ofMillis(100);
    static final Duration MAX = Duration.ofSeconds(10);
    static final int MAX_BOOT_FAILURES = 5;

    private int bootFailures;

    /** Records a worker that died before READY; returns false when the master should give up. */
    boolean bootFailed() {
        bootFailures++;
        return bootFailures < MAX_BOOT_FAILURES;
    }

    void booted() {
        bootFailures = 0;
    }

    int bootFailures() {
        return bootFailures;
    }

    Duration nextDelay() {
        int doublings = Math.max(0, Math.min(bootFailures - 1, 20));
        Duration d = BASE.multipliedBy(1L << doublings);
        return d.compareTo(MAX) > 0 ? MAX : d;
    }
}
