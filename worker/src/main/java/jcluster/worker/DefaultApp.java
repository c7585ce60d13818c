package jcluster.worker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.AsciiString;
import jcluster.app.AppContext;
import jcluster.app.Handler;
import jcluster.app.Request;
import jcluster.app.Response;
import jcluster.app.WebSocket;

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
 *   <li>{@code POST /broadcast?topic=T}: the body to every worker (this one too) as a message on T;
 *   {@code GET /messages?topic=T}: what this worker received on T, the last 100, with each sender's id</li>
 *   <li>{@code GET /ws}: a WebSocket that echoes each message</li>
 *   <li>{@code POST /retire}: this worker retires itself ({@link AppContext#retire})</li>
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
    /** Per topic, the last messages this worker received: "from" and the body. */
    private final java.util.Map<String, java.util.ArrayDeque<String>> received = new java.util.concurrent.ConcurrentHashMap<>();
    static final int KEPT_MESSAGES = 100;

    @Override
    public void start(AppContext context) {
        this.context = context;
        try {
            context.messages().subscribe(jcluster.app.Messages.ALL_TOPICS, (from, topic, data) -> {
                java.util.ArrayDeque<String> q = received.computeIfAbsent(topic, t -> new java.util.ArrayDeque<>());
                String entry = "{\"from\":" + from + ",\"body\":" + jcluster.common.Json.string(new StringBuilder(),
                        new String(data, StandardCharsets.UTF_8)) + "}";
                synchronized (q) {
                    if (q.size() == KEPT_MESSAGES) {
                        q.removeFirst();
                    }
                    q.addLast(entry);
                }
            });
        } catch (UnsupportedOperationException e) {
            // outside a worker (the bench server, the training run): no messages
        }
    }

    /** {@code GET /ws}: every message comes back as it came, text as text and binary as binary. */
    private static final WebSocket.Listener ECHO = new WebSocket.Listener() {
        @Override
        public void onText(WebSocket socket, String text) {
            socket.sendText(text);
        }

        @Override
        public void onBinary(WebSocket socket, byte[] data) {
            socket.sendBinary(data);
        }
    };

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
            case "/broadcast":
                return m.equals("POST") ? broadcast(req) : other(m, "POST, OPTIONS");
            case "/messages":
                return get ? messages(req) : other(m, READ);
            case "/ws":
                return m.equals("GET") ? Response.webSocket(ECHO) : other(m, "GET, OPTIONS");
            case "/retire":
                if (!m.equals("POST")) {
                    return other(m, "POST, OPTIONS");
                }
                context.retire("POST /retire");
                return Response.text(202, "worker " + context.workerId() + " retires: its replacement starts, then "
                        + "it drains\n");
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

    /** The body to every worker, this one too, on topic {@code topic}. */
    private Response broadcast(Request req) {
        String topic = req.param("topic");
        if (topic == null || topic.isEmpty()) {
            return Response.text(400, "give a topic: POST /broadcast?topic=T\n");
        }
        try {
            boolean sent = context.messages().broadcastToAll(topic, req.body());
            return sent ? Response.text(202, "broadcast on " + topic + "\n")
                    : Response.text(503, "not sent: the worker's socket to the master is full\n");
        } catch (IllegalArgumentException e) {
            return Response.text(413, e.getMessage() + "\n");
        }
    }

    /** What this worker received on {@code topic}, oldest first, the last 100. */
    private Response messages(Request req) {
        String topic = req.param("topic");
        if (topic == null) {
            return Response.text(400, "give a topic: GET /messages?topic=T\n");
        }
        java.util.ArrayDeque<String> q = received.get(topic);
        String list;
        if (q == null) {
            list = "";
        } else {
            synchronized (q) {
                list = String.join(",", q);
            }
        }
        String json = "{\"worker\":" + context.workerId() + ",\"topic\":" + jcluster.common.Json.string(
                new StringBuilder(), topic) + ",\"messages\":[" + list + "]}\n";
        return Response.of(200).body(json.getBytes(StandardCharsets.UTF_8), "application/json");
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
