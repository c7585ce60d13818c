package jcluster.master.messages;

import jcluster.common.Frame;
import jcluster.common.Message;
import jcluster.common.MessageType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class MessageRouterTest {
    /** A worker whose socket takes {@code room} more frames. */
    static final class Fake implements MessageRouter.Recipient {
        final int id;
        boolean live = true;
        int room = Integer.MAX_VALUE;
        final List<Frame> got = new ArrayList<>();

        Fake(int id) {
            this.id = id;
        }

        @Override
        public int id() {
            return id;
        }

        @Override
        public boolean live() {
            return live;
        }

        @Override
        public boolean offer(Frame f) {
            if (room == 0) {
                return false;
            }
            room--;
            got.add(f);
            return true;
        }

        List<String> texts() {
            return got.stream().filter(f -> f.type() == MessageType.MESSAGE)
                    .map(f -> Message.of(f).peer() + ":" + new String(Message.of(f).data())).toList();
        }
    }

    static Frame msg(int target, String text) {
        return new Message(target, "t", text.getBytes()).frame();
    }

    @Test
    void aBroadcastReachesEveryOtherLiveWorkerOnceInTheSendersOrderNamingTheSender() {
        Fake a = new Fake(1), b = new Fake(2), c = new Fake(3), gone = new Fake(4);
        gone.live = false;
        MessageRouter r = new MessageRouter();
        List<Fake> all = List.of(a, b, c, gone);
        for (int i = 0; i < 5; i++) {
            assertEquals(2, r.route(a, msg(Message.OTHERS, "m" + i), all));
        }
        assertEquals(List.of(), a.texts(), "not to its sender");
        assertEquals(List.of("1:m0", "1:m1", "1:m2", "1:m3", "1:m4"), b.texts());
        assertEquals(b.texts(), c.texts());
        assertEquals(List.of(), gone.texts());
        assertEquals(3, r.route(b, msg(Message.ALL, "all"), all), "ALL includes the sender");
        assertEquals("2:all", b.texts().get(5));
        assertEquals(1, r.route(c, msg(2, "one"), all));
        assertEquals(List.of("2:all", "3:one"), b.texts().subList(5, 7));
        assertEquals(-1, r.route(c, msg(4, "to the dead"), all));
        assertEquals(-1, r.route(c, msg(9, "to nobody"), all));
        assertEquals(1, r.route(null, msg(1, "cli"), all));
        assertEquals("0:cli", a.texts().get(a.texts().size() - 1), "the control socket's send is from worker 0");
        assertEquals(15, r.routed());
        assertEquals(0, r.dropped());
    }

    @Test
    void aWorkerWhoseQueueIsFullLosesWhatComesAndTheSenderIsTold() {
        Fake sender = new Fake(1), slow = new Fake(2), fine = new Fake(3);
        slow.room = 3;
        MessageRouter r = new MessageRouter();
        for (int i = 0; i < 10; i++) {
            r.route(sender, msg(Message.OTHERS, "m" + i), List.of(sender, slow, fine));
        }
        assertEquals(List.of("1:m0", "1:m1", "1:m2"), slow.texts(), "the first, in order; then nothing");
        assertEquals(10, fine.texts().size(), "the others are not held back by it");
        assertEquals(7, r.dropped());
        assertEquals(13, r.routed());
        assertEquals(7, sender.got.stream().filter(f -> f.type() == MessageType.DROPPED).mapToInt(Frame::droppedCount)
                .sum(), "the sender hears of each drop");
    }

    @Test
    void aMessageIsBounded() {
        assertThrows(IllegalArgumentException.class, () -> new Message(1, "t", new byte[Message.MAX_DATA + 1]));
        assertThrows(IllegalArgumentException.class, () -> new Message(1, "", new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> new Message(1, "x".repeat(256), new byte[1]));
        Frame biggest = new Message(1, "x".repeat(255), new byte[Message.MAX_DATA]).frame();
        assertTrue(biggest.payload().length <= Frame.MAX_PAYLOAD);
        Message back = Message.of(biggest);
        assertEquals(Message.MAX_DATA, back.data().length);
        assertEquals(1, back.peer());
    }
}
