package jcluster.common;

/** A worker's heartbeat figures. */
public record WorkerStats(int openConnections, long requestsServed, long loopLagMicros, long rssBytes,
                          long cpuNanos, int heapAfterGcPercent) {
}
