package jcluster.worker.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.epoll.EpollSocketChannelConfig;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.stream.ChunkedStream;
import io.netty.handler.stream.ChunkedWriteHandler;
import jcluster.app.Handler;
import jcluster.app.PipelineHook;
import jcluster.app.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;

/**
 * Last handler of a connection: runs the app on each complete request and frames its response (Date,
 * Content-Length or chunked, Connection, HEAD). {@code OPTIONS *} asks about the server, not a resource of the
 * app's (RFC 9110 §9.3.7): the server answers it, 200 with the methods it passes to apps in {@code Allow}. Responses made on the loop are written as they are made and flushed
 * once per read, so pipelined and back-to-back requests share a syscall. A response that completes later (the
 * blocking pool) holds back the requests behind it, which wait here with reading paused, so responses keep the
 * order of their requests. An app that throws costs its request a 500, not the worker.
 */
final class HttpServerHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HttpServerHandler.class);
    static final String CHUNKED_WRITER = "chunked-writer";
    /** Files up to this size are sent from memory with their head; larger ones with sendfile. */
    static final long SMALL_FILE = 16 * 1024;
    /** The methods the server passes to apps, as its answer to {@code OPTIONS *} says. */
    static final String SERVER_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

    private final Exchange exchange;
    private final Handler app;
    private final ServerState server;
    private final BlockingPool pool;
    private final long maxRequests;
    private final long maxAgeNanos;
    private final long openedNanos = System.nanoTime();
    private final AccessLog accessLog;
    private final Compression compression;
    private final Limits limits;
    /** When the current request began to be answered, for the access log. */
    private long currentStarted;
    private long answered;
    private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>(2);
    /** The request being answered, until its response is written. */
    private FullHttpRequest current;
    private boolean unflushed;

    HttpServerHandler(Exchange exchange, Handler app, ServerState server, BlockingPool pool, Limits limits,
                      Features features) {
        this.accessLog = features.accessLog();
        this.compression = features.compression();
        this.exchange = exchange;
        this.app = app;
        this.server = server;
        this.pool = pool;
        this.limits = limits;
        this.maxRequests = limits.maxRequestsPerConnection();
        this.maxAgeNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(limits.maxConnectionAgeMillis());
    }

    /** The connection has served its share: --max-requests-per-connection, --max-connection-age. */
    private boolean spent() {
        return (maxRequests > 0 && answered >= maxRequests)
                || (maxAgeNanos > 0 && System.nanoTime() - openedNanos >= maxAgeNanos);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (current != null) {
            waiting.add(req);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        serve(ctx, req, false);
    }

    private void serve(ChannelHandlerContext ctx, FullHttpRequest req, boolean flushNow) {
        current = req;
        if (accessLog != null) {
            currentStarted = System.nanoTime();
        }
        AppRequest request = new AppRequest(req, ctx.channel(), pool);
        Response res;
        try {
            if (req.uri().equals("*")) {
                res = Response.of(200).header("allow", SERVER_METHODS);
            } else {
                res = app.isBlocking() ? request.offload(() -> app.handle(request)) : app.handle(request);
            }
        } catch (Throwable e) {
            res = failed(req, e);
        }
        settle(ctx, req, res, flushNow);
    }

    /** Writes {@code res} now, or once it completes if it completes later. */
    private void settle(ChannelHandlerContext ctx, FullHttpRequest req, Response res, boolean flushNow) {
        if (res == null) {
            res = failed(req, new NullPointerException("the handler returned no response"));
        }
        if (res.body() instanceof Response.Later later) {
            later.stage().whenComplete((r, e) -> ctx.executor().execute(() -> {
                settle(ctx, req, e != null ? failed(req, e) : r, true);
                serveWaiting(ctx);
            }));
            return;
        }
        respond(ctx, req, res, flushNow);
    }

    /**
     * The app threw: 500. An Error (a StackOverflowError, an OutOfMemoryError the JVM lived through, a class that
     * cannot link) leaves the worker in doubt: it retires itself, replaced before it drains.
     */
    private Response failed(FullHttpRequest req, Throwable e) {
        if (e instanceof java.util.concurrent.CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof Error error) {
            log.error("app failed on {} {} with {}; the worker retires itself", req.method(), req.uri(),
                    error.toString());
            server.retire(error.getClass().getName() + " on " + req.method() + " " + req.uri());
            return Response.text(500, "500 Internal Server Error\n");
        }
        log.error("app failed on {} {}", req.method(), req.uri(), e);
        return Response.text(500, "500 Internal Server Error\n");
    }

    private void respond(ChannelHandlerContext ctx, FullHttpRequest req, Response res, boolean flushNow) {
        current = null;
        if (!ctx.channel().isActive()) {
            // the client left while the app worked; the exchange already wrote its request off
            res.releaseBody();
            req.release();
            return;
        }
        answered++;
        if (res.body() instanceof Response.Upgrade upgrade) {
            Response refused = WebSockets.refusal(req, server.draining());
            if (refused == null) {
                openWebSocket(ctx, req, res, upgrade);
                return;
            }
            res = refused;
        }
        boolean head = req.method() == HttpMethod.HEAD;
        HttpVersion version = req.protocolVersion();
        // HTTP/1.0 has no chunked coding: a streamed body there is delimited by closing the connection
        boolean closeDelimited = version == HttpVersion.HTTP_1_0 && !head && res.body() instanceof Response.Stream;
        if (server.draining() && exchange.handBack == null && !exchange.closeAfterResponse) {
            // a connection that came to this worker after its drain began: it goes back too
            HandBack back = server.handBack();
            if (back != null) {
                drain(ctx, back);
            }
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req) && !exchange.closeAfterResponse
                && (!server.draining() || exchange.handBack != null)
                && !spent() && !closeDelimited;
        String uri = req.uri();
        AccessLog.Entry entry = accessLog == null ? null : new AccessLog.Entry(ClientAddress.of(ctx.channel()),
                req.method().name(), uri, version.text(), req.headers().get(HttpHeaderNames.REFERER),
                req.headers().get(HttpHeaderNames.USER_AGENT), currentStarted);
        Compression.Asked asked = compression == null ? null : new Compression.Asked(
                req.headers().get(HttpHeaderNames.ACCEPT_ENCODING), head, req.headers().contains(HttpHeaderNames.RANGE));
        req.release();
        HttpHeaders h = res.headers();
        h.set(HttpHeaderNames.DATE, Responses.date());
        if (!keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (version == HttpVersion.HTTP_1_0) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        if (!head && res.body() instanceof Response.FileRange file && file.length() <= SMALL_FILE) {
            res = inline(ctx, uri, res, file);
        }
        if (asked != null) {
            res = compression.apply(ctx.alloc(), asked, res);
        }
        HttpResponseStatus status = HttpResponseStatus.valueOf(res.status());
        ChannelFuture last;
        if (res.body() instanceof Response.Bytes bytes) {
            ByteBuf content = bytes.content();
            int code = res.status();
            if (code < 200 || code == 204 || code == 304) {
                // never a body, nor a length for one (RFC 9110 §8.6, §15.3.5, §15.4.5)
                content.release();
                content = Unpooled.EMPTY_BUFFER;
                h.remove(HttpHeaderNames.CONTENT_LENGTH);
                h.remove(HttpHeaderNames.TRANSFER_ENCODING);
            } else if (!h.containsValue(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED, true)) {
                h.setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
            }
            if (head) {
                // same headers as GET, no body (RFC 9110 §9.3.2); a chunked body has no length to announce
                content.release();
                content = Unpooled.EMPTY_BUFFER;
                h.remove(HttpHeaderNames.TRANSFER_ENCODING);
            }
            if (entry != null) {
                accessLog.log(ctx.channel().eventLoop(), entry, code, content.readableBytes());
            }
            last = ctx.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content, h,
                    EmptyHttpHeaders.INSTANCE), keepAlive ? ctx.voidPromise() : ctx.newPromise());
        } else if (res.body() instanceof Response.FileRange file) {
            h.remove(HttpHeaderNames.TRANSFER_ENCODING);
            h.set(HttpHeaderNames.CONTENT_LENGTH, file.length());
            boolean body = !head && file.length() > 0;
            if (entry != null) {
                accessLog.log(ctx.channel().eventLoop(), entry, res.status(), body ? file.length() : 0);
            }
            if (body) {
                // head and file leave in one send, not two: the cork holds the head until sendfile has run
                cork(ctx, true);
            }
            ctx.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, h), ctx.voidPromise());
            if (body) {
                ctx.write(new DefaultFileRegion(file.channel(), file.offset(), file.length()), ctx.voidPromise());
            } else {
                res.releaseBody();
            }
            last = ctx.write(LastHttpContent.EMPTY_LAST_CONTENT, ctx.newPromise());
            if (body) {
                last.addListener(f -> cork(ctx, false));
            }
        } else {
            Response.Stream stream = (Response.Stream) res.body();
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            if (head) {
                res.releaseBody();
                h.remove(HttpHeaderNames.TRANSFER_ENCODING);
                if (entry != null) {
                    accessLog.log(ctx.channel().eventLoop(), entry, res.status(), 0);
                }
                last = ctx.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER, h,
                        EmptyHttpHeaders.INSTANCE), keepAlive ? ctx.voidPromise() : ctx.newPromise());
            } else {
                if (ctx.pipeline().get(CHUNKED_WRITER) == null) {
                    ctx.pipeline().addBefore(PipelineHook.APP, CHUNKED_WRITER, new ChunkedWriteHandler());
                }
                if (closeDelimited) {
                    h.remove(HttpHeaderNames.TRANSFER_ENCODING);
                } else {
                    h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                }
                ctx.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, h), ctx.voidPromise());
                ChunkedStream chunks = new ChunkedStream(stream.in());
                last = ctx.write(new HttpChunkedInput(chunks), ctx.newPromise());
                if (entry != null) {
                    // a streamed body's length is known once it is sent (or the client left)
                    int code = res.status();
                    last.addListener(f -> accessLog.log(ctx.channel().eventLoop(), entry, code,
                            chunks.transferredBytes()));
                }
            }
        }
        server.requestServed();
        exchange.responseDone();
        if (!keepAlive) {
            exchange.closeAfterResponse = true;
            last.addListener(ChannelFutureListener.CLOSE);
            releaseWaiting();
            ctx.flush();
            unflushed = false;
        } else if (flushNow) {
            ctx.flush();
        } else {
            unflushed = true;
        }
    }

    /** The request becomes a WebSocket: its 101 is logged and counted as a response, and HTTP ends here. */
    private void openWebSocket(ChannelHandlerContext ctx, FullHttpRequest req, Response res,
                               Response.Upgrade upgrade) {
        if (accessLog != null) {
            accessLog.log(ctx.channel().eventLoop(), new AccessLog.Entry(ClientAddress.of(ctx.channel()),
                    req.method().name(), req.uri(), req.protocolVersion().text(),
                    req.headers().get(HttpHeaderNames.REFERER), req.headers().get(HttpHeaderNames.USER_AGENT),
                    currentStarted), 101, 0);
        }
        server.requestServed();
        exchange.responseDone();
        // a client sends nothing more before the 101 (RFC 6455 §4.1): what it pipelined is dropped
        releaseWaiting();
        try {
            WebSockets.open(ctx.channel(), req, res.headers(), upgrade.listener(), limits, server);
        } finally {
            req.release();
        }
    }

    /**
     * A small file goes out in the same write as its head: one pread into a pooled buffer and one send, where
     * sendfile takes a send for the head, one for the file and two calls to cork and uncork them (measured: 1 KiB
     * files, about 45% more requests/s). Past {@link #SMALL_FILE} the copy costs more than the calls it saves.
     */
    private static Response inline(ChannelHandlerContext ctx, String what, Response res, Response.FileRange file) {
        ByteBuf content = ctx.alloc().directBuffer((int) file.length());
        try {
            content.writeBytes(file.channel(), file.offset(), (int) file.length());
            if (content.readableBytes() != file.length()) {
                throw new IOException("the file is shorter than " + file.length() + " bytes");
            }
        } catch (IOException e) {
            content.release();
            res.releaseBody();
            log.error("reading the file to answer {} failed: {}", what, e.toString());
            return Response.text(500, "500 Internal Server Error\n");
        }
        return res.body(content);
    }

    /** After a later response: answers the requests that arrived meanwhile, then reads again. */
    private void serveWaiting(ChannelHandlerContext ctx) {
        FullHttpRequest next;
        while (current == null && (next = waiting.poll()) != null) {
            serve(ctx, next, true);
        }
        if (current == null && ctx.channel().isActive() && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
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
            // The client half-closed: it still reads. Answer what it sent, then close.
            exchange.closeAfterResponse = true;
            if (current == null && waiting.isEmpty()) {
                unflushed = false;
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releaseWaiting();
        super.channelInactive(ctx);
    }

    private void releaseWaiting() {
        FullHttpRequest r;
        while ((r = waiting.poll()) != null) {
            r.release();
        }
    }

    private static void cork(ChannelHandlerContext ctx, boolean on) {
        if (ctx.channel().isActive() && ctx.channel().config() instanceof EpollSocketChannelConfig epoll) {
            epoll.setTcpCork(on);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Resets, broken pipes and hanging up mid-body are a client's right; anything else is worth a line. The connection ends either way.
        if (!(cause instanceof IOException) && !(cause instanceof PrematureChannelClosureException)) {
            log.warn("closing connection after unexpected error", cause);
        }
        ctx.close();
    }

    /**
     * Drain. Without a hand-back: the next response says {@code Connection: close} and ends the connection; one
     * that stays idle is closed after a short grace instead of at once, since a request may be on its way that this
     * worker has not read yet, and closing under it would fail it. With one: responses stay keep-alive, and the
     * connection goes back to the master once idle ({@link ConnectionTimeouts}).
     */
    void drain(ChannelHandlerContext ctx, HandBack handBack) {
        if (handBack == null) {
            exchange.closeAfterResponse = true;
        } else {
            exchange.handBack = handBack;
        }
        ctx.pipeline().fireUserEventTriggered(ConnectionTimeouts.DRAIN);
    }
}
