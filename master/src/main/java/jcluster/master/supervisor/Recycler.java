package jcluster.master.supervisor;

import jcluster.common.WorkerStats;
import jcluster.master.ops.Status;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Why a worker should be recycled (replaced by a fresh one, then drained), from its last heartbeat: it served its
 * --max-requests (each worker's own, with up to --max-requests-jitter more so they do not all go at once), its RSS
 * is over --max-memory, or its heap is still --max-heap-after-gc full after a collection. Pure but for the jitter.
 */
public final class Recycler {
    private final long maxRequests;
    private final long maxRequestsJitter;
    private final long maxMemory;
    private final int maxHeapAfterGc;

    /** Each 0 for no such limit. */
    public Recycler(long maxRequests, long maxRequestsJitter, long maxMemory, int maxHeapAfterGc) {
        this.maxRequests = maxRequests;
        this.maxRequestsJitter = maxRequestsJitter;
        this.maxMemory = maxMemory;
        this.maxHeapAfterGc = maxHeapAfterGc;
    }

    /** A new worker's --max-requests, jitter included; 0 for no limit. */
    long maxRequestsForNewWorker() {
        if (maxRequests <= 0) {
            return 0;
        }
        return maxRequests + (maxRequestsJitter > 0 ? ThreadLocalRandom.current().nextLong(maxRequestsJitter + 1) : 0);
    }

    /** Why a worker with these figures and this request limit should go, or null. */
    String why(WorkerStats s, long workerMaxRequests) {
        if (workerMaxRequests > 0 && s.requestsServed() >= workerMaxRequests) {
            return "served " + s.requestsServed() + " requests (--max-requests)";
        }
        if (maxMemory > 0 && s.rssBytes() > maxMemory) {
            return "RSS " + Status.bytes(s.rssBytes()) + " over --max-memory " + Status.bytes(maxMemory);
        }
        if (maxHeapAfterGc > 0 && s.heapAfterGcPercent() >= maxHeapAfterGc) {
            return "heap " + s.heapAfterGcPercent() + "% full after GC (--max-heap-after-gc)";
        }
        return null;
    }
}
