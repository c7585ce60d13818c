package jcluster.worker.http;

/**
 * Where one connection stands, shared by its handlers (all on the connection's event loop, so no locking).
 * <ul>
 *   <li>IDLE → HEAD: the first byte of a request arrives (the keep-alive timer gives way to the header timer).</li>
 *   <li>HEAD → BODY: the request head is decoded; until the body is in, silence longer than the header timeout
 *   ends the connection.</li>
 *   <li>BODY → IDLE: the response is written and no other request is waiting (pipelining keeps it in BODY).</li>
 * </ul>
 */
final class Exchange {
    private final ServerState server;

    Exchange(ServerState server) {
        this.server = server;
    }

    enum Phase { IDLE, HEAD, BODY }

    Phase phase = Phase.IDLE;
    /** Requests whose head was decoded but whose response is not yet written. */
    int unanswered;
    /** When the current phase's timer started (HEAD, IDLE) or the last byte arrived (BODY), from nanoTime. */
    long since = System.nanoTime();
    /** A request head was decoded and its body is still arriving. */
    boolean receiving;
    /** Send {@code Connection: close} on the next response and close after it. */
    boolean closeAfterResponse;
    /** Draining: hand the connection back here once idle, rather than close it. */
    HandBack handBack;

    /** The connection closed: whatever it had not answered is abandoned. */
    void closed() {
        if (unanswered > 0) {
            server.inFlight(-unanswered);
            unanswered = 0;
        }
    }

    boolean idle() {
        return phase == Phase.IDLE && unanswered == 0;
    }

    void requestStarted() {
        unanswered++;
        server.inFlight(1);
        receiving = true;
        phase = Phase.BODY;
        since = System.nanoTime();
    }

    void responseDone() {
        server.inFlight(-1);
        if (--unanswered == 0 && phase == Phase.BODY) {
            phase = Phase.IDLE;
            since = System.nanoTime();
        }
    }
}
