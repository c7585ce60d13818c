package jcluster.master.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately small HTTP/1.1 client over a raw socket, so tests control exactly what goes on the wire and
 * which connection it uses. Responses are parsed strictly enough to notice framing mistakes.
 */
final class Http implements AutoCloseable {
    static final int READ_TIMEOUT_MILLIS = 15_000;

    record Response(int status, Map<String, String> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        /** The "pid" field of a /worker response. */
        long pid() {
            String t = text();
            int i = t.indexOf("\"pid\":") + 6;
            return Long.parseLong(t.substring(i, t.indexOf(',', i)));
        }
    }

    final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    Http(int port) throws IOException {
        this(null, port);
    }

    /** A connection from this local address (127.0.0.2, say: every 127/8 address is the loopback's), or any. */
    Http(String from, int port) throws IOException {
        socket = new Socket();
        if (from != null) {
            socket.bind(new InetSocketAddress(from, 0));
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(READ_TIMEOUT_MILLIS);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** One GET on a new connection, closed afterwards. */
    static Response get(int port, String path) throws IOException {
        try (Http h = new Http(port)) {
            return h.get(path);
        }
    }

    /** GET on a new connection, on another thread: for a request that takes a while. */
    static java.util.concurrent.CompletableFuture<Response> getAsync(int port, String path) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return get(port, path);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    Response get(String path) throws IOException {
        send("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
        return read(false);
    }

    void send(String raw) throws IOException {
        send(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    void send(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
    }

    /** Reads one response; {@code head} says it answers a HEAD request (no body whatever the headers say). */
    Response read(boolean head) throws IOException {
        String status = line();
        if (status == null) {
            throw new IOException("connection closed before a response");
        }
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].equals("HTTP/1.1")) {
            throw new IOException("bad status line: " + status);
        }
        int code = Integer.parseInt(parts[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        String l;
        while ((l = line()) != null && !l.isEmpty()) {
            int colon = l.indexOf(':');
            headers.merge(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim(),
                    (a, b) -> a + ", " + b);
        }
        if (l == null) {
            throw new IOException("connection closed inside a response head");
        }
        byte[] body;
        if (head || code == 100 || code == 204 || code == 304) {
            body = new byte[0];
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int size;
            while ((size = Integer.parseInt(line().split(";")[0].trim(), 16)) > 0) {
                b.write(in.readNBytes(size));
                line();
            }
            while (!line().isEmpty()) {
                // trailers
            }
            body = b.toByteArray();
        } else if (headers.containsKey("content-length")) {
            int n = Integer.parseInt(headers.get("content-length"));
            body = in.readNBytes(n);
            if (body.length != n) {
                throw new IOException("body cut short: " + body.length + " of " + n);
            }
        } else {
            body = in.readAllBytes();
        }
        return new Response(code, headers, body);
    }

    /** True if the server closed the connection (EOF) within the read timeout. */
    boolean closedByServer() throws IOException {
        try {
            return in.read() == -1;
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
