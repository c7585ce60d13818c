package jcluster.common;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** Two mappings of one file, as the master and a worker have: exactly one side wins each connection. */
@Timeout(30)
class ClaimSlotsTest {
    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        dir = Files.createTempDirectory("claims");
    }

    @AfterEach
    void removeDir() throws IOException {
        Files.deleteIfExists(dir.resolve("w1"));
        Files.delete(dir);
    }

    @Test
    void aClaimedConnectionCannotBeRevokedAndARevokedOneCannotBeClaimed() throws Exception {
        Path f = dir.resolve("w1");
        try (ClaimSlots master = ClaimSlots.create(f); ClaimSlots worker = ClaimSlots.open(f)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
            master.offer(1);
            assertTrue(worker.claim(1));
            assertFalse(master.revoke(1));
            assertFalse(worker.claim(1), "claimed once only");
            master.offer(2);
            assertTrue(master.revoke(2));
            assertFalse(worker.claim(2));
            assertFalse(worker.claim(3), "never offered");
            master.delete();
            assertFalse(Files.exists(f), "the master removes the file when the worker is gone");
        }
    }

    @Test
    void aLateClaimOfAnOldConnectionDoesNotMatchTheOneReusingItsSlot() throws Exception {
        Path f = dir.resolve("w1");
        try (ClaimSlots master = ClaimSlots.create(f); ClaimSlots worker = ClaimSlots.open(f)) {
            master.offer(5);
            assertTrue(master.revoke(5));
            master.offer(5 + ClaimSlots.SLOTS);
            assertFalse(worker.claim(5), "the revoked one, read late");
            assertTrue(worker.claim(5 + ClaimSlots.SLOTS));
        }
    }

    @Test
    void racingSidesNeverBothWin() throws Exception {
        Path f = dir.resolve("w1");
        try (ClaimSlots master = ClaimSlots.create(f); ClaimSlots worker = ClaimSlots.open(f)) {
            int n = 20_000;
            AtomicInteger claimed = new AtomicInteger();
            AtomicInteger revoked = new AtomicInteger();
            for (long seq = 1; seq <= n; seq++) {
                master.offer(seq);
                long s = seq;
                CountDownLatch go = new CountDownLatch(1);
                Thread w = new Thread(() -> {
                    awaitQuietly(go);
                    if (worker.claim(s)) {
                        claimed.incrementAndGet();
                    }
                });
                w.start();
                go.countDown();
                if (master.revoke(s)) {
                    revoked.incrementAndGet();
                }
                w.join();
                if (seq % 1000 == 0) {
                    assertEquals(seq, claimed.get() + revoked.get());
                }
            }
            assertEquals(n, claimed.get() + revoked.get());
        }
    }

    private static void awaitQuietly(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
