package jcluster.master.supervisor;

import io.netty.channel.Channel;
import io.netty.channel.unix.FileDescriptor;
import jcluster.common.Frame;
import jcluster.common.MessageType;
import jcluster.common.WorkerStats;
import jcluster.master.Clock;
import jcluster.master.handoff.Dispatcher;
import jcluster.master.handoff.HandoffLedger;
import jcluster.master.ops.Status;

import java.util.List;

/**
 * The master's view of one worker process, and its state machine: every transition is a method here, and each keeps
 * the dispatcher's list of READY workers in step. Confined to the master's loop thread.
 * <ul>
 *   <li>STARTING → READY ({@link #becomeReady}): both of its sockets said HELLO with the right secret from the right
 *   pid, and it sent READY (after answering a self-probe request through its own HTTP pipeline).</li>
 *   <li>READY → SUSPECT ({@link #suspect}): its heartbeat is late; it gets no new connections. SUSPECT → READY
 *   ({@link #answersAgain}): the heartbeat is back, unless it already timed out ({@link #timedOut}: SIGQUIT for a
 *   thread dump, then SIGKILL); then it is replaced whatever it does.</li>
 *   <li>STARTING, READY, SUSPECT → DRAINING ({@link #draining}): the master sent DRAIN (reload, scale-down, recycle,
 *   shutdown), or the worker said it drains on its own (LEAVING).</li>
 *   <li>any → EXITED ({@link #retire}): the process exited or one of its sockets broke (then it is killed).</li>
 * </ul>
 * Its exit is <em>expected</em> once the master decided it should go (drain, timeout, kill): then it is neither a
 * crash nor respawned as one.
 */
public final class WorkerProcess implements Dispatcher.Candidate, jcluster.master.messages.MessageRouter.Recipient {
    public enum State { STARTING, READY, SUSPECT, DRAINING, EXITED }

    public final int id;
    /** The control socket's outbound bytes past which the apps' messages to this worker are dropped, and below which
     * they flow again: a stalled worker costs the master at most about this much. */
    static final int MESSAGES_HIGH = 1 << 20;
    static final int MESSAGES_LOW = 256 << 10;
    final int generation;
    /** Unexpected deaths before this worker in its place (its predecessors'), as pm2 counts restarts. */
    final int restarts;
    public final byte[] secret;
    public final OsProcess process;
    public final HandoffLedger ledger;
    /** This worker's --max-requests, jitter included; 0 for no limit. */
    final long maxRequests;
    private final Clock clock;
    private final Dispatcher<WorkerProcess> dispatcher;
    private final long spawnedNanos;
    private State state = State.STARTING;
    private Channel control;
    private Channel fds;
    private boolean sentReady;
    /** When it became READY; -1 while it never was (a death before that is a failed boot, not a crash). */
    private long readyNanos = -1;
    private long lastHeartbeatNanos;
    private long drainStartedNanos;
    /** The master decided this worker should go: its exit is expected. */
    private boolean leaving;
    /** SIGKILL was sent: its exit is on the way, nothing more to do to it. */
    private boolean killed;
    /** When SIGQUIT was sent for a thread dump after it timed out, or -1. */
    private long timedOutNanos = -1;
    /** To be recycled: replaced by a fresh one, then drained. */
    private boolean recycling;
    /** It asked to go (RETIRE): out of dispatch for good, though it serves what it holds until it drains. */
    private boolean retiringItself;
    private WorkerStats stats;
    /** CPU use between the last two heartbeats, in percent of one core. */
    private double cpuPercent;
    private long lastCpuNanos = -1;
    private long lastCpuSampleNanos;

    WorkerProcess(int id, int generation, int restarts, long maxRequests, byte[] secret, OsProcess process,
                  HandoffLedger ledger, Clock clock, Dispatcher<WorkerProcess> dispatcher) {
        this.id = id;
        this.generation = generation;
        this.restarts = restarts;
        this.maxRequests = maxRequests;
        this.secret = secret;
        this.process = process;
        this.ledger = ledger;
        this.clock = clock;
        this.dispatcher = dispatcher;
        this.spawnedNanos = clock.nanoTime();
    }

    public long pid() {
        return process.pid();
    }

    public State state() {
        return state;
    }

    public boolean live() {
        return state != State.EXITED;
    }

    /** Neither draining nor gone: counts towards the wanted workers. */
    boolean active() {
        return WorkerPlanner.active(state);
    }

    // ---- transitions --------------------------------------------------------------------------------------------

    /**
     * A socket of this worker passed HELLO.
     * @return false if it already had a socket of that kind (then the new one is closed)
     */
    public boolean attach(Frame.ChannelKind kind, Channel ch) {
        if ((kind == Frame.ChannelKind.CONTROL ? control : fds) != null) {
            ch.close();
            return false;
        }
        if (kind == Frame.ChannelKind.CONTROL) {
            control = ch;
            // what the master holds for a worker that does not read: the apps' messages stop past it
            ch.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(MESSAGES_LOW, MESSAGES_HIGH));
            if (state == State.DRAINING) {
                // told to drain before it could hear us: it drains as soon as it can
                send(MessageType.DRAIN);
            }
        } else {
            fds = ch;
            if (process instanceof AdoptedProcess adopted) {
                // before any connection: the first fd an adopted worker reads is its new output
                adopted.relayOutput(id, ch);
            }
        }
        return true;
    }

    /** It said READY. */
    public void sentReady() {
        sentReady = true;
        lastHeartbeatNanos = clock.nanoTime();
    }

    /** STARTING → READY once both sockets are up and it said READY; false if not yet (or not STARTING). */
    public boolean becomeReady() {
        if (state != State.STARTING || control == null || fds == null || !sentReady) {
            return false;
        }
        state = State.READY;
        readyNanos = clock.nanoTime();
        dispatcher.add(this);
        return true;
    }

    /** READY → SUSPECT: its heartbeat is late. */
    void suspect() {
        state = State.SUSPECT;
        dispatcher.remove(this);
    }

    /** SUSPECT → READY when its heartbeat is back in time; false if it was not SUSPECT or already timed out. */
    public boolean answersAgain() {
        if (state != State.SUSPECT || timedOutNanos >= 0) {
            return false;
        }
        state = State.READY;
        if (!retiringItself) {
            dispatcher.add(this);
        }
        return true;
    }

    /** SUSPECT for too long: SIGQUIT for a thread dump; it is replaced, and killed after a grace. */
    void timedOut() {
        timedOutNanos = clock.nanoTime();
        leaving = true;
        process.requestThreadDump();
    }

    /** → DRAINING (told to, or on its own): no more connections, and its exit is expected. */
    public void draining() {
        leaving = true;
        state = State.DRAINING;
        drainStartedNanos = clock.nanoTime();
        dispatcher.remove(this);
    }

    /** A shutdown began while it was already draining: its shutdown timeout counts from now. */
    public void restartDrainClock() {
        drainStartedNanos = clock.nanoTime();
    }

    /** SIGKILL, the master's decision: its exit is expected. */
    public void kill() {
        leaving = true;
        killOnce();
    }

    /** SIGKILL for its own failure (not READY within the boot timeout, a socket broken): its death counts as one. */
    public void killAsFailed() {
        killOnce();
    }

    private void killOnce() {
        killed = true;
        process.kill();
    }

    /** Marks it for replacement: a fresh worker starts, and this one drains once that one is READY. */
    void recycle() {
        recycling = true;
    }

    /** It asked to retire: replaced as a recycle is, and from now on given no new connection. */
    void retireItself() {
        recycling = true;
        retiringItself = true;
        dispatcher.remove(this);
    }

    /**
     * → EXITED: no more connections, its control socket closed (its fd socket closes at its EOF).
     * @return the connections it never claimed, for other workers; empty if it was already EXITED
     */
    public List<FileDescriptor> retire() {
        if (state == State.EXITED) {
            return List.of();
        }
        state = State.EXITED;
        dispatcher.remove(this);
        if (control != null) {
            control.close();
        }
        // The fd socket is left to close at its EOF, which the process's end brings: a draining worker may have
        // handed back connections still queued in it, and closing it unread would close them under their clients.
        return ledger.takeUnacked();
    }

    // ---- what the arbiter asks ----------------------------------------------------------------------------------

    /** The master decided it should go, or it drains: its exit is neither a crash nor a failed boot. */
    public boolean exitExpected() {
        return leaving || state == State.DRAINING;
    }

    boolean wasReady() {
        return readyNanos >= 0;
    }

    boolean killed() {
        return killed;
    }

    boolean recycling() {
        return recycling;
    }

    /** When it timed out, or -1. */
    long timedOutNanos() {
        return timedOutNanos;
    }

    public long spawnedNanos() {
        return spawnedNanos;
    }

    long drainStartedNanos() {
        return drainStartedNanos;
    }

    /** How long it lived: since READY, or since it was spawned if it never was. */
    long uptimeNanos(long now) {
        return now - (wasReady() ? readyNanos : spawnedNanos);
    }

    WorkerStats stats() {
        return stats;
    }

    long requestsServed() {
        return stats == null ? 0 : stats.requestsServed();
    }

    // ---- messages -----------------------------------------------------------------------------------------------

    public void handOff(FileDescriptor fd) {
        ledger.sending(fd, clock.nanoTime());
        fds.write(fd, fds.voidPromise());
    }

    public void flush() {
        if (fds != null) {
            fds.flush();
        }
    }

    @Override
    public int id() {
        return id;
    }

    /** An app's message, if its control socket takes more now ({@link #MESSAGES_HIGH}). */
    @Override
    public boolean offer(Frame f) {
        if (control == null || !control.isActive() || !control.isWritable()) {
            return false;
        }
        control.writeAndFlush(f, control.voidPromise());
        return true;
    }

    public void send(MessageType type) {
        if (control != null && control.isActive()) {
            control.writeAndFlush(Frame.of(type), control.voidPromise());
        }
    }

    /** Takes a heartbeat's figures. */
    public void heartbeat(WorkerStats s) {
        long now = clock.nanoTime();
        if (lastCpuNanos >= 0 && s.cpuNanos() >= 0 && now > lastCpuSampleNanos) {
            cpuPercent = 100.0 * (s.cpuNanos() - lastCpuNanos) / (now - lastCpuSampleNanos);
        }
        lastCpuNanos = s.cpuNanos();
        lastCpuSampleNanos = now;
        stats = s;
        lastHeartbeatNanos = now;
        ledger.heartbeat();
    }

    // ---- for the dispatcher -------------------------------------------------------------------------------------

    @Override
    public int unacked() {
        return ledger.unacked();
    }

    @Override
    public long oldestUnackedNanos() {
        return ledger.unacked() == 0 ? clock.nanoTime() : ledger.oldestSentNanos();
    }

    @Override
    public long lastHeartbeatNanos() {
        return lastHeartbeatNanos;
    }

    @Override
    public long readyNanos() {
        return readyNanos;
    }

    @Override
    public int load() {
        return (stats == null ? 0 : stats.openConnections()) + ledger.sentSinceHeartbeat();
    }

    public Status.Worker status(long now) {
        WorkerStats s = stats;
        return new Status.Worker(id, pid(), generation, restarts, state.name(), (now - spawnedNanos) / 1_000_000,
                s == null ? 0 : s.openConnections(), s == null ? 0 : s.inFlightRequests(),
                s == null ? 0 : s.requestsServed(), s == null ? -1 : s.rssBytes(), cpuPercent,
                s == null ? 0 : s.loopLagMicros(), s == null ? -1 : s.heapAfterGcPercent(),
                s == null ? 0 : s.webSockets());
    }

    WorkerPlanner.Worker view() {
        return new WorkerPlanner.Worker(id, generation, state, recycling);
    }

    @Override
    public String toString() {
        return "worker " + id + " (pid " + pid() + ", gen " + generation + ")";
    }
}
