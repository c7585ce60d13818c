package jcluster.worker.http;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import jcluster.app.PipelineHook;
import jcluster.app.Response;
import jcluster.app.WebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * A request answered with {@link Response#webSocket}: the handshake checked (RFC 6455 §4.2.1), then made by
 * Netty's handshaker, which swaps the HTTP decoder and encoder for its frame codec; the HTTP handlers (timeouts,
 * guard, app) leave the pipeline, and the frame validator, aggregator, idle check and {@link Session} join it. The
 * connection stays in the worker's connections, so a drain waits for it: it is sent close 1001 after the grace.
 */
final class WebSockets {
    private static final Logger log = LoggerFactory.getLogger(WebSockets.class);
    /** What a slow client may have waiting for it before sends return false. */
    static final int HIGH_WATER = 1 << 20;
    static final int LOW_WATER = 256 << 10;
    /** After a close frame is sent, how long the client has to answer with its own before the connection ends. */
    static final long CLOSE_WAIT_MILLIS = 1000;
    static final String VALIDATOR = "ws-utf8";
    static final String AGGREGATOR = "ws-aggregator";
    static final String IDLE = "ws-idle";
    static final String SESSION = "ws";

    private WebSockets() {
    }

    /**
     * Why this request cannot open a WebSocket, as the answer that says so; null if it can: 426 for a request that
     * asks for no upgrade to WebSocket or for a version other than 13 (§4.4), 400 for a broken handshake, 503 from
     * a draining worker.
     */
    static Response refusal(FullHttpRequest req, boolean draining) {
        HttpHeaders h = req.headers();
        if (!h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            return Response.text(426, "426 Upgrade Required: this resource takes WebSocket connections only\n")
                    .header("upgrade", "websocket").header("connection", "upgrade");
        }
        if (req.method() != HttpMethod.GET || req.protocolVersion() != HttpVersion.HTTP_1_1) {
            return bad("a WebSocket handshake is a GET in HTTP/1.1");
        }
        if (!h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
            return bad("a WebSocket handshake needs Connection: Upgrade");
        }
        String version = h.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION);
        if (version == null) {
            return bad("a WebSocket handshake needs Sec-WebSocket-Version");
        }
        if (!version.trim().equals("13")) {
            return Response.text(426, "426 Upgrade Required: WebSocket version 13 only\n")
                    .header("sec-websocket-version", "13");
        }
        String key = h.get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        if (key == null || !isNonce(key.trim())) {
            return bad("a WebSocket handshake needs a Sec-WebSocket-Key of 16 bytes in base64");
        }
        if (draining) {
            return Response.text(503, "503 Service Unavailable: this worker is draining; connect again\n")
                    .header("retry-after", "0");
        }
        return null;
    }

    private static boolean isNonce(String key) {
        try {
            return Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static Response bad(String why) {
        return Response.text(400, "400 Bad Request: " + why + "\n");
    }

    /** Opens the WebSocket a valid handshake asked for, on the connection's loop; {@code headers} go on the 101. */
    static void open(Channel ch, FullHttpRequest req, HttpHeaders headers, WebSocket.Listener listener,
                     Limits limits, ServerState server) {
        WebSocketDecoderConfig frames = WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(limits.maxWsFrame())
                .expectMaskedFrames(true)
                .allowMaskMismatch(false)
                .allowExtensions(false)
                // not the decoder's own close: it ends the connection at once, while the client may still be
                // sending, and the unread bytes turn the FIN into a reset that loses the close frame
                .closeOnProtocolViolation(false)
                .build();
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(req.uri(), null, frames)
                .newHandshaker(req);
        ChannelPipeline p = ch.pipeline();
        for (String http : new String[] {PipelineHook.TIMEOUTS, PipelineHook.GUARD, PipelineHook.APP,
                HttpServerHandler.CHUNKED_WRITER}) {
            if (p.get(http) != null) {
                p.remove(http);
            }
        }
        Session session = new Session(ch, listener, new QueryStringDecoder(req.uri()).path(), server,
                limits.wsDrainGraceMillis());
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(LOW_WATER, HIGH_WATER));
        // the handshaker drops the aggregator and swaps the decoder now, and the encoder once the 101 is out
        handshaker.handshake(ch, req, headers, ch.newPromise()).addListener(f -> {
            if (f.isSuccess()) {
                session.opened();
            } else {
                log.debug("WebSocket handshake failed: {}", f.cause().toString());
                ch.close();
            }
        });
        p.addLast(VALIDATOR, new Utf8FrameValidator(false));
        p.addLast(AGGREGATOR, new WebSocketFrameAggregator(limits.maxWsFrame()));
        if (limits.wsIdleMillis() > 0) {
            p.addLast(IDLE, new IdleStateHandler(limits.wsIdleMillis() / 2, 0, 0, TimeUnit.MILLISECONDS));
        }
        p.addLast(SESSION, session);
    }

    /** The open WebSocket of a connection, or null. */
    static Session of(Channel ch) {
        return (Session) ch.pipeline().get(SESSION);
    }

    /** One WebSocket: the app's listener on one side, the frames on the other. On the connection's loop. */
    static final class Session extends ChannelInboundHandlerAdapter implements WebSocket {
        private final Channel ch;
        private final Listener listener;
        private final String path;
        private final ServerState server;
        private final long drainGraceMillis;
        /** A close frame went out: nothing more is sent, and the connection ends soon. */
        private volatile boolean closing;
        private boolean opened;
        private boolean reported;
        /** The client's close code and reason; 1006 until one arrives. */
        private int code = 1006;
        private String reason = "";
        /** Pinged for silence, and silent since. */
        private boolean pinged;

        Session(Channel ch, Listener listener, String path, ServerState server, long drainGraceMillis) {
            this.ch = ch;
            this.listener = listener;
            this.path = path;
            this.server = server;
            this.drainGraceMillis = drainGraceMillis;
        }

        void opened() {
            if (!ch.isActive()) {
                return;
            }
            opened = true;
            server.webSockets(1);
            call(() -> listener.onOpen(this));
        }

        /** The worker drains: close 1001 after the grace, so the client reconnects to a worker that stays. */
        void drain() {
            ch.eventLoop().schedule(() -> close(GOING_AWAY, "going away"), drainGraceMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            pinged = false;
            try {
                if (msg instanceof TextWebSocketFrame t) {
                    if (!closing) {
                        String text = t.text();
                        call(() -> listener.onText(this, text));
                    }
                } else if (msg instanceof BinaryWebSocketFrame b) {
                    if (!closing) {
                        byte[] data = ByteBufUtil.getBytes(b.content());
                        call(() -> listener.onBinary(this, data));
                    }
                } else if (msg instanceof PingWebSocketFrame ping) {
                    if (!closing) {
                        ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
                    }
                } else if (msg instanceof CloseWebSocketFrame c) {
                    code = c.statusCode() < 0 ? 1005 : c.statusCode();
                    reason = c.statusCode() < 0 ? "" : c.reasonText();
                    if (closing) {
                        // the answer to ours: the server closes the TCP connection first (RFC 6455 §7.1.1)
                        ctx.close();
                    } else {
                        closing = true;
                        ctx.writeAndFlush(new CloseWebSocketFrame(true, 0, c.content().retain()))
                                .addListener(ChannelFutureListener.CLOSE);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent idle && idle.state() == IdleState.READER_IDLE) {
                if (!pinged) {
                    pinged = true;
                    if (!closing) {
                        ctx.writeAndFlush(new PingWebSocketFrame());
                    }
                } else {
                    close(GOING_AWAY, "idle timeout");
                }
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException) {
                // a message of many frames past --max-ws-frame (one frame past it the decoder closes itself)
                close(TOO_BIG, "message too big");
            } else if (cause instanceof CorruptedWebSocketFrameException broken) {
                // a protocol error (1002), text that is not UTF-8 (1007), a frame past --max-ws-frame (1009): the
                // decoder discards what follows, and the close frame goes out before the connection ends
                String why = String.valueOf(broken.getMessage());
                close(broken.closeStatus().code(), why.length() > 100 ? why.substring(0, 100) : why);
            } else if (cause instanceof IOException || cause instanceof PrematureChannelClosureException) {
                // the client is gone, maybe in the middle of a message
                ctx.close();
            } else {
                log.warn("closing a WebSocket after an unexpected error", cause);
                close(INTERNAL_ERROR, "internal error");
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (opened && !reported) {
                reported = true;
                server.webSockets(-1);
                call(() -> listener.onClose(this, code, reason));
            }
            super.channelInactive(ctx);
        }

        /** Runs the app's code: a throw closes the socket with 1011; an Error also retires the worker. */
        private void call(Runnable r) {
            try {
                r.run();
            } catch (Throwable e) {
                log.error("WebSocket listener failed on {}", path, e);
                if (e instanceof Error) {
                    server.retire(e.getClass().getName() + " in a WebSocket listener on " + path);
                }
                close(INTERNAL_ERROR, "internal error");
            }
        }

        @Override
        public boolean sendText(String text) {
            return send(new TextWebSocketFrame(text));
        }

        @Override
        public boolean sendBinary(byte[] data) {
            return send(new BinaryWebSocketFrame(ch.alloc().buffer(data.length).writeBytes(data)));
        }

        private boolean send(io.netty.handler.codec.http.websocketx.WebSocketFrame frame) {
            if (closing || !ch.isActive() || !ch.isWritable()) {
                frame.release();
                return false;
            }
            ch.writeAndFlush(frame, ch.voidPromise());
            return true;
        }

        @Override
        public void close(int code, String reason) {
            if (!ch.eventLoop().inEventLoop()) {
                ch.eventLoop().execute(() -> close(code, reason));
                return;
            }
            if (closing || !ch.isActive()) {
                return;
            }
            closing = true;
            ch.writeAndFlush(new CloseWebSocketFrame(code, reason));
            ch.eventLoop().schedule(() -> ch.close(), CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        }

        @Override
        public boolean isOpen() {
            return !closing && ch.isActive();
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public InetSocketAddress remoteAddress() {
            return ClientAddress.of(ch);
        }
    }
}
