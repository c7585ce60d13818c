package jcluster.worker.http;

/** What the HTTP path needs to know of the worker around it. */
public interface ServerState {
    /** Counts nothing and never drains: for requests that are not clients' (the self-probe). */
    ServerState UNCOUNTED = new ServerState() {
        @Override
        public boolean draining() {
            return false;
        }

        @Override
        public void requestServed() {
        }

        @Override
        public void inFlight(int delta) {
        }
    };

    /** True once the worker drains: responses then say {@code Connection: close}, unless {@link #handBack}. */
    boolean draining();

    /** While draining with a hand-back (HAND_BACK): where idle connections go instead of closing; else null. */
    default HandBack handBack() {
        return null;
    }

    /** An Error escaped the app ({@code why}): the worker retires itself. */
    default void retire(String why) {
    }

    /** WebSockets opened (+1) or closed (-1). */
    default void webSockets(int delta) {
    }

    /** Counts a request answered. */
    void requestServed();

    /** Requests begun (head decoded) and not yet answered or abandoned, across connections: +n or -n. */
    void inFlight(int delta);
}
