package jcluster.app;

/** What a worker tells its app about itself. */
public interface AppContext {
    /** The worker's id: 1, 2, … in spawn order; a replacement gets a new id. */
    int workerId();

    /** Milliseconds since this worker started. */
    long uptimeMillis();

    /** Client connections this worker holds now. */
    int openConnections();

    /** Requests this worker has answered. */
    long requestsServed();

    /**
     * Retires this worker: from now it gets no new connection, the master starts its replacement, and once that one
     * is READY this one drains as in a reload (its requests finish, idle connections move to other workers), so
     * the server's capacity never dips. For a worker that knows it is in trouble (a leak, a corrupt cache).
     */
    default void retire(String reason) {
        throw new UnsupportedOperationException("no master to retire from");
    }

    /** Messages to and from the other workers, through the master. */
    default Messages messages() {
        throw new UnsupportedOperationException("no messages outside a worker");
    }
}
