package jcluster.master.handoff;

import io.netty.channel.unix.FileDescriptor;
import jcluster.common.ClaimSlots;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One worker's connections sent and not yet acknowledged, and its claim slots. Confined to the master's loop.
 * <p>fd ownership: a connection sent to the worker stays here, the master's copy open, until the worker acknowledges
 * it; then the master closes its copy. A connection the worker has not claimed ({@link ClaimSlots}) in time is
 * revoked and handed to another worker ({@link #revokeStale}): its entry stays here, marked, until the
 * acknowledgement that counts it, but the master's copy now belongs to the other worker's ledger. If the worker is
 * lost, {@link #takeUnacked} hands back the connections it never claimed.
 */
public final class HandoffLedger {
    private final ArrayDeque<Entry> unacked = new ArrayDeque<>();
    private final ClaimSlots claims;
    private final Path claimsFile;
    /** Connections sent so far: the claim sequence number of the last one. */
    private long sent;
    /** Connections sent since the last heartbeat, which counted the ones open before. */
    private int sentSinceHeartbeat;
    private long sentAtAccount;

    /** One connection sent and not yet acknowledged. */
    private static final class Entry {
        final FileDescriptor fd;
        final long seq;
        final long sentNanos;
        /** Taken back and given to another worker: the fd is no longer this entry's to close. */
        boolean revoked;

        Entry(FileDescriptor fd, long seq, long sentNanos) {
            this.fd = fd;
            this.seq = seq;
            this.sentNanos = sentNanos;
        }
    }

    /** @param claimsFile where to make the claim slots shared with the worker, or null to hand off without them */
    HandoffLedger(Path claimsFile) throws IOException {
        this(claimsFile, claimsFile == null ? null : ClaimSlots.create(claimsFile));
    }

    private HandoffLedger(Path claimsFile, ClaimSlots claims) {
        this.claimsFile = claimsFile;
        this.claims = claims;
    }

    /**
     * The ledger of an adopted worker: its claim slots are the file its first master made, which it still maps.
     * Both sides count again from 1 on the new fd socket, and every slot is offered before its fd is sent, so what
     * the old master left in the slots is overwritten before it could matter.
     */
    static HandoffLedger adopt(Path claimsFile) throws IOException {
        return new HandoffLedger(claimsFile, claimsFile == null ? null : ClaimSlots.open(claimsFile));
    }

    /** The claim slots' file, for the worker's command line; null without them. */
    public Path claimsFile() {
        return claimsFile;
    }

    /** Records a connection about to be sent. */
    public void sending(FileDescriptor fd, long now) {
        long seq = ++sent;
        if (claims != null) {
            claims.offer(seq);
        }
        unacked.add(new Entry(fd, seq, now));
        sentSinceHeartbeat++;
    }

    public int unacked() {
        return unacked.size();
    }

    /** When the oldest unacknowledged connection was sent; only while {@link #unacked} is more than 0. */
    public long oldestSentNanos() {
        return unacked.element().sentNanos;
    }

    public int sentSinceHeartbeat() {
        return sentSinceHeartbeat;
    }

    public void heartbeat() {
        sentSinceHeartbeat = 0;
    }

    /** Connections sent since the last call, for the master's DEBUG account. */
    long takeSentSinceAccount() {
        long n = sent - sentAtAccount;
        sentAtAccount = sent;
        return n;
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
            Entry e = unacked.poll();
            if (!e.revoked) {
                closeQuietly(e.fd);
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
        for (Entry e : unacked) {
            if (now - e.sentNanos < timeoutNanos) {
                break;
            }
            if (!e.revoked && claims.revoke(e.seq)) {
                e.revoked = true;
                if (back.isEmpty()) {
                    back = new ArrayList<>();
                }
                back.add(e.fd);
            }
        }
        return back;
    }

    /**
     * The worker is lost: removes and returns the connections it never claimed, for another worker. Those it
     * claimed but had not acknowledged were its own; the master's copies are closed.
     */
    public List<FileDescriptor> takeUnacked() {
        List<FileDescriptor> back = new ArrayList<>();
        for (Entry e : unacked) {
            if (e.revoked) {
                continue;
            }
            if (claims == null || claims.revoke(e.seq)) {
                back.add(e.fd);
            } else {
                closeQuietly(e.fd);
            }
        }
        unacked.clear();
        return back;
    }

    /** Frees the claim slots once the process is gone. */
    public void release() {
        if (claims != null) {
            try {
                claims.delete();
            } catch (IOException e) {
                // in the runtime directory, which goes at exit anyway
            }
        }
    }

    static void closeQuietly(FileDescriptor fd) {
        try {
            fd.close();
        } catch (IOException e) {
            // already closed: the kernel has released it either way
        }
    }
}
