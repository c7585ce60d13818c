package jcluster.master.ops;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import jcluster.master.StartupException;
import jcluster.master.handoff.Acceptor;

import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The admin port ({@code --admin-port}, loopback by default), served by the master itself on its loop:
 * {@code /metrics} (Prometheus text), {@code /status} (JSON), {@code /healthz} (the master answers),
 * {@code /readyz} (503 while shutting down or with no READY worker, so a load balancer moves away first), and for
 * people {@code /}: a dashboard, one self-contained page (its script and style inline, nothing fetched but this
 * port's {@code /status} and {@code /history}, as its Content-Security-Policy says), with {@code /history}'s last
 * minutes as sparklines.
 */
public final class AdminServer {
    private static final int MAX_REQUEST = 8192;

    private final Channel server;
    private final java.util.concurrent.Future<?> sampling;

    private AdminServer(Channel server, java.util.concurrent.Future<?> sampling) {
        this.server = server;
        this.sampling = sampling;
    }

    /** The dashboard may load nothing from anywhere but this port, and nothing but its own inline code. */
    static final String DASHBOARD_POLICY = "default-src 'none'; script-src 'unsafe-inline'; "
            + "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
            + "form-action 'none'; frame-ancestors 'none'";
    private static final String DASHBOARD = dashboard();

    private static String dashboard() {
        try (var in = AdminServer.class.getResourceAsStream("/jcluster/dashboard.html")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException | NullPointerException e) {
            throw new IllegalStateException("the jar has no dashboard page", e);
        }
    }

    public static AdminServer bind(EventLoop loop, String host, int port, Supplier<Status> status) {
        History history = new History(status);
        var sampling = loop.scheduleAtFixedRate(history::sample, 0, 1, java.util.concurrent.TimeUnit.SECONDS);
        ServerBootstrap b = new ServerBootstrap().group(loop).channel(EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST),
                                new Handler(status, history));
                    }
                });
        try {
            return new AdminServer(b.bind(host, port).sync().channel(), sampling);
        } catch (Exception e) {
            sampling.cancel(false);
            throw new StartupException(Acceptor.bindFailure("the admin port ", host, port, "--admin-host",
                    "--admin-port", e));
        }
    }

    public void close() {
        sampling.cancel(false);
        server.close().syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Supplier<Status> status;
        private final History history;

        Handler(Supplier<Status> status, History history) {
            this.status = status;
            this.history = history;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            FullHttpResponse res;
            if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
                res = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "GET only\n", "text/plain");
            } else {
                Status s = status.get();
                res = switch (new QueryStringDecoder(req.uri()).path()) {
                    case "/metrics" -> text(HttpResponseStatus.OK, Metrics.text(s), Metrics.CONTENT_TYPE);
                    case "/status" -> text(HttpResponseStatus.OK, s.json(), "application/json");
                    case "/healthz" -> text(HttpResponseStatus.OK, "ok\n", "text/plain");
                    case "/history" -> text(HttpResponseStatus.OK, history.json(), "application/json");
                    case "/" -> {
                        FullHttpResponse page = text(HttpResponseStatus.OK, DASHBOARD, "text/html; charset=utf-8");
                        page.headers().set("content-security-policy", DASHBOARD_POLICY)
                                .set("x-content-type-options", "nosniff").set("cache-control", "no-store");
                        yield page;
                    }
                    case "/readyz" -> s.ready() ? text(HttpResponseStatus.OK, "ready\n", "text/plain")
                            : text(HttpResponseStatus.SERVICE_UNAVAILABLE,
                            s.draining() ? "shutting down\n" : "no worker ready\n", "text/plain");
                    default -> text(HttpResponseStatus.NOT_FOUND, "try /, /metrics, /status, /history, /healthz or /readyz\n",
                            "text/plain");
                };
            }
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            HttpUtil.setKeepAlive(res, keepAlive);
            if (req.method() == HttpMethod.HEAD) {
                res = res.replace(Unpooled.EMPTY_BUFFER);
            }
            if (keepAlive) {
                ctx.writeAndFlush(res);
            } else {
                ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
            }
        }

        private static FullHttpResponse text(HttpResponseStatus code, String body, String type) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, code,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            return r;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
