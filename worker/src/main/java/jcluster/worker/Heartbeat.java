package jcluster.worker;

import io.netty.channel.Channel;
import jcluster.common.Heartbeats;
import jcluster.common.WorkerStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sends STATS every {@link Heartbeats#INTERVAL} from the control socket's loop: how late it runs is the loop's lag,
 * and its absence is how the master sees a stuck loop. Carries the worker's load and its process figures (RSS, CPU
 * time, heap after GC). At DEBUG, an account every second when anything changed.
 */
final class Heartbeat implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);
    private static final long PAGE_SIZE = 4096;

    private final MasterLink link;
    private final Set<Channel> connections;
    private final LongAdder requests;
    private final LongAdder inFlight;
    private final LongAdder webSockets;
    private final FdReceiver receiver;
    private long expected = System.nanoTime() + Heartbeats.INTERVAL.toNanos();
    private int beats;
    private String lastAccount = "";

    private Heartbeat(MasterLink link, Set<Channel> connections, LongAdder requests, LongAdder inFlight,
                      LongAdder webSockets) {
        this.link = link;
        this.webSockets = webSockets;
        this.connections = connections;
        this.requests = requests;
        this.inFlight = inFlight;
        this.receiver = link.receiver();
    }

    /** Beats from now on, on the link's loop. */
    static void start(MasterLink link, Set<Channel> connections, LongAdder requests, LongAdder inFlight,
                      LongAdder webSockets) {
        long ms = Heartbeats.INTERVAL.toMillis();
        link.loop().scheduleAtFixedRate(new Heartbeat(link, connections, requests, inFlight, webSockets), ms, ms,
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        long lagMicros = Math.max(0, TimeUnit.NANOSECONDS.toMicros(now - expected));
        expected = now + Heartbeats.INTERVAL.toNanos();
        if (log.isDebugEnabled() && ++beats % 2 == 0) {
            String account = receiver.totals() + "; " + connections.size() + " open, " + requests.sum()
                    + " request(s) served, " + inFlight.sum() + " in flight";
            if (!account.equals(lastAccount)) {
                log.debug("so far: {}; event-loop lag {} µs", account, lagMicros);
                lastAccount = account;
            }
        }
        link.heartbeat(new WorkerStats(connections.size(), (int) inFlight.sum(), requests.sum(), lagMicros,
                rssBytes(), cpuNanos(), HeapAfterGc.percent(), webSockets.intValue()));
    }

    /** CPU time this process used, or -1 when the JVM does not say. */
    static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    }

    /** Resident memory of this process, or -1. */
    static long rssBytes() {
        try {
            String[] statm = Files.readString(Path.of("/proc/self/statm")).trim().split(" ");
            return Long.parseLong(statm[1]) * PAGE_SIZE;
        } catch (Exception e) {
            return -1;
        }
    }
}
