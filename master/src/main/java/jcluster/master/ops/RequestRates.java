package jcluster.master.ops;

import java.util.HashMap;
import java.util.Map;

/**
 * Requests a second from successive samples of request counters, the cluster's total and each worker's, as
 * {@code top} and the admin port's history show them. A counter with no earlier sample (the first one, a new
 * worker) or one that went back has no rate yet. Confined to one thread.
 */
final class RequestRates {
    /** The total's key among the workers' ids, which start at 1. */
    private static final int TOTAL = Integer.MIN_VALUE;
    private Map<Integer, Long> before = new HashMap<>();
    private Map<Integer, Long> now = new HashMap<>();
    private long lastNanos;
    private double seconds;

    /** Begins a sample taken at {@code nanoTime}: the rates that follow are against the one before. */
    void sample(long nanoTime) {
        seconds = lastNanos == 0 ? 0 : (nanoTime - lastNanos) / 1e9;
        lastNanos = nanoTime;
        before = now;
        now = new HashMap<>();
    }

    /** The total's requests a second, now at {@code count}; -1 when it has none yet. */
    double total(long count) {
        return rate(TOTAL, count);
    }

    /** Worker {@code id}'s requests a second, now at {@code count}; -1 when it has none yet. */
    double worker(int id, long count) {
        return rate(id, count);
    }

    private double rate(int key, long count) {
        now.put(key, count);
        Long b = before.get(key);
        return b == null || seconds <= 0 || count < b ? -1 : (count - b) / seconds;
    }
}
