package jcluster.master.handoff;

import io.netty.channel.unix.FileDescriptor;
import jcluster.common.ClaimSlots;
import jcluster.common.Heartbeats;
import jcluster.master.Clock;
import jcluster.master.MasterOptions;
import jcluster.master.supervisor.WorkerProcess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Where accepted connections go (the counterpart of Node's {@code round_robin_handle.js}): each to the worker the
 * {@link Dispatcher} picks; when none can take one, into a waiting queue while accepting pauses (backpressure: the
 * kernel backlog holds the rest); handoffs a worker did not pick up in time are taken back and re-sent; a lost
 * worker's unclaimed connections are re-sent. Every accepted connection is handed off or, when shutting down with no
 * worker to take it, closed with a line saying so: never dropped silently. Confined to the master's loop.
 */
public final class Handoffs implements Acceptor.Sink {
    private static final Logger log = LoggerFactory.getLogger(Handoffs.class);
    private static final long REVOKE_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Dispatcher<WorkerProcess> dispatcher;
    /** The worker table: every worker from its start to its exit, read here, kept by the supervisor. */
    private List<WorkerProcess> workers = List.of();
    private final Clock clock;
    private final Duration handoffTimeout;
    /** Where worker N's claim slots go; null when handoffs are not revocable. */
    private final IntFunction<Path> claimsFile;
    /** Idle connections draining workers handed back. */
    private long handedBack;
    /** The listener stays paused until {@link #release}: another master accepts on it meanwhile. */
    private boolean held;
    /** Accepted connections no worker could take yet (at most one accept burst: accepting pauses meanwhile). */
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    private Listener intake;
    private boolean stopping;
    private long accepted;
    private long handedOff;
    private long redispatched;
    private long acknowledged;
    private long ackFrames;
    private long revokedSinceLog;
    private long lastRevokeLogNanos;
    /** The counters as of the last DEBUG account, and when it was, to report what changed since. */
    private Counts countsAtAccount = new Counts(0, 0, 0, 0, 0);
    private long accountNanos;

    /** A connection waiting for a worker, with its client's key for sticky dispatch. */
    private record Pending(FileDescriptor fd, long clientKey) {
    }

    private record Counts(long accepted, long handedOff, long acknowledged, long ackFrames, long redispatched) {
    }

    /**
     * @param handoffTimeout zero: handoffs are never taken back
     * @param claimsFile where worker N's claim slots go, when handoffs are revocable
     */
    Handoffs(Dispatcher<WorkerProcess> dispatcher, Clock clock, Duration handoffTimeout, IntFunction<Path> claimsFile) {
        this.dispatcher = dispatcher;
        this.clock = clock;
        this.handoffTimeout = handoffTimeout;
        this.claimsFile = handoffTimeout.isZero() ? null : claimsFile;
        this.lastRevokeLogNanos = clock.nanoTime() - REVOKE_LOG_INTERVAL_NANOS;
        this.accountNanos = clock.nanoTime();
    }

    /** The handoffs as the flags set them: --dispatch, --handoff-timeout, --slow-start. */
    public static Handoffs of(MasterOptions options, Clock clock, IntFunction<Path> claimsFile) {
        return new Handoffs(new Dispatcher<>(Dispatcher.Policy.of(options.dispatch), ClaimSlots.SLOTS,
                options.handoffTimeout.toNanos(), Heartbeats.LATE.toNanos(), options.slowStart.toNanos()), clock,
                options.handoffTimeout, claimsFile);
    }

    /**
     * Starts taking connections from the listener, which it pauses and resumes from now on, for these workers.
     * @param workers the worker table, read only
     * @param accepting false to leave the listener paused until {@link #release}, whatever the workers can take
     */
    public void takeFrom(Listener intake, List<WorkerProcess> workers, boolean accepting) {
        this.intake = intake;
        this.workers = workers;
        held = !accepting;
        if (accepting) {
            intake.resume();
        }
        if (!handoffTimeout.isZero()) {
            // a revoked connection waits at most the timeout plus a quarter of it
            clock.every(this::revokeStale, Duration.ofNanos(Math.max(1_000_000, handoffTimeout.toNanos() / 4)));
        }
    }

    /** A new worker's ledger, with its claim slots when handoffs are revocable. */
    public HandoffLedger newLedger(int id) throws IOException {
        return new HandoffLedger(claimsFile == null ? null : claimsFile.apply(id));
    }

    /**
     * An adopted worker's ledger, on the claims file it has (it claims every fd it reads in it, whatever this
     * master's --handoff-timeout), or none if it has none.
     */
    public HandoffLedger adoptedLedger(Path claims) throws IOException {
        return HandoffLedger.adopt(claims);
    }

    /** Chooses among the READY workers; each worker's state transitions keep its list. */
    public Dispatcher<WorkerProcess> dispatcher() {
        return dispatcher;
    }

    public long accepted() {
        return accepted;
    }

    public long handedOff() {
        return handedOff;
    }

    public long redispatched() {
        return redispatched;
    }

    int waiting() {
        return waiting.size();
    }

    @Override
    public void accepted(FileDescriptor fd, byte[] address) {
        accepted++;
        // the hash only where the policy reads it: this runs for every connection
        take(fd, dispatcher.keyed() ? ClientKey.ofAccepted(address) : 0);
    }

    /** A connection coming back (taken back, handed back, left by a lost worker): its key asked of the kernel. */
    private Pending back(FileDescriptor fd) {
        return new Pending(fd, dispatcher.keyed() ? ClientKey.ofPeer(fd) : 0);
    }

    /**
     * A draining worker handed back an idle keep-alive connection (HAND_BACK): to another worker, which reads what
     * the client sends next; during a shutdown it is closed, as the worker would have.
     */
    public void handedBack(FileDescriptor fd) {
        handedBack++;
        if (stopping) {
            HandoffLedger.closeQuietly(fd);
            return;
        }
        Pending p = back(fd);
        take(p.fd(), p.clientKey());
        flushAll();
    }

    public long handedBack() {
        return handedBack;
    }

    private void take(FileDescriptor fd, long clientKey) {
        WorkerProcess w = waiting.isEmpty() ? dispatcher.next(clock.nanoTime(), clientKey) : null;
        if (w != null) {
            handedOff++;
            w.handOff(fd);
            return;
        }
        if (stopping) {
            // no worker will ever take it: say so rather than drop it silently
            log.warn("closing a connection accepted during shutdown: no worker is taking connections");
            HandoffLedger.closeQuietly(fd);
            return;
        }
        // Backpressure: no worker can take a connection now (none READY, or each stalled or at its cap of
        // unacknowledged handoffs). Hold this one and leave the rest in the kernel backlog until one can.
        waiting.add(new Pending(fd, clientKey));
        if (!intake.paused()) {
            log.debug("no worker can take a connection now; pausing accept");
            intake.pause();
        }
    }

    @Override
    public void burstDone() {
        flushAll();
    }

    /**
     * The worker took its next {@code count} connections.
     * @return false if it acknowledged more than it was sent (a protocol violation)
     */
    public boolean acknowledged(WorkerProcess w, int count) {
        acknowledged += count;
        ackFrames++;
        if (!w.ledger.acknowledge(count)) {
            return false;
        }
        if (!waiting.isEmpty()) {
            dispatchWaiting();
        }
        return true;
    }

    /** A lost worker's connections it never claimed: to other workers. */
    public void orphaned(WorkerProcess w, List<FileDescriptor> orphans) {
        if (!orphans.isEmpty()) {
            log.info("{} left {} connection(s) unacknowledged; handing them to other workers", w, orphans.size());
            redispatched += orphans.size();
            orphans.forEach(fd -> waiting.add(back(fd)));
            dispatchWaiting();
        }
    }

    /** The listener held by {@link #takeFrom} may accept from now. */
    public void release() {
        held = false;
        dispatchWaiting();
    }

    /** Hands the held connections to workers that can take them now; accepts again once none is left. */
    public void dispatchWaiting() {
        long now = clock.nanoTime();
        while (!waiting.isEmpty()) {
            WorkerProcess w = dispatcher.next(now, waiting.peek().clientKey());
            if (w == null) {
                break;
            }
            handedOff++;
            w.handOff(waiting.poll().fd());
        }
        flushAll();
        if (stopping) {
            closeWaiting("closing {} connection(s) that no worker can take: shutting down");
        } else if (waiting.isEmpty() && intake.paused() && !held) {
            log.debug("accepting again");
            intake.resume();
        }
    }

    /** The listener is closed: what is held and what no worker can take from now on is closed, with a line. */
    public void stop() {
        stopping = true;
        closeWaiting("closing {} connection(s) that no worker was ready to take");
    }

    private void closeWaiting(String line) {
        if (!waiting.isEmpty()) {
            log.warn(line, waiting.size());
            waiting.forEach(p -> HandoffLedger.closeQuietly(p.fd()));
            waiting.clear();
        }
    }

    /**
     * Periodic, with --handoff-timeout: connections a worker has not picked up in time (its loop is busy or
     * stopped) are taken back, through the claim slots, and given to other workers; the dispatcher gives the slow
     * worker nothing more until it acknowledges.
     */
    void revokeStale() {
        long now = clock.nanoTime();
        long timeout = handoffTimeout.toNanos();
        for (WorkerProcess w : workers) {
            if (!w.live()) {
                continue;
            }
            List<FileDescriptor> back = w.ledger.revokeStale(now, timeout);
            if (!back.isEmpty()) {
                // on an overloaded machine this can happen often: one line a second says how often
                revokedSinceLog += back.size();
                if (now - lastRevokeLogNanos >= REVOKE_LOG_INTERVAL_NANOS) {
                    log.info("{} did not pick up {} connection(s) within {} ms; handing them to other workers{}", w,
                            back.size(), handoffTimeout.toMillis(), revokedSinceLog > back.size()
                                    ? " (" + revokedSinceLog + " taken back since the last such line)" : "");
                    lastRevokeLogNanos = now;
                    revokedSinceLog = 0;
                }
                redispatched += back.size();
                back.forEach(fd -> waiting.add(back(fd)));
            }
        }
        if (!waiting.isEmpty()) {
            dispatchWaiting();
        }
    }

    /**
     * Periodic: re-offers what waits, since a worker may have become able to take connections without an event
     * saying so (time passed); at DEBUG, accounts for dispatch.
     */
    public void tick(long now) {
        if (!waiting.isEmpty()) {
            dispatchWaiting();
        }
        if (log.isDebugEnabled() && now - accountNanos >= TimeUnit.SECONDS.toNanos(1)) {
            debugAccount(now);
        }
    }

    private void flushAll() {
        for (WorkerProcess w : workers) {
            if (w.live()) {
                w.flush();
            }
        }
    }

    /** DEBUG: what dispatch did since the last account, when it did anything. */
    private void debugAccount(long now) {
        Counts was = countsAtAccount;
        Counts is = new Counts(accepted, handedOff, acknowledged, ackFrames, redispatched);
        if (!is.equals(was) || !waiting.isEmpty()) {
            StringBuilder perWorker = new StringBuilder();
            for (WorkerProcess w : workers) {
                long n = w.ledger.takeSentSinceAccount();
                if (n > 0) {
                    perWorker.append(perWorker.length() == 0 ? "" : ", ").append("worker ").append(w.id).append(": ")
                            .append(n);
                }
            }
            log.debug("last {} ms: {} accepted, {} handed off ({}), {} acknowledged in {} frame(s), {} re-dispatched, "
                    + "{} waiting for a worker{}", (now - accountNanos) / 1_000_000, is.accepted - was.accepted,
                    is.handedOff - was.handedOff, perWorker.length() == 0 ? "none" : perWorker,
                    is.acknowledged - was.acknowledged, is.ackFrames - was.ackFrames,
                    is.redispatched - was.redispatched, waiting.size(), intake.paused() ? ", accepting paused" : "");
        }
        countsAtAccount = is;
        accountNanos = now;
    }
}
