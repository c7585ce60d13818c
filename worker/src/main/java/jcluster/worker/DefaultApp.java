package jcluster.worker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.AsciiString;
import jcluster.app.AppContext;
import jcluster.app.Handler;
import jcluster.app.Request;
import jcluster.app.Response;

import java.nio.charset.StandardCharsets;

/**
 * The app a worker serves when the user names none, written on the public app API like any user's app.
 * <ul>
 *   <li>{@code GET /}: a short hello</li>
 *   <li>{@code GET /health}: 200</li>
 *   <li>{@code GET /worker}: JSON with worker id, pid, ppid, uptime, open connections, requests served, and the
 *   client's address and port as the app sees them</li>
 *   <li>{@code POST /} or {@code /echo}: the request body back, with its {@code Content-Type} and its length;
 *   {@code GET /echo}: the request headers, one per line</li>
 *   <li>{@code GET /compute?ms=N}: burns N ms of CPU (at most 10 s) on the event loop, to show a blocked worker;
 *   with {@code &offload=1} on the blocking pool instead, so the worker's other connections go on</li>
 *   <li>{@code OPTIONS} on any of these: 204 with {@code Allow}; another method a route does not take: 405 with
 *   {@code Allow}; any other path: 404</li>
 * </ul>
 */
public final class DefaultApp implements Handler {
    public static final int MAX_COMPUTE_MILLIS = 10_000;
    private static final AsciiString TEXT = AsciiString.cached("text/plain; charset=utf-8");
    // one buffer shared by every hello, never released: nothing is allocated for the body (the encoder copies it
    // into the buffer of the response head)
    private static final ByteBuf HELLO = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer().writeBytes("Hello, world!\n".getBytes(StandardCharsets.US_ASCII)));

    private AppContext context;

    @Override
    public void start(AppContext context) {
        this.context = context;
    }

    private static final String READ = "GET, HEAD, OPTIONS";
    private static final String READ_WRITE = "GET, HEAD, POST, OPTIONS";

    @Override
    public Response handle(Request req) {
        String m = req.method();
        boolean get = m.equals("GET") || m.equals("HEAD");
        switch (req.path()) {
            case "/":
                if (get) {
                    return Response.of(200).contentType(TEXT).body(HELLO.duplicate());
                }
                return m.equals("POST") ? echoBody(req) : other(m, READ_WRITE);
            case "/health":
                return get ? Response.text("ok\n") : other(m, READ);
            case "/worker":
                return get ? workerJson(req) : other(m, READ);
            case "/echo":
                if (get) {
                    return echoHeaders(req);
                }
                return m.equals("POST") ? echoBody(req) : other(m, READ_WRITE);
            case "/compute":
                return get ? compute(req) : other(m, READ);
            default:
                return Response.text(404, "404 Not Found\n");
        }
    }

    private Response workerJson(Request req) {
        ProcessHandle self = ProcessHandle.current();
        long ppid = self.parent().map(ProcessHandle::pid).orElse(-1L);
        String json = "{\"id\":" + context.workerId() + ",\"pid\":" + self.pid() + ",\"ppid\":" + ppid
                + ",\"uptimeMs\":" + context.uptimeMillis() + ",\"connections\":" + context.openConnections()
                + ",\"requests\":" + context.requestsServed() + ",\"client\":\"" + address(req.remoteAddress()) + "\"}\n";
        return Response.of(200).body(json.getBytes(StandardCharsets.UTF_8), "application/json");
    }

    private static String address(java.net.InetSocketAddress a) {
        return a == null ? "" : a.getAddress().getHostAddress() + " " + a.getPort();
    }

    /** The whole body is known: it goes back with its length, however it came. */
    private static Response echoBody(Request req) {
        String type = req.header("content-type");
        return Response.of(200).body(req.body(), type != null ? type : "application/octet-stream");
    }

    private static Response echoHeaders(Request req) {
        StringBuilder sb = new StringBuilder();
        for (String name : req.headerNames()) {
            for (String value : req.headers(name)) {
                sb.append(name).append(": ").append(value).append('\n');
            }
        }
        return Response.text(sb.toString());
    }

    private static Response compute(Request req) {
        long ms;
        try {
            String v = req.param("ms");
            ms = v == null ? 100 : Long.parseLong(v);
        } catch (NumberFormatException e) {
            return Response.text(400, "ms must be a whole number of milliseconds\n");
        }
        if (ms < 0) {
            return Response.text(400, "ms must not be negative\n");
        }
        long capped = Math.min(ms, MAX_COMPUTE_MILLIS);
        if ("1".equals(req.param("offload"))) {
            return req.offload(() -> burn(capped, "on the blocking pool"));
        }
        return burn(capped, "on the event loop");
    }

    private static Response burn(long ms, String where) {
        long end = System.nanoTime() + ms * 1_000_000;
        long x = 0;
        while (System.nanoTime() < end) {
            x += Long.numberOfTrailingZeros(x + end);
        }
        return Response.text("computed " + ms + " ms " + where + " (" + (x & 1) + ")\n");
    }

    /** OPTIONS names the route's methods (RFC 9110 §9.3.7); any other method it does not take gets 405. */
    private static Response other(String method, String allow) {
        if (method.equals("OPTIONS")) {
            return Response.of(204).header("allow", allow);
        }
        return Response.text(405, "405 Method Not Allowed\n").header("allow", allow);
    }
}
