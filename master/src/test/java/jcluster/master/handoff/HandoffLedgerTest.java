package jcluster.master.handoff;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.FileDescriptor;
import jcluster.common.ClaimSlots;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One worker's ledger on a real claims file, the worker's side played by a second mapping of it: who closes each
 * fd, and which connections go to another worker.
 */
@Timeout(10)
class HandoffLedgerTest {
    static final long MS = 1_000_000;
    private Path dir;
    private Path claims;
    /** The master's side. */
    private HandoffLedger ledger;
    /** The worker's side of the same claim slots. */
    private ClaimSlots worker;

    @BeforeEach
    void makeLedger() throws IOException {
        Epoll.ensureAvailability();
        dir = Files.createTempDirectory("ledger");
        claims = dir.resolve("w1");
        ledger = new HandoffLedger(claims);
        worker = ClaimSlots.open(claims);
    }

    @AfterEach
    void removeLedger() throws IOException {
        worker.close();
        ledger.release();
        assertFalse(Files.exists(claims), "the claims file goes with the worker");
        Files.delete(dir);
    }

    /** The read end of a new pipe, its write end closed: an fd to hand off. */
    static FileDescriptor fd() throws IOException {
        FileDescriptor[] pipe = FileDescriptor.pipe();
        pipe[1].close();
        return pipe[0];
    }

    @Test
    void anAcknowledgedConnectionIsTheWorkersAndTheMasterClosesItsCopy() throws Exception {
        FileDescriptor first = fd();
        FileDescriptor second = fd();
        ledger.sending(first, 100 * MS);
        ledger.sending(second, 200 * MS);
        assertEquals(2, ledger.unacked());
        assertEquals(100 * MS, ledger.oldestSentNanos());
        assertTrue(worker.claim(1));
        assertTrue(worker.claim(2));
        assertEquals(List.of(), ledger.revokeStale(1000 * MS, 50 * MS), "claimed: neither is taken back");
        assertTrue(ledger.acknowledge(1));
        assertFalse(first.isOpen(), "the master closes its copy once acknowledged");
        assertEquals(200 * MS, ledger.oldestSentNanos());
        assertFalse(ledger.acknowledge(2), "more than it was sent: a protocol violation");
        assertTrue(second.isOpen());
        assertEquals(List.of(), ledger.takeUnacked(), "the worker is lost: what it claimed was its own");
        assertFalse(second.isOpen());
    }

    @Test
    void onlyAnUnclaimedConnectionOlderThanTheTimeoutIsTakenBack() throws Exception {
        FileDescriptor claimed = fd();
        FileDescriptor stale = fd();
        FileDescriptor young = fd();
        ledger.sending(claimed, 100 * MS);
        ledger.sending(stale, 110 * MS);
        ledger.sending(young, 180 * MS);
        assertTrue(worker.claim(1));
        assertEquals(List.of(stale), ledger.revokeStale(200 * MS, 50 * MS));
        assertEquals(List.of(), ledger.revokeStale(210 * MS, 50 * MS), "taken back once");
        assertFalse(worker.claim(2), "the worker reads it late and closes its copy unread");
        assertTrue(worker.claim(3));
        assertTrue(ledger.acknowledge(3));
        assertFalse(claimed.isOpen());
        assertFalse(young.isOpen());
        assertTrue(stale.isOpen(), "the taken-back fd is another worker's now, not this ledger's to close");
        assertEquals(0, ledger.unacked());
        stale.close();
    }

    @Test
    void aLostWorkersUnclaimedConnectionsGoToAnotherAndItsClaimedOnesAreClosed() throws Exception {
        FileDescriptor claimed = fd();
        FileDescriptor unclaimed = fd();
        ledger.sending(claimed, 0);
        ledger.sending(unclaimed, 0);
        assertTrue(worker.claim(1));
        assertEquals(List.of(unclaimed), ledger.takeUnacked());
        assertFalse(claimed.isOpen(), "it was the worker's: the master's copy is closed");
        assertEquals(0, ledger.unacked());
        assertFalse(worker.claim(2), "the lost worker's late read cannot claim what went elsewhere");
        unclaimed.close();
    }
}
