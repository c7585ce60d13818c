package jcluster.worker.http;

/**
 * The limits of one connection's HTTP/1.1 exchange: request sizes, timeouts, and how long a keep-alive connection
 * may live (in requests or time) before its response says {@code Connection: close}, so long-lived connections
 * re-balance across workers after a scale-up or a reload (0: no limit); and a WebSocket's: the largest frame or
 * message, the silence after which it is pinged (half of it) and closed (all of it; 0: never), and how long it
 * stays open once its worker drains.
 */
public record Limits(int maxBody, int maxInitialLine, int maxHeaderSize, long keepAliveMillis, long headerMillis,
                     long maxRequestsPerConnection, long maxConnectionAgeMillis, int maxWsFrame, long wsIdleMillis,
                     long wsDrainGraceMillis) {

    /** The master's defaults, for what runs outside a worker (the bench server, tests). */
    public static final Limits DEFAULT = new Limits(1 << 20, 8192, 8192, 5000, 10000, 0, 0, 1 << 16, 60_000, 1000);

    /** These limits with other WebSocket ones. */
    public Limits withWebSockets(int maxFrame, long idleMillis, long drainGraceMillis) {
        return new Limits(maxBody, maxInitialLine, maxHeaderSize, keepAliveMillis, headerMillis,
                maxRequestsPerConnection, maxConnectionAgeMillis, maxFrame, idleMillis, drainGraceMillis);
    }
}
