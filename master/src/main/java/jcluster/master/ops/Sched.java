package jcluster.master.ops;


import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The Linux scheduling policy of the master's threads (sched(7)). A new thread or process inherits its creator's,
 * so it is set on every thread the master has at start (the JVM's own: GC, JIT compilers, the signal dispatcher,
 * finalizer and reference handler, which it started before {@code main}), twice over to catch one started
 * meanwhile; every thread started later, and every worker JVM (spawned from the master's event loop, all its
 * threads descending from its first), inherits it. {@code chrt -a -p PID} shows it on each.
 * <p>SCHED_BATCH is SCHED_OTHER (same fair share, same nice value, no privilege needed) without wakeup
 * preemption: a thread woken by a new request does not preempt the thread running on that CPU, it runs when that
 * one's slice ends, and then finds more requests waiting. On a machine whose CPUs are all busy, an event loop thus
 * handles several requests per wake-up instead of one or two. Measured (bench/run.sh's setting, 2 cores shared
 * with wrk): workers blocked in epoll_wait about 12,700 times a second each under SCHED_OTHER; under SCHED_BATCH
 * keep-alive went from 95k to 129k req/s and CPU per request from 9.2 to 7.6 µs, and one connection per request
 * from 19.2k to 21.2k req/s. The price is tail latency on saturated CPUs: keep-alive p99 5.4 ms against 4.3 ms
 * (p50 0.26 against 0.32 ms). With idle CPUs a woken thread runs at once either way.
 */
public final class Sched {
    public static final String BATCH = "batch";
    static final String OTHER = "other";
    private static final int SCHED_OTHER = 0;
    private static final int SCHED_BATCH = 3;

    private Sched() {
    }

    /** @throws IllegalArgumentException for a name other than batch or other */
    public static int policy(String name) {
        return switch (name) {
            case BATCH -> SCHED_BATCH;
            case OTHER -> SCHED_OTHER;
            default -> throw new IllegalArgumentException("--sched must be batch or other, got '" + name + "'");
        };
    }

    /**
     * Puts every thread of this process under the named policy.
     * @return null, or why it could not (the threads keep the policy they had)
     */
    public static String setForAllThreads(String name) {
        int policy = policy(name);
        try {
            LibC libc = LibC.get();
            for (int pass = 0; pass < 2; pass++) {
                for (int tid : threads()) {
                    if (libc.sched_getscheduler(tid) != policy && libc.sched_setscheduler(tid, policy, new int[] {0}) != 0
                            && libc.sched_getscheduler(tid) >= 0) {
                        // a thread that ended meanwhile has no policy to get: only a live one counts as a failure
                        return "sched_setscheduler failed for thread " + tid;
                    }
                }
            }
            return null;
        } catch (LinkageError | RuntimeException | IOException e) {
            return e.toString();
        }
    }

    private static List<Integer> threads() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.map(p -> Integer.parseInt(p.getFileName().toString())).toList();
        }
    }
}
