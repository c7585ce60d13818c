package jcluster.worker;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;

/**
 * How full the heap was right after the last collection, from the JVM's own memory-pool collection usage (what
 * survived the GC), in percent of the heap's maximum: the live set, not the garbage a poll of used heap would
 * mostly see. -1 until the first collection, or when the JVM does not say.
 */
final class HeapAfterGc {
    private HeapAfterGc() {
    }

    static int percent() {
        long used = 0;
        long max = 0;
        boolean collected = false;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() != MemoryType.HEAP || !pool.isCollectionUsageThresholdSupported()) {
                continue;
            }
            MemoryUsage after = pool.getCollectionUsage();
            MemoryUsage now = pool.getUsage();
            if (after == null || now.getMax() < 0) {
                continue;
            }
            collected |= after.getUsed() > 0;
            used += after.getUsed();
            max += now.getMax();
        }
        return collected && max > 0 ? (int) (used * 100 / max) : -1;
    }
}
