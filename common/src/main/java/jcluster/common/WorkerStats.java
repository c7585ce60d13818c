package jcluster.common;

/** A worker's heartbeat figures. */
public record WorkerStats(int openConnections, int inFlightRequests, long requestsServed, long loopLagMicros, long rssBytes,
                          long cpuNanos, int heapAfterGcPercent, int webSockets) {
}
