package jcluster.worker;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
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
import java.util.function.Function;

/**
 * The worker's two sockets to the master's handoff socket: frames both ways on the control socket, connection fds
 * (master → worker) on the other. Each opens with a HELLO carrying the worker's id and secret; the master's frames
 * (DRAIN, STOP) and the loss of either socket become {@link Orders}.
 */
final class MasterLink {
    private static final Logger log = LoggerFactory.getLogger(MasterLink.class);

    /** What the master's frames, and its loss, make the worker do; called on the control socket's loop. */
    interface Orders {
        void drain(String why);

        void stop();
    }

    private final Channel control;
    private final FdReceiver receiver;

    private MasterLink(Channel control, FdReceiver receiver) {
        this.control = control;
        this.receiver = receiver;
    }

    /**
     * Connects both sockets and says HELLO on each.
     * @param receiver the fd socket's handler, given the control socket its acknowledgements go on
     */
    static MasterLink connect(EventLoopGroup group, Path socket, int id, byte[] secret, Orders orders,
                              Function<Channel, FdReceiver> receiver) throws InterruptedException {
        DomainSocketAddress master = new DomainSocketAddress(socket.toFile());
        Channel control = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new FrameCodec(), new ControlHandler(orders));
                    }
                })
                .connect(master).sync().channel();
        control.writeAndFlush(Frame.hello(id, Frame.ChannelKind.CONTROL, secret));
        FdReceiver fdReceiver = receiver.apply(control);
        Channel fds = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                .handler(fdReceiver)
                .connect(master).sync().channel();
        // this socket reads fds only, so it has no codec: the HELLO is encoded by hand
        ByteBuf hello = Unpooled.buffer();
        FrameCodec.encodeTo(Frame.hello(id, Frame.ChannelKind.FDS, secret), hello);
        fds.writeAndFlush(hello);
        fds.closeFuture().addListener(f -> control.eventLoop().execute(() -> orders.drain("handoff socket closed")));
        return new MasterLink(control, fdReceiver);
    }

    /** The fd socket's handler: its totals go into the DEBUG account. */
    FdReceiver receiver() {
        return receiver;
    }

    /** The control socket's loop: the worker's own state lives on it. */
    EventLoop loop() {
        return control.eventLoop();
    }

    boolean connected() {
        return control.isActive();
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

    /** Drained: says BYE, then runs {@code then} (at once if the master is gone). */
    void bye(Runnable then) {
        if (connected()) {
            control.writeAndFlush(Frame.of(MessageType.BYE)).addListener(f -> then.run());
        } else {
            then.run();
        }
    }

    /** The master's frames, on the control socket's loop. */
    private static final class ControlHandler extends SimpleChannelInboundHandler<Frame> {
        private final Orders orders;

        ControlHandler(Orders orders) {
            this.orders = orders;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
            switch (frame.type()) {
                case DRAIN -> orders.drain("master asked to drain");
                case STOP -> orders.stop();
                default -> {
                    log.error("unexpected {} from the master; closing the control socket", frame.type());
                    ctx.close();
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            orders.drain("master gone (EOF on the control socket)");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException) {
                // a reset is how a killed master looks from here: the close drains this worker
                log.info("control socket: {}", cause.getMessage());
            } else {
                log.error("control socket failed; closing it", cause);
            }
            ctx.close();
        }
    }
}
