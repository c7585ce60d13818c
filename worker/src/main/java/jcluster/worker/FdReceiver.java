package jcluster.worker;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;
import jcluster.common.ClaimSlots;
import jcluster.common.Frame;
import jcluster.worker.http.HttpInitializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Reads connection fds from the master's handoff socket, wraps each as a Netty channel with the HTTP pipeline and
 * registers it on an event loop. Acknowledges them by count, in arrival order: the master holds its copy of each fd
 * until then, so a connection is never lost between the two processes. Acknowledgements are batched: at once when
 * {@link #ACK_BATCH} are waiting, else {@link #ACK_DELAY_MICROS} after the first. With one connection per request
 * an ACK per read burst was a frame written here and read by the master for nearly every connection; batching took
 * 8% off the CPU a connection costs the cluster (measured as CPU time per request, as bench/run.sh does). The
 * delay is far inside the --handoff-timeout by which the master judges a worker's progress.
 * <p>Each fd is claimed ({@link ClaimSlots}) before it is used: one the master took back because this worker was
 * too slow to pick it up is closed unread (and acknowledged like the others), since another worker serves it.
 * <p>fd ownership: from the moment it is read and claimed here the fd belongs to its channel, which closes it.
 */
final class FdReceiver extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(FdReceiver.class);
    static final int ACK_BATCH = 16;
    static final long ACK_DELAY_MICROS = 2_000;

    private final EventLoopGroup group;
    /** The HTTP stack, there before READY and so before the first connection. */
    private final Supplier<HttpInitializer> http;
    private final Set<Channel> connections;
    private final Runnable onClose;
    private final Channel control;
    private final ClaimSlots claims;
    /** Connections received so far: the sequence number of the claim slot of the next one is this plus one. */
    private long received;
    private long revoked;
    private long ackFrames;
    private int unacked;
    private boolean ackScheduled;
    /** Adopted by a new master: the first fd it sends is this worker's new output, not a connection. */
    private boolean expectOutput;

    FdReceiver(EventLoopGroup group, Supplier<HttpInitializer> http, Set<Channel> connections, Runnable onClose,
               Channel control, ClaimSlots claims) {
        this.group = group;
        this.http = http;
        this.connections = connections;
        this.onClose = onClose;
        this.control = control;
        this.claims = claims;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FileDescriptor fd)) {
            log.error("unexpected {} on the handoff socket; closing it", msg.getClass().getSimpleName());
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (expectOutput) {
            expectOutput = false;
            Output.redirectTo(fd);
            return;
        }
        unacked++;
        received++;
        if (claims != null && !claims.claim(received)) {
            revoked++;
            log.trace("connection {} was taken back by the master; closing this copy", received);
            closeQuietly(fd);
            return;
        }
        // Netty's socket config sets TCP_NODELAY on every channel it makes
        EpollSocketChannel ch = new EpollSocketChannel(fd.intValue());
        ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        http.get().init(ch);
        connections.add(ch);
        ch.closeFuture().addListener(f -> {
            connections.remove(ch);
            onClose.run();
        });
        group.next().register(ch).addListener(f -> {
            if (f.isSuccess()) {
                http.get().drainIfHandingBack(ch);
            }
        });
    }

    /** This socket is to a master that adopted this worker: it sends this worker's new output first. */
    FdReceiver expectingOutput() {
        expectOutput = true;
        return this;
    }

    private static void closeQuietly(FileDescriptor fd) {
        try {
            fd.close();
        } catch (java.io.IOException e) {
            log.debug("closing a revoked connection: {}", e.toString());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (unacked >= ACK_BATCH) {
            ack();
        } else if (unacked > 0 && !ackScheduled) {
            ackScheduled = true;
            ctx.executor().schedule(() -> {
                ackScheduled = false;
                ack();
            }, ACK_DELAY_MICROS, TimeUnit.MICROSECONDS);
        }
        ctx.fireChannelReadComplete();
    }

    private void ack() {
        if (unacked > 0) {
            control.writeAndFlush(Frame.ack(unacked), control.voidPromise());
            ackFrames++;
            unacked = 0;
        }
    }

    /** Totals so far, for the worker's DEBUG account; read on the control loop, written on this socket's. */
    String totals() {
        return received + " connection(s) received (" + revoked + " taken back by the master), acknowledged in "
                + ackFrames + " frame(s)";
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            log.info("handoff socket: {}", cause.getMessage());
        } else {
            log.error("handoff socket failed; closing it", cause);
        }
        ctx.close();
    }
}
