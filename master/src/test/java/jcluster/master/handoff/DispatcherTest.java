package jcluster.master.handoff;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(5)
class DispatcherTest {
    static final long MS = 1_000_000;
    static final long STALL = 50 * MS;
    static final long LATE = 1500 * MS;
    static final int CAP = 4;

    /** A worker as the dispatcher sees it, with a fake clock. */
    static final class Fake implements Dispatcher.Candidate {
        final String name;
        int unacked;
        long oldest;
        long heartbeat;
        int load;
        long ready;

        Fake(String name) {
            this.name = name;
        }

        @Override
        public int unacked() {
            return unacked;
        }

        @Override
        public long oldestUnackedNanos() {
            return oldest;
        }

        @Override
        public long lastHeartbeatNanos() {
            return heartbeat;
        }

        @Override
        public int load() {
            return load;
        }

        @Override
        public long readyNanos() {
            return ready;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Dispatcher<Fake> dispatcher(Dispatcher.Policy p, Fake... ws) {
        Dispatcher<Fake> d = new Dispatcher<>(p, CAP, STALL, LATE, 0);
        for (Fake w : ws) {
            d.add(w);
        }
        return d;
    }

    static List<String> take(Dispatcher<Fake> d, long now, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Fake w = d.next(now);
            out.add(w == null ? null : w.name);
        }
        return out;
    }

    @Test
    void nobodyReadyGivesNull() {
        assertNull(dispatcher(Dispatcher.Policy.ROUND_ROBIN).next(0));
        assertNull(dispatcher(Dispatcher.Policy.LEAST_CONNECTIONS).next(0));
    }

    @Test
    void roundRobinIsExact() {
        Dispatcher<Fake> d = dispatcher(Dispatcher.Policy.ROUND_ROBIN, new Fake("a"), new Fake("b"), new Fake("c"));
        assertEquals(List.of("a", "b", "c", "a", "b", "c", "a"), take(d, 0, 7));
    }

    @Test
    void addingTwiceDoesNotDoubleAShare() {
        Fake a = new Fake("a");
        Dispatcher<Fake> d = dispatcher(Dispatcher.Policy.ROUND_ROBIN, a, a, new Fake("b"));
        assertEquals(List.of("a", "b", "a", "b"), take(d, 0, 4));
    }

    @Test
    void removingKeepsTheRotationFair() {
        Fake a = new Fake("a");
        Fake b = new Fake("b");
        Fake c = new Fake("c");
        Dispatcher<Fake> d = dispatcher(Dispatcher.Policy.ROUND_ROBIN, a, b, c);
        assertEquals(List.of("a", "b"), take(d, 0, 2));
        d.remove(a); // before the cursor: c is still next
        assertEquals(List.of("c", "b", "c"), take(d, 0, 3));
        d.remove(c);
        assertEquals(List.of("b", "b"), take(d, 0, 2));
        d.remove(b);
        assertNull(d.next(0));
    }

    @Test
    void aWorkerWithALateHeartbeatGetsNothing() {
        Fake a = new Fake("a");
        Fake b = new Fake("b");
        long now = 10_000 * MS;
        a.heartbeat = now - 100 * MS;
        b.heartbeat = now - LATE;
        for (Dispatcher.Policy p : Dispatcher.Policy.values()) {
            assertEquals(List.of("a", "a", "a"), take(dispatcher(p, a, b), now, 3), p.flag());
        }
        b.heartbeat = now;
        assertEquals(List.of("a", "b"), take(dispatcher(Dispatcher.Policy.ROUND_ROBIN, a, b), now, 2));
    }

    @Test
    void aWorkerThatHasNotPickedUpAConnectionWithinTheStallLimitGetsNothing() {
        Fake a = new Fake("a");
        Fake b = new Fake("b");
        long now = 10_000 * MS;
        a.heartbeat = b.heartbeat = now;
        a.unacked = 1;
        a.oldest = now - STALL + MS;
        Dispatcher<Fake> rr = dispatcher(Dispatcher.Policy.ROUND_ROBIN, a, b);
        assertEquals(List.of("a", "b"), take(rr, now, 2), "a handoff younger than the limit is normal");
        a.oldest = now - STALL;
        assertEquals(List.of("b", "b", "b"), take(rr, now, 3));
        a.unacked = 0;
        assertEquals(List.of("a", "b"), take(rr, now, 2), "an acknowledgement makes it eligible again");
    }

    @Test
    void capsAreRespectedAndAllAtCapGivesNull() {
        Fake a = new Fake("a");
        Fake b = new Fake("b");
        a.unacked = CAP;
        assertEquals(List.of("b", "b"), take(dispatcher(Dispatcher.Policy.ROUND_ROBIN, a, b), 0, 2));
        b.unacked = CAP;
        assertNull(dispatcher(Dispatcher.Policy.ROUND_ROBIN, a, b).next(0));
        assertNull(dispatcher(Dispatcher.Policy.LEAST_CONNECTIONS, a, b).next(0));
    }

    @Test
    void noStallLimitMeansOnlyCapsAndHeartbeatsCount() {
        Fake a = new Fake("a");
        a.unacked = 1;
        a.oldest = -1_000_000 * MS;
        Dispatcher<Fake> d = new Dispatcher<>(Dispatcher.Policy.ROUND_ROBIN, CAP, 0, LATE, 0);
        d.add(a);
        assertSame(a, d.next(0));
    }

    @Test
    void leastConnectionsTakesTheLeastLoadedAndRotatesTies() {
        Fake a = new Fake("a");
        Fake b = new Fake("b");
        Fake c = new Fake("c");
        a.load = 5;
        b.load = 2;
        c.load = 2;
        Dispatcher<Fake> d = dispatcher(Dispatcher.Policy.LEAST_CONNECTIONS, a, b, c);
        assertEquals(List.of("b", "c", "b", "c"), take(d, 0, 4));
        c.load = 1;
        assertEquals(List.of("c", "c"), take(d, 0, 2));
    }

    @Test
    void slowStartGivesANewWorkerAGrowingShare() {
        long slow = 10_000 * MS;
        Fake old = new Fake("old");
        Fake fresh = new Fake("new");
        long now = 100_000 * MS;
        old.heartbeat = fresh.heartbeat = now;
        old.ready = 0;
        fresh.ready = now;
        Dispatcher<Fake> d = new Dispatcher<>(Dispatcher.Policy.LEAST_CONNECTIONS, CAP, STALL, LATE, slow);
        d.add(old);
        d.add(fresh);
        assertEquals(0.1, d.share(fresh, now), 1e-9);
        assertEquals(1, d.share(old, now), 1e-9);
        old.load = 8;
        assertSame(old, d.next(now), "9 / 1 beats 1 / 0.1: the cold worker waits");
        old.load = 12;
        assertSame(fresh, d.next(now), "13 / 1 against 1 / 0.1");
        assertEquals(0.5, d.share(fresh, now + slow / 2), 1e-9);
        old.load = 1;
        old.heartbeat = fresh.heartbeat = now + slow;
        assertSame(fresh, d.next(now + slow), "a full share at the end: 1 against 2");
        Dispatcher<Fake> rr = new Dispatcher<>(Dispatcher.Policy.ROUND_ROBIN, CAP, STALL, LATE, slow);
        rr.add(old);
        rr.add(fresh);
        assertEquals(List.of("old", "new"), take(rr, now, 2), "round-robin stays exact");
    }

    @Test
    void policiesByFlag() {
        assertEquals(Dispatcher.Policy.LEAST_CONNECTIONS, Dispatcher.Policy.of("least-connections"));
        assertEquals(Dispatcher.Policy.ROUND_ROBIN, Dispatcher.Policy.of("round-robin"));
        assertThrows(IllegalArgumentException.class, () -> Dispatcher.Policy.of("random"));
    }

    // ---- sticky ----------------------------------------------------------------------------------------------

    static Dispatcher<Fake> sticky(int slots, Fake... ws) {
        Dispatcher<Fake> d = new Dispatcher<>(Dispatcher.Policy.STICKY, CAP, STALL, LATE, 0);
        d.slots(slots);
        for (Fake w : ws) {
            d.add(w);
        }
        return d;
    }

    static long key(int i) {
        return ClientKey.ofBytes(new byte[] {10, 0, (byte) (i >> 8), (byte) i}, 0, 4);
    }

    @Test
    void stickySendsAnAddressToOneWorkerAndSpreadsAddresses() {
        Fake a = new Fake("a"), b = new Fake("b"), c = new Fake("c");
        Dispatcher<Fake> d = sticky(3, a, b, c);
        java.util.Map<String, Integer> counts = new java.util.HashMap<>();
        for (int i = 0; i < 3000; i++) {
            Fake first = d.next(0, key(i));
            for (int k = 0; k < 3; k++) {
                assertSame(first, d.next(0, key(i)), "address " + i + " moved");
            }
            counts.merge(first.name, 1, Integer::sum);
        }
        for (String w : List.of("a", "b", "c")) {
            int n = counts.getOrDefault(w, 0);
            assertTrue(n > 800 && n < 1200, w + " got " + n + " of 3000 addresses: " + counts);
        }
    }

    @Test
    void aReplacementTakesOverTheLeaversSlotAndItsAddresses() {
        Fake a = new Fake("a"), b = new Fake("b"), c = new Fake("c");
        Dispatcher<Fake> d = sticky(2, a, b);
        List<Fake> before = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            before.add(d.next(0, key(i)));
        }
        d.add(c);
        assertEquals(-1, d.slotOf(c), "every slot is held: the new worker waits for one");
        for (int i = 0; i < 200; i++) {
            assertSame(before.get(i), d.next(0, key(i)), "a worker without a slot takes nothing while others can");
        }
        int slotOfA = d.slotOf(a);
        d.remove(a);
        assertEquals(slotOfA, d.slotOf(c));
        for (int i = 0; i < 200; i++) {
            assertSame(before.get(i) == a ? c : b, d.next(0, key(i)), "address " + i);
        }
    }

    @Test
    void aStalledWorkersAddressesGoToTheNextInOrderAndComeBack() {
        Fake a = new Fake("a"), b = new Fake("b"), c = new Fake("c");
        Dispatcher<Fake> d = sticky(3, a, b, c);
        int i = 0;
        while (d.next(0, key(i)) != a) {
            i++;
        }
        long k = key(i);
        assertSame(a, d.next(0, k));
        a.unacked = 1;
        a.oldest = 0;
        Fake fallback = d.next(STALL + 1, k);
        assertNotSame(a, fallback);
        assertSame(fallback, d.next(STALL + 2, k), "one fallback, not a spray");
        a.unacked = 0;
        assertSame(a, d.next(STALL + 3, k), "back once it takes connections again");
        // out of dispatch (a late heartbeat) and back: the same slot again
        int slot = d.slotOf(a);
        d.remove(a);
        assertSame(fallback, d.next(0, k));
        d.add(a);
        assertEquals(slot, d.slotOf(a));
        assertSame(a, d.next(0, k));
    }

    @Test
    void aWorkerWithoutASlotTakesWhatNoOtherCan() {
        Fake a = new Fake("a"), b = new Fake("b");
        Dispatcher<Fake> d = sticky(1, a, b);
        assertSame(a, d.next(0, key(1)));
        a.unacked = CAP;
        assertSame(b, d.next(0, key(1)));
    }

    @Test
    void moreSlotsGoToTheWorkersWaitingForOne() {
        Fake a = new Fake("a"), b = new Fake("b"), c = new Fake("c");
        Dispatcher<Fake> d = sticky(2, a, b, c);
        assertEquals(-1, d.slotOf(c));
        d.slots(3);
        assertEquals(2, d.slotOf(c));
        d.slots(1);
        d.remove(b);
        assertEquals(List.of(0, -1, 2), List.of(d.slotOf(a), d.slotOf(b), d.slotOf(c)),
                "shrinking takes no slot away; a leaver's slot goes to no one past the count");
    }

    @Test
    void anIpv4AddressHasOneKeyHoweverItArrives() throws Exception {
        byte[] v4 = new byte[1 + 8];
        v4[0] = 8;
        System.arraycopy(new byte[] {127, 0, 0, 2}, 0, v4, 1, 4);
        byte[] mapped = new byte[1 + 24];
        mapped[0] = 24;
        mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 0xff;
        System.arraycopy(new byte[] {127, 0, 0, 2}, 0, mapped, 13, 4);
        assertEquals(ClientKey.ofAccepted(v4), ClientKey.ofAccepted(mapped));
        assertEquals(ClientKey.ofBytes(java.net.InetAddress.getByName("127.0.0.2").getAddress(), 0, 4),
                ClientKey.ofAccepted(v4));
        v4[4] = 3;
        assertNotEquals(ClientKey.ofAccepted(mapped), ClientKey.ofAccepted(v4));
    }
}
