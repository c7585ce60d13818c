package jcluster.worker.http;

/**
 * The limits of one connection's HTTP/1.1 exchange: request sizes, timeouts, and how long a keep-alive connection
 * may live (in requests or time) before its response says {@code Connection: close}, so long-lived connections
 * re-balance across workers after a scale-up or a reload. 0 for the last two: no limit.
 */
public record Limits(int maxBody, int maxInitialLine, int maxHeaderSize, long keepAliveMillis, long headerMillis,
                     long maxRequestsPerConnection, long maxConnectionAgeMillis) {

    /** The master's defaults, for what runs outside a worker (the bench server, tests). */
    public static final Limits DEFAULT = new Limits(1 << 20, 8192, 8192, 5000, 10000, 0, 0);
}
