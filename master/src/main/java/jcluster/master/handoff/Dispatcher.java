package jcluster.master.handoff;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
 * tenth of a share at first, a full share at the end, so a cold JIT is not handed a full share at once.
 * {@link Policy#STICKY} takes the one the client's address hashes to, so a client keeps its worker across
 * connections.
 *
 * <p>Sticky hashing is over <em>slots</em>, not workers: each worker in dispatch holds one of {@link #slots} slots
 * (0, 1, …), and a connection goes to the slot that scores highest for its client's address (rendezvous hashing),
 * or, when that slot's worker cannot take it now, to the next in that address's order. A worker that joins while
 * every slot is held (the new one of a rolling reload, a recycle's replacement) waits without one, as a last
 * resort only, and takes the slot of the first worker that leaves dispatch: so after a rolling reload every
 * address hashes to the same slot as before, now held by a new worker. A worker out of dispatch for a while (its
 * heartbeat late) frees its slot and takes it back when it returns, unless another took it meanwhile. Confined
 * to the master's loop thread.
 */
public final class Dispatcher<W extends Dispatcher.Candidate> {
    public enum Policy {
        ROUND_ROBIN, LEAST_CONNECTIONS, STICKY;

        /** The flag's spelling: {@code round-robin}, {@code least-connections}, {@code sticky}. */
        String flag() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Policy of(String flag) {
            for (Policy p : values()) {
                if (p.flag().equals(flag)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("--dispatch must be round-robin, least-connections or sticky, got '"
                    + flag + "'");
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
    /** The slot each worker in dispatch holds; one without a slot waits for one in {@link #slotless}. */
    private final Map<W, Integer> slotOf = new IdentityHashMap<>();
    private final BitSet heldSlots = new BitSet();
    private final List<W> slotless = new ArrayList<>();
    private int slots = 1;

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
            if (heldSlots.cardinality() < slots) {
                hold(w, heldSlots.nextClearBit(0));
            } else {
                slotless.add(w);
            }
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
            Integer slot = slotOf.remove(w);
            slotless.remove(w);
            if (slot != null) {
                heldSlots.clear(slot);
                if (!slotless.isEmpty() && heldSlots.cardinality() < slots) {
                    // the replacement takes over the leaver's slot, and with it the leaver's clients
                    hold(slotless.remove(0), slot);
                }
            }
        }
    }

    /**
     * How many slots sticky dispatch hashes over: the wanted workers. Growing gives slots to workers waiting for
     * one; shrinking takes none away (the workers over the count are being drained, and free theirs as they go).
     */
    public void slots(int n) {
        slots = Math.max(1, n);
        while (!slotless.isEmpty() && heldSlots.cardinality() < slots) {
            hold(slotless.remove(0), heldSlots.nextClearBit(0));
        }
    }

    private void hold(W w, int slot) {
        slotOf.put(w, slot);
        heldSlots.set(slot);
    }

    /** The slot {@code w} holds, or -1 (not in dispatch, or waiting for one). */
    int slotOf(W w) {
        Integer s = slotOf.get(w);
        return s == null ? -1 : s;
    }

    /** True if the policy needs each connection's client key ({@link ClientKey}). */
    public boolean keyed() {
        return policy == Policy.STICKY;
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
        return next(now, 0);
    }

    /**
     * The worker for the next connection, from a client whose address has this {@link ClientKey} (used by
     * {@link Policy#STICKY} only), or null when none can take one now.
     */
    W next(long now, long clientKey) {
        if (policy == Policy.STICKY) {
            return sticky(now, clientKey);
        }
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

    /**
     * The worker whose slot scores highest for this client among those that can take a connection now; a worker
     * without a slot only when none with one can.
     */
    private W sticky(long now, long clientKey) {
        W best = null;
        long bestScore = 0;
        boolean bestSlotted = false;
        for (W w : ready) {
            if (!canTake(w, now)) {
                continue;
            }
            Integer slot = slotOf.get(w);
            if (slot == null) {
                if (best == null) {
                    best = w;
                }
                continue;
            }
            long score = ClientKey.score(clientKey, slot);
            if (!bestSlotted || Long.compareUnsigned(score, bestScore) > 0) {
                best = w;
                bestScore = score;
                bestSlotted = true;
            }
        }
        return best;
    }
}
