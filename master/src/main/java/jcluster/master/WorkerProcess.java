package jcluster.master;

import io.netty.channel.Channel;
import io.netty.channel.unix.FileDescriptor;
import jcluster.common.ClaimSlots;
import jcluster.common.Frame;
import jcluster.common.MessageType;
import jcluster.common.WorkerStats;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The master's view of one worker process. Confined to the master's loop thread.
 * <ul>
 *   <li>STARTING → READY: both of its sockets said HELLO with the right secret from the right pid, and it sent
 *   READY (after answering a self-probe request through its own HTTP pipeline).</li>
 *   <li>READY → SUSPECT: its heartbeat is late; it gets no new connections. SUSPECT → READY: the heartbeat is
 *   back. SUSPECT for --worker-timeout: SIGQUIT for a thread dump, then SIGKILL.</li>
 *   <li>STARTING, READY, SUSPECT → DRAINING: the master sent DRAIN (reload, scale-down, shutdown).</li>
 *   <li>any → EXITED: the process exited or one of its sockets broke (then the process is killed).</li>
 * </ul>
 * fd ownership: a connection sent to this worker stays in {@link #unacked}, the master's copy open, until the worker
 * acknowledges it; then the master closes its copy. A connection the worker has not claimed ({@link ClaimSlots}) in
 * time is revoked and handed to another worker ({@link #revokeStale}): its entry stays here, marked, until the
 * acknowledgement that counts it, but the master's copy now belongs to the other worker's entry. If the worker is
 * lost, {@link #takeUnacked} hands back the connections it never claimed.
 */
final class WorkerProcess implements Dispatcher.Candidate {
    enum State { STARTING, READY, SUSPECT, DRAINING, EXITED }

    final int id;
    final int generation;
    /** Unexpected deaths before this worker in its place (its predecessors'), as pm2 counts restarts. */
    final int restarts;
    final byte[] secret;
    final long spawnedNanos = System.nanoTime();
    final Process process;
    final WorkerOutput output;
    State state = State.STARTING;
    Channel control;
    Channel fds;
    boolean sentReady;
    /** Reached READY at some point: a death after that is a crash, not a boot failure. */
    boolean wasReady;
    /** The master decided this worker should go (drain, scale-down, reload, timeout): its exit is expected. */
    boolean retiring;
    long readyNanos;
    long lastHeartbeatNanos;
    long drainStartedNanos;
    /** SIGKILL was sent: its exit is on the way, nothing more to do to it. */
    boolean killed;
    /** When SIGQUIT was sent for a thread dump, or 0. */
    long dumpRequestedNanos;
    WorkerStats stats;
    /** Why this worker is being recycled (replaced by a fresh one, then drained), or null. */
    String recycle;
    /** This worker's --max-requests, jitter included; 0 for no limit. */
    long maxRequests;
    /** CPU use between the last two heartbeats, in percent of one core. */
    double cpuPercent;
    private long lastCpuNanos = -1;
    private long lastCpuSampleNanos;
    private final ArrayDeque<Handoff> unacked = new ArrayDeque<>();
    private final ClaimSlots claims;
    /** Connections sent so far: the claim sequence number of the last one. */
    private long sent;
    /** Connections sent since the last heartbeat, which counted the ones open before. */
    private int sentSinceHeartbeat;
    private long sentAtAccount;

    /** One connection sent and not yet acknowledged. */
    private static final class Handoff {
        final FileDescriptor fd;
        final long seq;
        final long sentNanos;
        /** Taken back and given to another worker: the fd is no longer this entry's to close. */
        boolean revoked;

        Handoff(FileDescriptor fd, long seq, long sentNanos) {
            this.fd = fd;
            this.seq = seq;
            this.sentNanos = sentNanos;
        }
    }

    /** {@code claims}: the claim slots shared with this worker, or null to hand off without them. */
    WorkerProcess(int id, int generation, int restarts, byte[] secret, Process process, ClaimSlots claims) {
        this.id = id;
        this.generation = generation;
        this.restarts = restarts;
        this.secret = secret;
        this.process = process;
        this.claims = claims;
        this.output = new WorkerOutput(id, process.pid(), process);
    }

    long pid() {
        return process.pid();
    }

    /** True once both sockets are authenticated and the worker said READY. */
    boolean canBeReady() {
        return state == State.STARTING && control != null && fds != null && sentReady;
    }

    void handOff(FileDescriptor fd) {
        long seq = ++sent;
        if (claims != null) {
            claims.offer(seq);
        }
        unacked.add(new Handoff(fd, seq, System.nanoTime()));
        sentSinceHeartbeat++;
        fds.write(fd, fds.voidPromise());
    }

    /** Connections sent since the last call, for the master's DEBUG account. */
    long takeSentSinceAccount() {
        long n = sent - sentAtAccount;
        sentAtAccount = sent;
        return n;
    }

    void flush() {
        if (fds != null) {
            fds.flush();
        }
    }

    @Override
    public int unacked() {
        return unacked.size();
    }

    @Override
    public long oldestUnackedNanos() {
        Handoff h = unacked.peek();
        return h == null ? System.nanoTime() : h.sentNanos;
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
        return (stats == null ? 0 : stats.openConnections()) + sentSinceHeartbeat;
    }

    /**
     * The worker took the next {@code count} connections: close the master's copies.
     * @return false if it acknowledged more than it was sent (a protocol violation)
     */
    boolean acknowledge(int count) {
        if (count <= 0 || count > unacked.size()) {
            return false;
        }
        for (int i = 0; i < count; i++) {
            Handoff h = unacked.poll();
            if (!h.revoked) {
                closeQuietly(h.fd);
            }
        }
        return true;
    }

    /**
     * Takes back the connections sent more than {@code timeoutNanos} ago that the worker has not claimed, for
     * another worker. One the worker claimed meanwhile stays its own.
     */
    List<FileDescriptor> revokeStale(long now, long timeoutNanos) {
        List<FileDescriptor> back = List.of();
        if (claims == null) {
            return back;
        }
        for (Handoff h : unacked) {
            if (now - h.sentNanos < timeoutNanos) {
                break;
            }
            if (!h.revoked && claims.revoke(h.seq)) {
                h.revoked = true;
                if (back.isEmpty()) {
                    back = new ArrayList<>();
                }
                back.add(h.fd);
            }
        }
        return back;
    }

    /**
     * The worker is lost: removes and returns the connections it never claimed, for another worker. Those it
     * claimed but had not acknowledged were its own; the master's copies are closed.
     */
    List<FileDescriptor> takeUnacked() {
        List<FileDescriptor> back = new ArrayList<>();
        for (Handoff h : unacked) {
            if (h.revoked) {
                continue;
            }
            if (claims == null || claims.revoke(h.seq)) {
                back.add(h.fd);
            } else {
                closeQuietly(h.fd);
            }
        }
        unacked.clear();
        return back;
    }

    /** Frees the claim slots once the process is gone. */
    void releaseClaims() {
        if (claims != null) {
            try {
                claims.delete();
            } catch (IOException e) {
                // in the runtime directory, which goes at exit anyway
            }
        }
    }

    void send(MessageType type) {
        if (control != null && control.isActive()) {
            control.writeAndFlush(Frame.of(type), control.voidPromise());
        }
    }

    void closeChannels() {
        if (control != null) {
            control.close();
        }
        if (fds != null) {
            fds.close();
        }
    }

    /** Takes a heartbeat's figures. */
    void heartbeat(WorkerStats s) {
        long now = System.nanoTime();
        if (lastCpuNanos >= 0 && s.cpuNanos() >= 0 && now > lastCpuSampleNanos) {
            cpuPercent = 100.0 * (s.cpuNanos() - lastCpuNanos) / (now - lastCpuSampleNanos);
        }
        lastCpuNanos = s.cpuNanos();
        lastCpuSampleNanos = now;
        stats = s;
        lastHeartbeatNanos = now;
        sentSinceHeartbeat = 0;
    }

    Status.Worker status() {
        WorkerStats s = stats;
        return new Status.Worker(id, pid(), generation, restarts, state.name(),
                (System.nanoTime() - spawnedNanos) / 1_000_000, s == null ? 0 : s.openConnections(),
                s == null ? 0 : s.inFlightRequests(),
                s == null ? 0 : s.requestsServed(), s == null ? -1 : s.rssBytes(), cpuPercent,
                s == null ? 0 : s.loopLagMicros(), s == null ? -1 : s.heapAfterGcPercent());
    }

    WorkerPlanner.Worker view() {
        return new WorkerPlanner.Worker(id, generation, state, recycle != null);
    }

    static void closeQuietly(FileDescriptor fd) {
        try {
            fd.close();
        } catch (IOException e) {
            // already closed: the kernel has released it either way
        }
    }

    @Override
    public String toString() {
        return "worker " + id + " (pid " + pid() + ", gen " + generation + ")";
    }
}
