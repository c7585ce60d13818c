package jcluster.master;

import jnr.ffi.LibraryLoader;

/**
 * The Linux scheduling policy of the calling thread (sched(7)). Threads and processes started afterwards inherit
 * it, so setting it on the master's main thread before anything else starts covers the master's event loop and
 * every worker JVM, all of whose threads descend from the thread that spawned it.
 * <p>SCHED_BATCH is SCHED_OTHER (same fair share, same nice value, no privilege needed) without wakeup
 * preemption: a thread woken by a new request does not preempt the thread running on that CPU, it runs when that
 * one's slice ends, and then finds more requests waiting. On a machine whose CPUs are all busy, an event loop thus
 * handles several requests per wake-up instead of one or two. Measured (bench/run.sh's setting, 2 cores shared
 * with wrk): workers blocked in epoll_wait about 12,700 times a second each under SCHED_OTHER; under SCHED_BATCH
 * keep-alive went from 95k to 129k req/s and CPU per request from 9.2 to 7.6 µs, and one connection per request
 * from 19.2k to 21.2k req/s. The price is tail latency on saturated CPUs: keep-alive p99 5.4 ms against 4.3 ms
 * (p50 0.26 against 0.32 ms). With idle CPUs a woken thread runs at once either way.
 */
final class Sched {
    static final String BATCH = "batch";
    static final String OTHER = "other";
    private static final int SCHED_OTHER = 0;
    private static final int SCHED_BATCH = 3;

    /** The libc calls, bound by jnr-ffi. */
    public interface LibC {
        /** {@code param}: struct sched_param, whose only field is the priority (0 for these policies). */
        int sched_setscheduler(int pid, int policy, int[] param);

        int sched_getscheduler(int pid);
    }

    private Sched() {
    }

    /** @throws IllegalArgumentException for a name other than batch or other */
    static int policy(String name) {
        return switch (name) {
            case BATCH -> SCHED_BATCH;
            case OTHER -> SCHED_OTHER;
            default -> throw new IllegalArgumentException("--sched must be batch or other, got '" + name + "'");
        };
    }

    /**
     * Puts the calling thread under the named policy.
     * @return null, or why it could not (the thread keeps the policy it had)
     */
    static String setForThisThread(String name) {
        int policy = policy(name);
        try {
            LibC libc = LibraryLoader.create(LibC.class).load("c");
            if (libc.sched_getscheduler(0) == policy) {
                return null;
            }
            return libc.sched_setscheduler(0, policy, new int[] {0}) == 0 ? null : "sched_setscheduler failed";
        } catch (LinkageError | RuntimeException e) {
            return e.toString();
        }
    }
}
