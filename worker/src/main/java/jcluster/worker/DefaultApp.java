package jcluster.worker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import jcluster.worker.http.HttpApp;
import jcluster.worker.http.Responses;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The app a worker serves when the user names none.
 * <ul>
 *   <li>{@code GET /}: a short hello</li>
 *   <li>{@code GET /health}: 200</li>
 *   <li>{@code GET /worker}: JSON with worker id, pid, ppid, uptime, open connections, requests served</li>
 *   <li>{@code POST /} or {@code /echo}: the request body back (chunked if it came chunked);
 *   {@code GET /echo}: the request headers, one per line</li>
 *   <li>{@code GET /compute?ms=N}: burns N ms of CPU (at most 10 s) on the event loop, to show a blocked worker</li>
 * </ul>
 */
public final class DefaultApp implements HttpApp {
    public static final int MAX_COMPUTE_MILLIS = 10_000;
    private static final ByteBuf HELLO = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer().writeBytes("Hello, world!\n".getBytes(StandardCharsets.US_ASCII)));
    private static final String TEXT = HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8";

    private final WorkerInfo info;

    public DefaultApp(WorkerInfo info) {
        this.info = info;
    }

    /** The figures {@code /worker} reports. */
    public interface WorkerInfo {
        int id();

        long uptimeMillis();

        int openConnections();

        long requestsServed();
    }

    @Override
    public FullHttpResponse handle(FullHttpRequest req) {
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        String path = uri.path();
        HttpMethod m = req.method();
        boolean get = m == HttpMethod.GET || m == HttpMethod.HEAD;
        switch (path) {
            case "/":
                if (get) {
                    return hello();
                }
                return m == HttpMethod.POST ? echoBody(req) : notAllowed("GET, HEAD, POST");
            case "/health":
                return get ? Responses.text(HttpResponseStatus.OK, "ok\n") : notAllowed("GET, HEAD");
            case "/worker":
                return get ? workerJson() : notAllowed("GET, HEAD");
            case "/echo":
                if (get) {
                    return echoHeaders(req);
                }
                return m == HttpMethod.POST ? echoBody(req) : notAllowed("GET, HEAD, POST");
            case "/compute":
                return get ? compute(uri.parameters()) : notAllowed("GET, HEAD");
            default:
                return Responses.text(HttpResponseStatus.NOT_FOUND, "404 Not Found\n");
        }
    }

    private static FullHttpResponse hello() {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                HELLO.duplicate());
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, TEXT);
        return r;
    }

    private FullHttpResponse workerJson() {
        ProcessHandle self = ProcessHandle.current();
        long ppid = self.parent().map(ProcessHandle::pid).orElse(-1L);
        String json = "{\"id\":" + info.id() + ",\"pid\":" + self.pid() + ",\"ppid\":" + ppid
                + ",\"uptimeMs\":" + info.uptimeMillis() + ",\"connections\":" + info.openConnections()
                + ",\"requests\":" + info.requestsServed() + "}\n";
        FullHttpResponse r = Responses.text(HttpResponseStatus.OK, json);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        return r;
    }

    private static FullHttpResponse echoBody(FullHttpRequest req) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                req.content().retain());
        String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type != null ? type : HttpHeaderValues.APPLICATION_OCTET_STREAM);
        if (HttpUtil.isTransferEncodingChunked(req)) {
            HttpUtil.setTransferEncodingChunked(r, true);
        }
        return r;
    }

    private static FullHttpResponse echoHeaders(FullHttpRequest req) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : req.headers()) {
            sb.append(e.getKey()).append(": ").append(e.getValue()).append('\n');
        }
        return Responses.text(HttpResponseStatus.OK, sb.toString());
    }

    private static FullHttpResponse compute(Map<String, List<String>> params) {
        long ms;
        try {
            ms = Long.parseLong(params.getOrDefault("ms", List.of("100")).get(0));
        } catch (NumberFormatException e) {
            return Responses.text(HttpResponseStatus.BAD_REQUEST, "ms must be a whole number of milliseconds\n");
        }
        if (ms < 0) {
            return Responses.text(HttpResponseStatus.BAD_REQUEST, "ms must not be negative\n");
        }
        ms = Math.min(ms, MAX_COMPUTE_MILLIS);
        long end = System.nanoTime() + ms * 1_000_000;
        long x = 0;
        while (System.nanoTime() < end) {
            x += Long.numberOfTrailingZeros(x + end);
        }
        return Responses.text(HttpResponseStatus.OK, "computed " + ms + " ms (" + (x & 1) + ")\n");
    }

    private static FullHttpResponse notAllowed(String allow) {
        FullHttpResponse r = Responses.text(HttpResponseStatus.METHOD_NOT_ALLOWED, "405 Method Not Allowed\n");
        r.headers().set(HttpHeaderNames.ALLOW, allow);
        return r;
    }
}
