package jcluster.worker.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseEncoder;
import jcluster.app.Handler;
import jcluster.app.PipelineHook;

/** Builds the HTTP/1.1 pipeline of a connection, with the handler names {@link PipelineHook} documents. */
public final class HttpInitializer {
    private final Handler app;
    private final PipelineHook hook;
    private final ServerState server;
    private final BlockingPool pool;
    private final Limits limits;
    private final Features features;

    /** {@code hook}: the app's own pipeline changes, or null. */
    public HttpInitializer(Handler app, PipelineHook hook, ServerState server, BlockingPool pool, Limits limits,
                           Features features) {
        this.app = app;
        this.hook = hook;
        this.server = server;
        this.pool = pool;
        this.limits = limits;
        this.features = features;
    }

    public void init(Channel ch) {
        build(ch, server, features);
    }

    /**
     * Builds the pipeline with {@code server} in place of the worker's state and without the features (the
     * self-probe counts nothing, is in no log and sends no PROXY header).
     */
    public void init(Channel ch, ServerState server) {
        build(ch, server, Features.NONE);
    }

    /**
     * The same pipeline for the warm-up's connections: the worker's state and compression, but no access log and no
     * PROXY header (they come from the worker itself).
     */
    public HttpInitializer forWarmUp() {
        return new HttpInitializer(app, hook, server, pool, limits, new Features(null, null, features.compression()));
    }

    private void build(Channel ch, ServerState server, Features features) {
        Exchange exchange = new Exchange(server);
        if (features.proxy() != null) {
            ch.pipeline().addLast(ProxyHeader.NAME, new ProxyHeader(features.proxy()));
        }
        ch.pipeline()
                .addLast(PipelineHook.TIMEOUTS, new ConnectionTimeouts(exchange, limits.keepAliveMillis(),
                        limits.headerMillis()))
                .addLast(PipelineHook.DECODER, new StrictRequestDecoder(limits.maxInitialLine(),
                        limits.maxHeaderSize()))
                .addLast(PipelineHook.ENCODER, new HttpResponseEncoder())
                .addLast(PipelineHook.GUARD, new RequestGuard(exchange, limits.maxBody()))
                .addLast(PipelineHook.AGGREGATOR, new RequestAggregator(exchange, limits.maxBody()))
                .addLast(PipelineHook.APP, new HttpServerHandler(exchange, app, server, pool, limits,
                        features));
        if (hook != null) {
            hook.configure(ch.pipeline());
        }
    }

    /** A connection registered after this worker began a drain with hand-back: it goes back too. On its loop. */
    public void drainIfHandingBack(Channel ch) {
        HandBack back = server.handBack();
        if (back != null) {
            drain(ch, back);
        }
    }

    /**
     * Drain one connection: a WebSocket is sent close 1001 after --ws-drain-grace; an HTTP one is closed if idle,
     * else once its current response is written; or, with {@code handBack}, hand it back once idle instead, if
     * nothing of the client's is read but unparsed (and if the app changed no pipeline: what it added may hold state
     * of the connection). Call on its loop.
     */
    public void drain(Channel ch, HandBack handBack) {
        WebSockets.Session ws = WebSockets.of(ch);
        if (ws != null) {
            ws.drain();
            return;
        }
        ChannelHandlerContext ctx = ch.pipeline().context(HttpServerHandler.class);
        if (ctx == null) {
            ch.close();
        } else {
            ((HttpServerHandler) ctx.handler()).drain(ctx, hook == null ? handBack : null);
        }
    }
}
