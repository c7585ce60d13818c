package jcluster.common;

import java.time.Duration;

/** The heartbeat both sides agree on: a worker's loop sends STATS this often; the master judges lateness by it. */
public final class Heartbeats {
    /** How often a worker's event loop sends STATS. */
    public static final Duration INTERVAL = Duration.ofMillis(500);
    /** A heartbeat missing for this long (three intervals) makes the worker SUSPECT: no new connections for it. */
    public static final Duration LATE = INTERVAL.multipliedBy(3);

    private Heartbeats() {
    }
}
