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

    /** Messages to and from the other workers, through the master. */
    default Messages messages() {
        throw new UnsupportedOperationException("no messages outside a worker");
    }
}
