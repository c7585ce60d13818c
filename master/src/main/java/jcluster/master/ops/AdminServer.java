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
 * {@code /metrics} (Prometheus text), {@code /status} (JSON), {@code /healthz} (the master answers) and
 * {@code /readyz} (503 while shutting down or with no READY worker, so a load balancer moves away first).
 */
public final class AdminServer {
    private static final int MAX_REQUEST = 8192;

    private final Channel server;

    private AdminServer(Channel server) {
        this.server = server;
    }

    public static AdminServer bind(EventLoop loop, String host, int port, Supplier<Status> status) {
        ServerBootstrap b = new ServerBootstrap().group(loop).channel(EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST),
                                new Handler(status));
                    }
                });
        try {
            return new AdminServer(b.bind(host, port).sync().channel());
        } catch (Exception e) {
            throw new StartupException(Acceptor.bindFailure("the admin port ", host, port, "--admin-host",
                    "--admin-port", e));
        }
    }

    public void close() {
        server.close().syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Supplier<Status> status;

        Handler(Supplier<Status> status) {
            this.status = status;
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
                    case "/readyz" -> s.ready() ? text(HttpResponseStatus.OK, "ready\n", "text/plain")
                            : text(HttpResponseStatus.SERVICE_UNAVAILABLE,
                            s.draining() ? "shutting down\n" : "no worker ready\n", "text/plain");
                    default -> text(HttpResponseStatus.NOT_FOUND, "try /metrics, /status, /healthz or /readyz\n",
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
