package jcluster.master.supervisor;

import java.time.Duration;

/**
 * When to respawn a worker that died, and when to stop trying. A death is <em>unstable</em> when the worker never
 * became READY or lived less than {@code minUptime}; each consecutive unstable death doubles the delay (from
 * {@code restartDelay}, capped at {@link #MAX_DELAY}), and {@code maxRestarts} of them in a row mean a crash loop:
 * the master gives up instead of respawning forever (a broken build or JVM flag). A stable death resets the count.
 * Deaths the master caused (drain, scale-down, reload) are not counted.
 */
public final class RestartPolicy {
    static final Duration MAX_DELAY = Duration.ofSeconds(10);

    private final Duration restartDelay;
    private final int maxRestarts;
    private final Duration minUptime;
    private int unstable;

    public RestartPolicy(Duration restartDelay, int maxRestarts, Duration minUptime) {
        this.restartDelay = restartDelay;
        this.maxRestarts = maxRestarts;
        this.minUptime = minUptime;
    }

    /**
     * Records a death.
     * @return the delay before the respawn, or null when the master should give up
     */
    Duration died(boolean becameReady, Duration uptime) {
        if (becameReady && uptime.compareTo(minUptime) >= 0) {
            unstable = 0;
            return restartDelay;
        }
        unstable++;
        if (unstable >= maxRestarts) {
            return null;
        }
        Duration d = restartDelay.multipliedBy(1L << Math.min(unstable - 1, 20));
        return d.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : d;
    }

    int unstableInARow() {
        return unstable;
    }
}
