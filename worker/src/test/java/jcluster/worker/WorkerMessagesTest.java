package jcluster.worker;

import jcluster.app.Messages;
import jcluster.common.Frame;
import jcluster.common.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Delivery to listeners: on the caller's thread, or in order on the one message thread for blocking ones. */
@Timeout(10)
class WorkerMessagesTest {
    static Frame from(int worker, String topic, String body) {
        // a frame as the master sends it: the sender in the peer field
        return new Message(worker, topic, body.getBytes(StandardCharsets.UTF_8)).frame();
    }

    @Test
    void aBlockingListenerGetsEveryMessageInOrderOffTheLoopWhileOthersRunAtOnce() throws Exception {
        WorkerMessages m = new WorkerMessages(f -> true);
        List<String> onLoop = new CopyOnWriteArrayList<>();
        List<String> blocking = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch all = new CountDownLatch(50);
        m.subscribe("t", (w, topic, data) -> onLoop.add(Thread.currentThread().getName()));
        m.subscribeBlocking("t", (w, topic, data) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            blocking.add(Thread.currentThread().getName() + " " + new String(data, StandardCharsets.UTF_8));
            all.countDown();
        });
        for (int i = 0; i < 50; i++) {
            m.received(from(2, "t", "m" + i));
        }
        assertEquals(50, onLoop.size(), "the loop's listener ran at once, though the blocking one is stuck");
        assertTrue(onLoop.stream().allMatch(t -> t.equals(Thread.currentThread().getName())));
        release.countDown();
        assertTrue(all.await(5, TimeUnit.SECONDS));
        for (int i = 0; i < 50; i++) {
            assertEquals("messages m" + i, blocking.get(i));
        }
    }

    @Test
    void aFullBlockingQueueDropsArrivalsForItOnly() throws Exception {
        WorkerMessages m = new WorkerMessages(f -> true);
        CountDownLatch release = new CountDownLatch(1);
        List<String> onLoop = new CopyOnWriteArrayList<>();
        m.subscribe(Messages.ALL_TOPICS, (w, topic, data) -> onLoop.add(topic));
        m.subscribeBlocking("slow", (w, topic, data) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        int n = Messages.BLOCKING_QUEUE + 10;
        for (int i = 0; i < n; i++) {
            m.received(from(2, "slow", "x"));
        }
        assertEquals(n, onLoop.size(), "nothing was held up or dropped for the other listener");
        release.countDown();
    }
}
