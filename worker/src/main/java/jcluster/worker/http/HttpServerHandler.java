package jcluster.worker.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last handler of a connection: runs the app on each complete request and frames its response (Date,
 * Content-Length, Connection, HEAD). Responses are written as they are made and flushed once per read, so
 * pipelined and back-to-back requests share a syscall. An app that throws costs its request a 500, not the worker.
 */
final class HttpServerHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(HttpServerHandler.class);

    private final Exchange exchange;
    private final HttpApp app;
    private final ServerState server;
    private boolean unflushed;

    HttpServerHandler(Exchange exchange, HttpApp app, ServerState server) {
        this.exchange = exchange;
        this.app = app;
        this.server = server;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        FullHttpResponse res;
        try {
            res = app.handle(req);
        } catch (RuntimeException | Error e) {
            log.error("app failed on {} {}", req.method(), req.uri(), e);
            res = Responses.text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "500 Internal Server Error\n");
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req) && !exchange.closeAfterResponse && !server.draining();
        HttpHeaders h = res.headers();
        h.set(HttpHeaderNames.DATE, Responses.date());
        if (!HttpUtil.isTransferEncodingChunked(res)) {
            h.setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
        }
        if (!keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (req.protocolVersion() == HttpVersion.HTTP_1_0) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        if (req.method() == HttpMethod.HEAD) {
            // same headers as GET, no body (RFC 9110 §9.3.2)
            res.content().release();
            res = res.replace(Unpooled.EMPTY_BUFFER);
            HttpUtil.setTransferEncodingChunked(res, false);
        }
        server.requestServed();
        exchange.responseDone();
        if (keepAlive) {
            ctx.write(res, ctx.voidPromise());
            unflushed = true;
        } else {
            exchange.closeAfterResponse = true;
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
            unflushed = false;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (unflushed) {
            unflushed = false;
            ctx.flush();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            // The client half-closed: it still reads. Everything it sent has been answered (the app runs inline),
            // so finish writing and close.
            unflushed = false;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Resets, broken pipes and hanging up mid-body are a client's right; anything else is worth a line. The connection ends either way.
        if (!(cause instanceof java.io.IOException) && !(cause instanceof PrematureChannelClosureException)) {
            log.warn("closing connection after unexpected error", cause);
        }
        ctx.close();
    }

    /**
     * Drain: the next response says {@code Connection: close} and ends the connection; one that stays idle is
     * closed after a short grace instead of at once, since a request may be on its way that this worker has not
     * read yet, and closing under it would fail it.
     */
    void closeWhenIdle(ChannelHandlerContext ctx) {
        exchange.closeAfterResponse = true;
        ctx.pipeline().fireUserEventTriggered(ConnectionTimeouts.DRAIN);
    }
}
