package jcluster.app;

/**
 * Messages between this worker and the others, as Node's {@code process.send()} and {@code worker.on('message')}:
 * sent through the master, which routes them and never reads them. Semantics:
 * <ul>
 *   <li>at most once, in order from one sender to one recipient;</li>
 *   <li>only to workers live when it is sent: one started later sees nothing sent before it;</li>
 *   <li>at most {@link #MAX_BYTES} bytes a message, a topic of 1 to 255 bytes of UTF-8 (more is an
 *   {@link IllegalArgumentException});</li>
 *   <li>bounded: a worker that does not read its messages (stalled, or slower than its senders) misses those that
 *   arrive while the master holds 1 MiB for it; they are dropped and counted, and the senders' {@link #dropped()}
 *   grows. What the master held for it before that is delivered when it reads again.</li>
 * </ul>
 * The control socket's {@code master.jar send} arrives from worker 0. Sending is safe from any thread.
 */
public interface Messages {
    /** The largest message: 60 KiB, what a frame between the worker and the master has room for. */
    int MAX_BYTES = 60 * 1024;

    /** Every topic, for {@link #subscribe}. */
    String ALL_TOPICS = "*";

    /** A message's arrival, on the worker's event loop (do nothing there that blocks), or see {@link #subscribeBlocking}. */
    @FunctionalInterface
    interface Listener {
        void onMessage(int fromWorker, String topic, byte[] data);
    }

    /**
     * To every other live worker.
     * @return false if it was not even sent: this worker's own socket to the master is full, or there is no master
     */
    boolean broadcast(String topic, byte[] data);

    /** To every live worker, this one too. */
    boolean broadcastToAll(String topic, byte[] data);

    /** To one worker, by id. */
    boolean send(int workerId, String topic, byte[] data);

    /** Calls {@code listener} for each message on {@code topic} ({@link #ALL_TOPICS}: on every topic). */
    void subscribe(String topic, Listener listener);

    /**
     * As {@link #subscribe}, but {@code listener} runs on the worker's one message thread, where it may block (a
     * database write, a cache reload): still in order, one message at a time. At most {@link #BLOCKING_QUEUE}
     * messages wait for that thread; past that, arrivals for blocking listeners are dropped, with a line in the
     * log each second it happens.
     */
    void subscribeBlocking(String topic, Listener listener);

    /** Messages that may wait for the blocking listeners. */
    int BLOCKING_QUEUE = 10_000;

    /** Messages of this worker's that were dropped: by its own full socket, or by the master for a recipient. */
    long dropped();
}
