package jcluster.master;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(5)
class RoundRobinDispatcherTest {

    private static List<String> take(RoundRobinDispatcher<String> d, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(d.next());
        }
        return out;
    }

    @Test
    void nobodyReadyGivesNull() {
        assertNull(new RoundRobinDispatcher<String>().next());
    }

    @Test
    void exactRotation() {
        RoundRobinDispatcher<String> d = new RoundRobinDispatcher<>();
        d.add("a");
        d.add("b");
        d.add("c");
        assertEquals(List.of("a", "b", "c", "a", "b", "c"), take(d, 6));
    }

    @Test
    void addingTwiceDoesNotDoubleAShare() {
        RoundRobinDispatcher<String> d = new RoundRobinDispatcher<>();
        d.add("a");
        d.add("a");
        d.add("b");
        assertEquals(List.of("a", "b", "a", "b"), take(d, 4));
    }

    @Test
    void removingKeepsTheRotationFair() {
        RoundRobinDispatcher<String> d = new RoundRobinDispatcher<>();
        d.add("a");
        d.add("b");
        d.add("c");
        assertEquals("a", d.next());
        assertEquals("b", d.next());
        d.remove("a"); // before the cursor: c is still next
        assertEquals(List.of("c", "b", "c"), take(d, 3));
        d.remove("c"); // the last one, at the cursor
        assertEquals(List.of("b", "b"), take(d, 2));
        d.remove("b");
        assertNull(d.next());
        d.remove("zzz");
        d.add("d");
        assertEquals("d", d.next());
    }
}
