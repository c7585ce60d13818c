package jcluster.master.handoff;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Chooses the worker for each new connection among those that may take connections (READY), skipping any that
 * cannot take one now:
 * <ul>
 *   <li>its heartbeat is late (its event loop is stuck or gone);</li>
 *   <li>it holds a connection it has not acknowledged for longer than the stall limit (its loop has not come
 *   round to the handoff socket: busy, or stopped);</li>
 *   <li>it holds {@code cap} unacknowledged connections (backpressure: when every worker is at its cap the master
 *   stops accepting and the kernel backlog holds the rest, instead of the master hoarding fds).</li>
 * </ul>
 * Among the rest, {@link Policy#ROUND_ROBIN} takes the next in turn (exact while none is skipped, as Node's
 * cluster); {@link Policy#LEAST_CONNECTIONS} takes the one holding the fewest connections, ties in turn. With a
 * slow start, least-connections counts a worker READY for less than that long as holding more than it does: a
 * tenth of a share at first, a full share at the end, so a cold JIT is not handed a full share at once. Confined
 * to the master's loop thread.
 */
public final class Dispatcher<W extends Dispatcher.Candidate> {
    public enum Policy {
        ROUND_ROBIN, LEAST_CONNECTIONS;

        /** The flag's spelling: {@code round-robin}, {@code least-connections}. */
        String flag() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Policy of(String flag) {
            for (Policy p : values()) {
                if (p.flag().equals(flag)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("--dispatch must be round-robin or least-connections, got '" + flag
                    + "'");
        }
    }

    /** What the dispatcher needs to know of a worker. */
    public interface Candidate {
        /** Connections sent and not yet acknowledged. */
        int unacked();

        /** When the oldest unacknowledged connection was sent (nanoTime); meaningless if there is none. */
        long oldestUnackedNanos();

        /** When its last heartbeat arrived (nanoTime). */
        long lastHeartbeatNanos();

        /** Connections it holds, as best the master knows (for least-connections). */
        int load();

        /** When it became READY (nanoTime). */
        long readyNanos();
    }

    private final Policy policy;
    private final int cap;
    private final long stallNanos;
    private final long heartbeatLateNanos;
    private final long slowStartNanos;
    private final List<W> ready = new ArrayList<>();
    private int next;

    /** {@code stallNanos} 0: never skip a worker for a slow acknowledgement; {@code slowStartNanos} 0: no ramp. */
    Dispatcher(Policy policy, int cap, long stallNanos, long heartbeatLateNanos, long slowStartNanos) {
        this.policy = policy;
        this.cap = cap;
        this.stallNanos = stallNanos;
        this.heartbeatLateNanos = heartbeatLateNanos;
        this.slowStartNanos = slowStartNanos;
    }

    /** The share a worker gets: from a tenth just after READY to 1 at the end of the slow start. */
    double share(W w, long now) {
        if (slowStartNanos == 0) {
            return 1;
        }
        double ramp = (double) (now - w.readyNanos()) / slowStartNanos;
        return Math.max(MIN_SHARE, Math.min(1, ramp));
    }

    static final double MIN_SHARE = 0.1;

    Policy policy() {
        return policy;
    }

    public void add(W w) {
        if (!ready.contains(w)) {
            ready.add(w);
        }
    }

    public void remove(W w) {
        int i = ready.indexOf(w);
        if (i >= 0) {
            ready.remove(i);
            if (i < next) {
                next--;
            }
            if (next >= ready.size()) {
                next = 0;
            }
        }
    }

    public int size() {
        return ready.size();
    }

    /** True if {@code w} may be given a connection at {@code now}. */
    boolean canTake(W w, long now) {
        int u = w.unacked();
        return u < cap
                && now - w.lastHeartbeatNanos() < heartbeatLateNanos
                && (u == 0 || stallNanos == 0 || now - w.oldestUnackedNanos() < stallNanos);
    }

    /** The worker for the next connection, or null when none can take one now. */
    W next(long now) {
        int n = ready.size();
        W best = null;
        int bestAt = -1;
        double bestScore = Double.MAX_VALUE;
        for (int k = 0; k < n; k++) {
            int i = (next + k) % n;
            W w = ready.get(i);
            if (!canTake(w, now)) {
                continue;
            }
            if (policy == Policy.ROUND_ROBIN) {
                best = w;
                bestAt = i;
                break;
            }
            // one more than it holds, so that an idle worker's share still counts
            double score = (w.load() + 1) / share(w, now);
            if (score < bestScore) {
                best = w;
                bestAt = i;
                bestScore = score;
            }
        }
        if (best != null) {
            next = (bestAt + 1) % n;
        }
        return best;
    }
}
