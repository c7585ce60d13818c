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
}
