package jcluster.worker;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import jcluster.common.Frame;
import jcluster.common.FrameCodec;
import jcluster.common.MessageType;
import jcluster.common.WorkerStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The worker's two sockets to the master's handoff socket: frames both ways on the control socket, connection fds
 * (master → worker) on the other. Each opens with a HELLO carrying the worker's id and secret; the master's frames
 * (DRAIN, STOP) become {@link Orders}.
 * <p>A master that dies leaves its workers orphaned, not gone: with an orphan timeout, the worker keeps serving the
 * connections it holds and connects again every {@link #RETRY_MILLIS} to the same socket path, where a new master
 * on the same runtime directory listens; once both sockets are back it says READY (or LEAVING, if it was
 * draining), and the new master has adopted it. No new master within the timeout: it drains and exits, as it does
 * at once without a timeout. Everything here runs on the control socket's loop, the worker's own state's.
 */
final class MasterLink {
    private static final Logger log = LoggerFactory.getLogger(MasterLink.class);
    /** How often an orphaned worker tries the master's socket. */
    static final long RETRY_MILLIS = 250;
    /** A link lost this soon after it was made again was not an adoption. */
    static final long REJECTED_WITHIN_MILLIS = 1000;

    /** What the master's frames, and its loss, make the worker do; called on the control socket's loop. */
    interface Orders {
        /** @param handBack idle connections go back to the master rather than closed (HAND_BACK) */
        void drain(String why, boolean handBack);

        void stop();

        /** Not draining, not leaving: READY to a new master, not LEAVING. */
        boolean serving();

        /** Drained or stopped: the exit is under way, and the sockets close with it. */
        boolean done();
    }

    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Path socket;
    private final int id;
    private final byte[] secret;
    private final Orders orders;
    private final Function<Channel, FdReceiver> receivers;
    private final long orphanTimeoutMillis;
    private final Runnable reopenLogs;
    private final WorkerMessages messages;
    private volatile Channel control;
    private Channel fds;
    private FdReceiver receiver;
    /** When the master was lost, while orphaned; -1 while linked. */
    private long orphanedSince = -1;
    /** When a new master last took this worker back, and since when it had been orphaned then. */
    private long adoptedAt = -1;
    private long orphanedBefore;

    private MasterLink(EventLoopGroup group, Path socket, int id, byte[] secret, Orders orders,
                       Function<Channel, FdReceiver> receivers, long orphanTimeoutMillis, Runnable reopenLogs,
                       WorkerMessages messages) {
        this.group = group;
        this.reopenLogs = reopenLogs;
        this.messages = messages;
        this.loop = group.next();
        this.socket = socket;
        this.id = id;
        this.secret = secret;
        this.orders = orders;
        this.receivers = receivers;
        this.orphanTimeoutMillis = orphanTimeoutMillis;
    }

    /**
     * Connects both sockets and says HELLO on each; blocks until then.
     * @param receivers the fd socket's handler, given the control socket its acknowledgements go on
     * @param orphanTimeoutMillis how long to wait for a new master once this one is gone; 0 to drain at once
     * @param reopenLogs what REOPEN_LOGS does
     * @param messages where MESSAGE and DROPPED go
     */
    static MasterLink connect(EventLoopGroup group, Path socket, int id, byte[] secret, Orders orders,
                              Function<Channel, FdReceiver> receivers, long orphanTimeoutMillis, Runnable reopenLogs,
                              WorkerMessages messages)
            throws InterruptedException {
        MasterLink link = new MasterLink(group, socket, id, secret, orders, receivers, orphanTimeoutMillis,
                reopenLogs, messages);
        CompletableFuture<Void> linked = new CompletableFuture<>();
        link.loop.execute(() -> link.open(linked));
        try {
            linked.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot connect to the master's socket " + socket + ": "
                    + e.getCause().getMessage(), e.getCause());
        }
        return link;
    }

    /** Opens the control socket, then the fd socket, each with its HELLO; on the loop. */
    private void open(CompletableFuture<Void> linked) {
        boolean again = control != null;
        DomainSocketAddress master = new DomainSocketAddress(socket.toFile());
        new Bootstrap().group(loop).channel(EpollDomainSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new FrameCodec(), new ControlHandler());
                    }
                })
                .connect(master).addListener((ChannelFutureListener) c -> {
                    if (!c.isSuccess()) {
                        linked.completeExceptionally(c.cause());
                        return;
                    }
                    Channel ctl = c.channel();
                    ctl.writeAndFlush(Frame.hello(id, Frame.ChannelKind.CONTROL, secret));
                    FdReceiver fdReceiver = again ? receivers.apply(ctl).expectingOutput() : receivers.apply(ctl);
                    new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                            .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                            .handler(fdReceiver)
                            .connect(master).addListener((ChannelFutureListener) f -> loop.execute(() -> {
                                if (!f.isSuccess()) {
                                    ctl.close();
                                    linked.completeExceptionally(f.cause());
                                    return;
                                }
                                // this socket reads fds only, so it has no codec: the HELLO is encoded by hand
                                ByteBuf hello = Unpooled.buffer();
                                FrameCodec.encodeTo(Frame.hello(id, Frame.ChannelKind.FDS, secret), hello);
                                f.channel().writeAndFlush(hello);
                                control = ctl;
                                fds = f.channel();
                                receiver = fdReceiver;
                                Channel mine = ctl;
                                ctl.closeFuture().addListener(x -> loop.execute(() -> lost(mine,
                                        "EOF on the control socket")));
                                fds.closeFuture().addListener(x -> loop.execute(() -> lost(mine,
                                        "handoff socket closed")));
                                linked.complete(null);
                            }));
                });
    }

    /** One of the sockets to the master closed: this link is over; orphaned, or leaving. */
    private void lost(Channel which, String why) {
        if (which != control || orphanedSince >= 0 || orders.done()) {
            return;
        }
        // The fd socket is left to close at its own EOF: connections the master sent just before it died may still
        // be queued in it, and closing it unread would close them under their clients.
        control.close();
        if (orphanTimeoutMillis == 0) {
            orders.drain("master gone (" + why + ")", false);
            return;
        }
        long now = System.nanoTime();
        if (adoptedAt >= 0 && now - adoptedAt < TimeUnit.MILLISECONDS.toNanos(REJECTED_WITHIN_MILLIS)) {
            // the master it connected to did not keep it (it refused its HELLO, or died at once): the same
            // orphan period goes on, and the next try waits longer
            orphanedSince = orphanedBefore;
            log.debug("the new master let go of this worker ({}); trying again", why);
            loop.schedule(this::reconnect, REJECTED_WITHIN_MILLIS, TimeUnit.MILLISECONDS);
            return;
        }
        orphanedSince = now;
        log.warn("master gone ({}); serving what this worker holds and waiting up to {} ms for a new master on {}",
                why, orphanTimeoutMillis, socket);
        loop.schedule(this::reconnect, RETRY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Orphaned: tries the master's socket again, until a new master is there or the orphan timeout ends. */
    private void reconnect() {
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - orphanedSince);
        if (waited >= orphanTimeoutMillis) {
            log.warn("no new master within {} ms (--orphan-timeout)", orphanTimeoutMillis);
            orders.drain("master gone, and no new master within the orphan timeout", false);
            return;
        }
        CompletableFuture<Void> linked = new CompletableFuture<>();
        linked.whenComplete((ok, failed) -> loop.execute(() -> {
            if (failed != null) {
                loop.schedule(this::reconnect, RETRY_MILLIS, TimeUnit.MILLISECONDS);
                return;
            }
            if (!control.isActive() || !fds.isActive()) {
                // closed already (a master that refused the HELLO): still orphaned, the same period goes on
                control.close();
                fds.close();
                loop.schedule(this::reconnect, REJECTED_WITHIN_MILLIS, TimeUnit.MILLISECONDS);
                return;
            }
            adoptedAt = System.nanoTime();
            orphanedBefore = orphanedSince;
            orphanedSince = -1;
            if (orders.serving()) {
                log.info("adopted by a new master on {} after {} ms; ready", socket, waited);
                ready();
            } else {
                log.info("adopted by a new master on {} after {} ms; still draining", socket, waited);
                control.writeAndFlush(Frame.leaving(0));
            }
        }));
        open(linked);
    }

    /** The fd socket's handler: its totals go into the DEBUG account. */
    FdReceiver receiver() {
        return receiver;
    }

    /** The control socket's loop: the worker's own state lives on it. */
    EventLoop loop() {
        return loop;
    }

    /** Linked to a master now (not orphaned, not gone); on the loop. */
    boolean connected() {
        return orphanedSince < 0 && control != null && control.isActive();
    }

    /** The HTTP stack is up and answered its self-probe: send connections. */
    void ready() {
        control.writeAndFlush(Frame.of(MessageType.READY));
    }

    /** Drains on its own, for this signal: the master starts a replacement and expects the exit. */
    void leaving(int signal) {
        if (connected()) {
            control.writeAndFlush(Frame.leaving(signal));
        }
    }

    void heartbeat(WorkerStats stats) {
        if (connected()) {
            control.writeAndFlush(Frame.stats(stats));
        }
    }

    /** Hands an idle connection's fd back to the master on the fd socket; {@code done} hears whether it went. */
    void handBack(int fd, java.util.function.Consumer<Boolean> done) {
        loop.execute(() -> {
            if (!connected() || !fds.isActive()) {
                done.accept(false);
                return;
            }
            fds.writeAndFlush(new io.netty.channel.unix.FileDescriptor(fd)).addListener(f -> done.accept(f.isSuccess()));
        });
    }

    /**
     * An app's message to the master, if the control socket takes more now (under Netty's high-water mark, 64 KiB by
     * default): a master that does not read makes this worker drop, not buffer. Any thread.
     */
    boolean offer(Frame f) {
        Channel ch = control;
        if (ch == null || !ch.isActive() || !ch.isWritable()) {
            return false;
        }
        ch.writeAndFlush(f, ch.voidPromise());
        return true;
    }

    /** Asks the master to retire this worker; false without a master. */
    boolean retire() {
        Channel ch = control;
        if (ch == null || !ch.isActive()) {
            return false;
        }
        ch.writeAndFlush(Frame.of(MessageType.RETIRE), ch.voidPromise());
        return true;
    }

    /** Drained: says BYE, then runs {@code then} (at once if the master is gone). */
    void bye(Runnable then) {
        if (connected()) {
            control.writeAndFlush(Frame.of(MessageType.BYE)).addListener(f -> then.run());
        } else {
            then.run();
        }
    }

    /** The master's frames, on the control socket's loop. */
    private final class ControlHandler extends SimpleChannelInboundHandler<Frame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
            switch (frame.type()) {
                case DRAIN -> orders.drain("master asked to drain", false);
                case HAND_BACK -> orders.drain("master asked to drain, handing idle connections back", true);
                case STOP -> orders.stop();
                case REOPEN_LOGS -> reopenLogs.run();
                case MESSAGE -> messages.received(frame);
                case DROPPED -> messages.droppedByMaster(frame.droppedCount());
                default -> {
                    log.error("unexpected {} from the master; closing the control socket", frame.type());
                    ctx.close();
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException) {
                // a reset is how a killed master looks from here: the close makes this worker an orphan
                log.info("control socket: {}", cause.getMessage());
            } else {
                log.error("control socket failed; closing it", cause);
            }
            ctx.close();
        }
    }
}
