package jcluster.master.supervisor;

import jcluster.common.Heartbeats;
import jcluster.master.MasterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/**
 * The timeouts of the worker state machine, checked periodically: a worker not READY within --boot-timeout is
 * killed (its failure, counted); a READY one whose heartbeat is late turns SUSPECT; a SUSPECT one past
 * --worker-timeout gets SIGQUIT for a thread dump, then {@link #DUMP_GRACE} later SIGKILL; a DRAINING one past
 * --drain-timeout (--shutdown-timeout during a shutdown) is killed. Confined to the master's loop.
 */
public final class WorkerWatchdog {
    private static final Logger log = LoggerFactory.getLogger(WorkerWatchdog.class);
    /** How long after SIGQUIT a hung worker has to write its thread dump before it is killed. */
    static final Duration DUMP_GRACE = Duration.ofSeconds(1);

    private final Duration bootTimeout;
    private final Duration workerTimeout;
    private final Duration drainTimeout;
    private final Duration shutdownTimeout;
    private long timeouts;

    public WorkerWatchdog(Duration bootTimeout, Duration workerTimeout, Duration drainTimeout, Duration shutdownTimeout) {
        this.bootTimeout = bootTimeout;
        this.workerTimeout = workerTimeout;
        this.drainTimeout = drainTimeout;
        this.shutdownTimeout = shutdownTimeout;
    }

    /** The timeouts the flags set: --boot-timeout, --worker-timeout, --drain-timeout, --shutdown-timeout. */
    public static WorkerWatchdog of(MasterOptions options) {
        return new WorkerWatchdog(options.bootTimeout, options.workerTimeout, options.drainTimeout,
                options.shutdownTimeout);
    }

    /** Workers that timed out without a heartbeat (--worker-timeout), for status. */
    public long timeouts() {
        return timeouts;
    }

    /**
     * @param stopping the master is shutting down: draining workers have --shutdown-timeout
     * @return true if a worker stopped taking connections (SUSPECT), so the worker plan may change
     */
    public boolean check(List<WorkerProcess> workers, long now, boolean stopping) {
        boolean suspected = false;
        for (WorkerProcess w : List.copyOf(workers)) {
            switch (w.state()) {
                case STARTING -> {
                    if (!w.killed() && now - w.spawnedNanos() > bootTimeout.toNanos()) {
                        // its last output is logged with its death
                        log.error("{} not ready within {} ms; killing it", w, bootTimeout.toMillis());
                        w.killAsFailed();
                    }
                }
                case READY -> {
                    if (now - w.lastHeartbeatNanos() > Heartbeats.LATE.toNanos()) {
                        log.warn("{} missed its heartbeat for {} ms; no new connections for it", w,
                                (now - w.lastHeartbeatNanos()) / 1_000_000);
                        w.suspect();
                        suspected = true;
                    }
                }
                case SUSPECT -> {
                    if (w.timedOutNanos() < 0 && now - w.lastHeartbeatNanos() > workerTimeout.toNanos()) {
                        log.error("{} timed out: no heartbeat for {} ms; asking for a thread dump (SIGQUIT), then "
                                + "replacing it", w, (now - w.lastHeartbeatNanos()) / 1_000_000);
                        timeouts++;
                        w.timedOut();
                    } else if (!w.killed() && w.timedOutNanos() >= 0
                            && now - w.timedOutNanos() > DUMP_GRACE.toNanos()) {
                        w.kill();
                    }
                }
                case DRAINING -> {
                    long limit = (stopping ? shutdownTimeout : drainTimeout).toNanos();
                    if (!w.killed() && now - w.drainStartedNanos() > limit && w.process.isAlive()) {
                        log.warn("{} still busy {} ms after it was told to drain; killing it", w, limit / 1_000_000);
                        w.kill();
                    }
                }
                case EXITED -> { }
            }
        }
        return suspected;
    }
}
