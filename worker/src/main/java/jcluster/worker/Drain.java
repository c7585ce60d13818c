package jcluster.worker;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import jcluster.common.ExitCodes;
import jcluster.worker.http.HandBack;
import jcluster.worker.http.HttpInitializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How the worker leaves, on the control socket's loop; every way in goes through {@link #drain}, once.
 * <ul>
 *   <li>SERVING → DRAINING: DRAIN from the master; SIGTERM or SIGINT (after LEAVING to the master); the master gone
 *   for longer than the orphan timeout. Idle connections close now, busy ones after their response; connections
 *   handed over meanwhile are still served. With HAND_BACK instead of DRAIN (a reload, a scale-down, a recycle:
 *   the master has other workers), each keep-alive connection goes back to the master once idle, never closed.</li>
 *   <li>DRAINING → DRAINED: the last connection closed; BYE goes to the master, then the exit (0).</li>
 *   <li>any → STOPPED: STOP from the master, or the shutdown timeout passed while draining: exit at once,
 *   {@link ExitCodes#FORCED_STOP} if requests were still in flight, so the master knows a stop dropped work.</li>
 * </ul>
 */
final class Drain implements MasterLink.Orders {
    private static final Logger log = LoggerFactory.getLogger(Drain.class);

    enum State { SERVING, DRAINING, DRAINED, STOPPED }

    private final Set<Channel> connections;
    private final LongSupplier inFlight;
    private final long timeoutMillis;
    /** The worker's exit code, once it leaves. */
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private volatile State state = State.SERVING;
    private EventLoop loop;
    private MasterLink link;
    private HttpInitializer http;
    /** The drain hands idle connections back (HAND_BACK). */
    private volatile boolean handingBack;

    /** @param timeoutMillis how long a drain may take before the worker exits anyway */
    Drain(Set<Channel> connections, LongSupplier inFlight, long timeoutMillis) {
        this.connections = connections;
        this.inFlight = inFlight;
        this.timeoutMillis = timeoutMillis;
    }

    /** The link BYE (and handed-back connections) go on; its loop is where this runs; the connections' pipeline. */
    void linkedTo(MasterLink link, HttpInitializer http) {
        this.link = link;
        this.loop = link.loop();
        this.http = http;
    }

    State state() {
        return state;
    }

    @Override
    public boolean serving() {
        return state == State.SERVING;
    }

    @Override
    public boolean done() {
        return state == State.DRAINED || state == State.STOPPED;
    }

    /** While draining with a hand-back: where idle connections go; else null. Read on any thread. */
    HandBack handBack() {
        return state == State.DRAINING && handingBack ? link::handBack : null;
    }

    /** True from the drain on: responses say {@code Connection: close}. Read on any thread. */
    boolean draining() {
        return state != State.SERVING;
    }

    CompletableFuture<Integer> exit() {
        return exit;
    }

    /** Drains, closing idle connections (a signal, the master gone). */
    public void drain(String why) {
        drain(why, false);
    }

    @Override
    public void drain(String why, boolean handBack) {
        if (state != State.SERVING) {
            return;
        }
        if (link == null) {
            // the master went while this worker was still connecting: it served nothing
            log.info("master gone before this worker was up ({}); exiting", why);
            leave(State.STOPPED, ExitCodes.OK);
            return;
        }
        handingBack = handBack;
        state = State.DRAINING;
        log.info("draining: {}; {} connection(s) open", why, connections.size());
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> http.drain(ch, handBack ? link::handBack : null));
        }
        loop.schedule(() -> {
            if (state == State.DRAINING) {
                log.warn("shutdown timeout ({} ms) passed with {} connection(s) open, {} request(s) in flight; "
                        + "exiting", timeoutMillis, connections.size(), inFlight.getAsLong());
                leave(State.STOPPED, cutCode());
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
        exitIfDrained();
    }

    @Override
    public void stop() {
        log.info("stopping at the master's request, {} connection(s) open, {} request(s) in flight",
                connections.size(), inFlight.getAsLong());
        leave(State.STOPPED, cutCode());
    }

    /** A client connection closed, on its own loop. */
    void connectionClosed() {
        if (state == State.DRAINING) {
            loop.execute(() -> {
                log.debug("draining: {} connection(s) left, {} request(s) in flight", connections.size(),
                        inFlight.getAsLong());
                exitIfDrained();
            });
        }
    }

    private void exitIfDrained() {
        if (state == State.DRAINING && connections.isEmpty()) {
            log.info("drained; exiting");
            state = State.DRAINED;
            link.bye(() -> exit.complete(ExitCodes.OK));
        }
    }

    private void leave(State to, int code) {
        if (!exit.isDone()) {
            state = to;
            exit.complete(code);
        }
    }

    /** How an exit before the connections are done is reported: were requests cut? */
    private int cutCode() {
        return inFlight.getAsLong() > 0 ? ExitCodes.FORCED_STOP : ExitCodes.OK;
    }
}
