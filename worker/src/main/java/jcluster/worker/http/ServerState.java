package jcluster.worker.http;

/** What the HTTP path needs to know of the worker around it. */
public interface ServerState {
    /** True once the worker drains: responses then say {@code Connection: close}. */
    boolean draining();

    /** Counts a request answered. */
    void requestServed();

    /** Requests begun (head decoded) and not yet answered or abandoned, across connections: +n or -n. */
    void inFlight(int delta);
}
