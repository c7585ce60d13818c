package jcluster.master;

import java.util.ArrayList;
import java.util.List;

/**
 * Round-robin over the workers that may take connections (READY), as in Node's cluster. Exact: with the same set
 * of workers, each gets every n-th connection. Confined to the master's loop thread.
 */
final class RoundRobinDispatcher<W> {
    private final List<W> ready = new ArrayList<>();
    private int next;

    void add(W w) {
        if (!ready.contains(w)) {
            ready.add(w);
        }
    }

    void remove(W w) {
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

    /** The worker for the next connection, or null when none is ready. */
    W next() {
        if (ready.isEmpty()) {
            return null;
        }
        W w = ready.get(next);
        next = (next + 1) % ready.size();
        return w;
    }

    int size() {
        return ready.size();
    }
}
