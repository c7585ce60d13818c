package jcluster.worker.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseEncoder;

/** Builds the HTTP/1.1 pipeline of a connection. */
public final class HttpInitializer {
    private final HttpApp app;
    private final ServerState server;
    private final int maxBody;
    private final int maxInitialLine;
    private final int maxHeaderSize;
    private final long keepAliveMillis;
    private final long headerMillis;

    public HttpInitializer(HttpApp app, ServerState server, int maxBody, int maxInitialLine, int maxHeaderSize,
                           long keepAliveMillis, long headerMillis) {
        this.app = app;
        this.server = server;
        this.maxBody = maxBody;
        this.maxInitialLine = maxInitialLine;
        this.maxHeaderSize = maxHeaderSize;
        this.keepAliveMillis = keepAliveMillis;
        this.headerMillis = headerMillis;
    }

    public void init(Channel ch) {
        Exchange exchange = new Exchange(server);
        ch.pipeline().addLast(
                new ConnectionTimeouts(exchange, keepAliveMillis, headerMillis),
                new StrictRequestDecoder(maxInitialLine, maxHeaderSize),
                new HttpResponseEncoder(),
                new RequestGuard(exchange, maxBody),
                new RequestAggregator(exchange, maxBody),
                new HttpServerHandler(exchange, app, server));
    }

    /** Drain one connection: close it if idle, else once its current response is written. Call on its loop. */
    public static void closeWhenIdle(Channel ch) {
        ChannelHandlerContext ctx = ch.pipeline().context(HttpServerHandler.class);
        if (ctx == null) {
            ch.close();
        } else {
            ((HttpServerHandler) ctx.handler()).closeWhenIdle(ctx);
        }
    }
}
