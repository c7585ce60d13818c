package jcluster.worker.http;

import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import jcluster.app.Request;
import jcluster.app.Response;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** The app's view of a decoded request: a thin layer over Netty's, the URI decoded only when asked. */
final class AppRequest implements Request {
    private final FullHttpRequest req;
    private final Channel channel;
    private final BlockingPool pool;
    private QueryStringDecoder uri;

    AppRequest(FullHttpRequest req, Channel channel, BlockingPool pool) {
        this.req = req;
        this.channel = channel;
        this.pool = pool;
    }

    private QueryStringDecoder decoded() {
        if (uri == null) {
            uri = new QueryStringDecoder(req.uri());
        }
        return uri;
    }

    @Override
    public String method() {
        return req.method().name();
    }

    @Override
    public String uri() {
        return req.uri();
    }

    @Override
    public String path() {
        return decoded().path();
    }

    @Override
    public String query() {
        return decoded().rawQuery();
    }

    @Override
    public String param(String name) {
        List<String> v = decoded().parameters().get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    @Override
    public Map<String, List<String>> params() {
        return decoded().parameters();
    }

    @Override
    public String header(String name) {
        return req.headers().get(name);
    }

    @Override
    public List<String> headers(String name) {
        return req.headers().getAll(name);
    }

    @Override
    public Set<String> headerNames() {
        return new LinkedHashSet<>(req.headers().names());
    }

    @Override
    public String version() {
        return req.protocolVersion().text();
    }

    @Override
    public byte[] body() {
        return ByteBufUtil.getBytes(req.content());
    }

    @Override
    public String bodyText() {
        return req.content().toString(StandardCharsets.UTF_8);
    }

    @Override
    public InputStream bodyStream() {
        return new ByteBufInputStream(req.content().duplicate());
    }

    @Override
    public int bodyLength() {
        return req.content().readableBytes();
    }

    @Override
    public boolean chunked() {
        return HttpUtil.isTransferEncodingChunked(req);
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return ClientAddress.of(channel);
    }

    @Override
    public Response offload(Callable<Response> task) {
        return pool.submit(task);
    }
}
