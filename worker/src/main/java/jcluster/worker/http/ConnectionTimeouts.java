package jcluster.worker.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * First handler of a connection: closes it when it sits idle past the keep-alive timeout (a new connection is idle
 * until its first byte, so one that sends nothing is closed after the keep-alive timeout too, without a response),
 * and answers 408 when a client is too slow to send a request: the header timeout counts from the first byte of a
 * request head, on a new connection as on a reused one, and then between body bytes.
 * <p>One timer per connection, rescheduled only when it fires early, so the request path pays a {@code nanoTime}
 * per phase change, not a timer. A head may begin at any moment of an idle period, so while idle the timer fires at
 * least once per header timeout: it is then never later than a head's deadline, and reschedules itself to it.
 */
final class ConnectionTimeouts extends ChannelDuplexHandler {
    private static final ByteBuf REQUEST_TIMEOUT = Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(
            "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            StandardCharsets.US_ASCII));

    /** User event: the worker drains; an idle connection gets {@link #DRAIN_GRACE_NANOS} instead of keep-alive. */
    static final Object DRAIN = new Object();
    static final long DRAIN_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** While a connection to hand back is busy, how often it is looked at again. */
    static final long HAND_BACK_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final Exchange exchange;
    private final long keepAliveNanos;
    private final long headerNanos;
    private ScheduledFuture<?> timer;

    ConnectionTimeouts(Exchange exchange, long keepAliveMillis, long headerMillis) {
        this.exchange = exchange;
        this.keepAliveNanos = TimeUnit.MILLISECONDS.toNanos(keepAliveMillis);
        this.headerNanos = TimeUnit.MILLISECONDS.toNanos(headerMillis);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        schedule(ctx, Math.min(keepAliveNanos, headerNanos));
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        switch (exchange.phase) {
            case IDLE -> {
                exchange.phase = Exchange.Phase.HEAD;
                exchange.since = System.nanoTime();
            }
            case BODY -> exchange.since = System.nanoTime();
            case HEAD -> { }
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == DRAIN) {
            if (timer != null) {
                timer.cancel(false);
            }
            schedule(ctx, exchange.handBack != null ? 0 : DRAIN_GRACE_NANOS);
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    /** Taken out of the pipeline (the connection became a WebSocket): its timer goes too. */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (timer != null) {
            timer.cancel(false);
        }
        exchange.closed();
        super.channelInactive(ctx);
    }

    /**
     * The connection is idle: reading stops, and unless the client's bytes were read but not parsed (or a response
     * is still being written), its fd goes to the master, and this worker closes its copy (a close, not a shutdown:
     * the connection lives on in the master's copy). What the client sends meanwhile waits in the kernel for the
     * worker that gets it. Otherwise it is closed once idle, as without a hand-back.
     */
    private void handBack(ChannelHandlerContext ctx) {
        HandBack to = exchange.handBack;
        exchange.handBack = null;
        Channel ch = ctx.channel();
        ch.config().setAutoRead(false);
        StrictRequestDecoder decoder = ch.pipeline().get(StrictRequestDecoder.class);
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        if (!(ch instanceof EpollSocketChannel epoll) || decoder == null || decoder.buffering() || out == null
                || !out.isEmpty()) {
            ch.config().setAutoRead(true);
            exchange.closeAfterResponse = true;
            schedule(ctx, DRAIN_GRACE_NANOS);
            return;
        }
        to.send(epoll.fd().intValue(), sent -> ch.eventLoop().execute(ch::close));
    }

    private void schedule(ChannelHandlerContext ctx, long delayNanos) {
        timer = ctx.executor().schedule(() -> check(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check(ChannelHandlerContext ctx) {
        if (!ctx.channel().isActive()) {
            return;
        }
        boolean idle = exchange.idle();
        if (exchange.handBack != null && idle) {
            handBack(ctx);
            return;
        }
        long limit = !idle ? headerNanos : exchange.closeAfterResponse ? DRAIN_GRACE_NANOS : keepAliveNanos;
        long left = exchange.since + limit - System.nanoTime();
        if (left > 0) {
            long next = idle ? Math.min(left, headerNanos) : left;
            schedule(ctx, exchange.handBack != null ? Math.min(next, HAND_BACK_POLL_NANOS) : next);
        } else if (idle) {
            ctx.close();
        } else if (exchange.phase == Exchange.Phase.BODY && exchange.unanswered > 0 && !exchange.receiving) {
            // the app holds the request: timing the app is not this timer's job
            schedule(ctx, headerNanos);
        } else {
            ctx.writeAndFlush(REQUEST_TIMEOUT.duplicate()).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
