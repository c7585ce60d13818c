package jcluster.worker;

import jcluster.app.Messages;
import jcluster.common.Frame;
import jcluster.common.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * The worker's side of {@link Messages}: frames to the master on the control socket, when it takes more (its
 * outbound buffer under Netty's high-water mark, so a master that does not read costs this worker a bounded
 * amount too); frames from it to the subscribers of their topic, on the control socket's loop.
 */
final class WorkerMessages implements Messages {
    private static final Logger log = LoggerFactory.getLogger(WorkerMessages.class);

    private final Map<String, List<Listener>> listeners = new ConcurrentHashMap<>();
    private final Map<String, List<Listener>> blocking = new ConcurrentHashMap<>();
    /** The blocking listeners' one thread, started with the first of them: order kept, the loop never held. */
    private volatile ThreadPoolExecutor blockingThread;
    private final LongAdder droppedArrivals = new LongAdder();
    private volatile long lastDropLogNanos;
    private final LongAdder dropped = new LongAdder();
    /** Sends a frame on the control socket if it takes more now. */
    private final Predicate<Frame> sender;

    WorkerMessages(Predicate<Frame> sender) {
        this.sender = sender;
    }

    @Override
    public boolean broadcast(String topic, byte[] data) {
        return send(new Message(Message.OTHERS, topic, data));
    }

    @Override
    public boolean broadcastToAll(String topic, byte[] data) {
        return send(new Message(Message.ALL, topic, data));
    }

    @Override
    public boolean send(int workerId, String topic, byte[] data) {
        if (workerId < 1) {
            throw new IllegalArgumentException("worker ids start at 1, not " + workerId);
        }
        return send(new Message(workerId, topic, data));
    }

    private boolean send(Message m) {
        if (sender.test(m.frame())) {
            return true;
        }
        dropped.increment();
        return false;
    }

    @Override
    public void subscribe(String topic, Listener listener) {
        subscribe(listeners, topic, listener);
    }

    @Override
    public synchronized void subscribeBlocking(String topic, Listener listener) {
        if (blockingThread == null) {
            ThreadPoolExecutor t = new ThreadPoolExecutor(1, 1, 0,
                    TimeUnit.SECONDS, new ArrayBlockingQueue<>(BLOCKING_QUEUE),
                    r -> {
                        Thread th = new Thread(r, "messages");
                        th.setDaemon(true);
                        th.setContextClassLoader(Thread.currentThread().getContextClassLoader());
                        return th;
                    }, (r, pool) -> dropArrival());
            blockingThread = t;
        }
        subscribe(blocking, topic, listener);
    }

    private static void subscribe(Map<String, List<Listener>> to, String topic, Listener listener) {
        if (!topic.equals(ALL_TOPICS)) {
            // the topic's checks, as a message on it would meet them
            new Message(Message.OTHERS, topic, new byte[0]);
        }
        to.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).add(Objects.requireNonNull(listener));
    }

    /** The blocking listeners' queue is full: this arrival is not theirs; a line a second says how many. */
    private void dropArrival() {
        droppedArrivals.increment();
        long now = System.nanoTime();
        if (now - lastDropLogNanos >= 1_000_000_000L) {
            lastDropLogNanos = now;
            log.warn("blocking message listeners are {} message(s) behind; {} arrival(s) dropped for them so far",
                    BLOCKING_QUEUE, droppedArrivals.sum());
        }
    }

    @Override
    public long dropped() {
        return dropped.sum();
    }

    /** A MESSAGE from the master; on the control socket's loop. */
    void received(Frame f) {
        Message m;
        try {
            m = Message.of(f);
        } catch (IllegalArgumentException e) {
            log.warn("dropping a malformed message from the master: {}", e.getMessage());
            return;
        }
        deliver(listeners.get(m.topic()), m);
        deliver(listeners.get(ALL_TOPICS), m);
        ThreadPoolExecutor t = blockingThread;
        if (t != null && (blocking.containsKey(m.topic()) || blocking.containsKey(ALL_TOPICS))) {
            t.execute(() -> {
                deliver(blocking.get(m.topic()), m);
                deliver(blocking.get(ALL_TOPICS), m);
            });
        }
    }

    private static void deliver(List<Listener> to, Message m) {
        if (to == null) {
            return;
        }
        for (Listener l : to) {
            try {
                l.onMessage(m.peer(), m.topic(), m.data());
            } catch (RuntimeException e) {
                log.warn("a message listener on {} threw: {}", m.topic(), e.toString());
            }
        }
    }

    /** DROPPED from the master: recipients that missed messages of this worker's. */
    void droppedByMaster(int count) {
        dropped.add(count);
    }
}
