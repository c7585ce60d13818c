package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * WebSockets through real workers, with the JDK's own client ({@code java.net.http.WebSocket}): the default app's
 * {@code GET /ws} echo, fragments, binary, the size limit, the count in status, and a rolling
 * reload that sends every open socket close 1001 and still completes.
 */
@Timeout(90)
class WebSocketIT {
    /** A client socket: what it received, in order, and how it closed. */
    static final class Client implements WebSocket.Listener {
        final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
        final CompletableFuture<String> closed = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();
        WebSocket socket;

        static Client open(int port, String path) {
            Client c = new Client();
            c.socket = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create("ws://127.0.0.1:" + port + path), c).orTimeout(10, TimeUnit.SECONDS)
                    .join();
            return c;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                received.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            binary.writeBytes(b);
            if (last) {
                received.add(binary.toByteArray());
                binary.reset();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.complete("error " + error);
        }

        Object next() throws InterruptedException {
            Object o = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(o, "no message within 10 s");
            return o;
        }

        String closeCode() {
            return closed.orTimeout(15, TimeUnit.SECONDS).join();
        }
    }

    @Test
    void echoFragmentsBinaryLimitsAndHandshakes() throws Exception {
        int admin = Cluster.freePort();
        try (Cluster c = Cluster.start("--workers=1", "--max-ws-frame=1k", "--ws-idle-timeout=600ms",
                "--admin-port=" + admin)) {
            Client a = Client.open(c.port, "/ws");
            a.socket.sendText("hello", true).join();
            assertEquals("hello", a.next());
            // one message in three frames comes back whole
            a.socket.sendText("frag", false).join();
            a.socket.sendText("ment", false).join();
            a.socket.sendText("ed", true).join();
            assertEquals("fragmented", a.next());
            byte[] bytes = new byte[700];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) i;
            }
            a.socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
            assertArrayEquals(bytes, (byte[]) a.next());
            a.socket.sendPing(ByteBuffer.wrap(new byte[] {1, 2})).join();

            Client b = Client.open(c.port, "/ws");
            c.awaitStatus(s -> Cluster.field(s, "webSockets") == 2, Duration.ofSeconds(5), "2 WebSockets in status");
            String metrics = Http.get(admin, "/metrics").text();
            assertTrue(metrics.matches("(?s).*jcluster_worker_open_websockets\\{[^}]*\\} 2\\b.*"), metrics);

            // one frame past --max-ws-frame, and a message of frames past it: 1009 both times
            b.socket.sendText("x".repeat(1100), true);
            assertTrue(b.closeCode().startsWith("1009"), b.closeCode());
            Client d = Client.open(c.port, "/ws");
            // (a send must complete before the next begins)
            d.socket.sendText("y".repeat(600), false).join();
            d.socket.sendText("y".repeat(600), true);
            assertTrue(d.closeCode().startsWith("1009"), d.closeCode());

            // a normal close, answered with the same code
            a.socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
            assertEquals("1000 bye", a.closeCode());
            c.awaitStatus(s -> Cluster.field(s, "webSockets") == 0, Duration.ofSeconds(5), "no WebSocket left");

            // broken handshakes are in the request corpus (HttpIT)
            String key = "dGhlIHNhbXBsZSBub25jZQ==";
            // the RFC's own example: the accept key is SHA-1 of the nonce and the GUID
            try (Http h = new Http(c.port)) {
                h.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n\r\n");
                Http.Response r = h.read(true);
                assertEquals(101, r.status());
                assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", r.header("sec-websocket-accept"));
                // an unmasked frame from a client breaks the protocol: close 1002
                h.send(new byte[] {(byte) 0x81, 0x02, 'h', 'i'});
                byte[] close = h.socket.getInputStream().readNBytes(4);
                assertEquals(0x88, close[0] & 0xff, Arrays.toString(close));
                assertEquals(1002, ((close[2] & 0xff) << 8) | (close[3] & 0xff));
            }
            // a client that answers no ping: pinged after half of --ws-idle-timeout (300 ms), closed 1001 at its end
            try (Http h = new Http(c.port)) {
                h.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n\r\n");
                assertEquals(101, h.read(true).status());
                long opened = System.nanoTime();
                java.io.InputStream in = h.socket.getInputStream();
                byte[] ping = in.readNBytes(2);
                assertEquals(0x89, ping[0] & 0xff, "a ping first: " + Arrays.toString(ping));
                in.readNBytes(ping[1]);
                byte[] close = in.readNBytes(4);
                assertEquals(0x88, close[0] & 0xff, Arrays.toString(close));
                assertEquals(1001, ((close[2] & 0xff) << 8) | (close[3] & 0xff));
                assertTrue(System.nanoTime() - opened >= TimeUnit.MILLISECONDS.toNanos(550), "not before 600 ms");
            }
            // the JDK's client answers pings: two idle timeouts later it is still open
            Client quiet = Client.open(c.port, "/ws");
            Thread.sleep(1400);
            assertFalse(quiet.closed.isDone(), "closed: " + quiet.closed.getNow(""));
            quiet.socket.sendText("still here", true).join();
            assertEquals("still here", quiet.next());
            assertEquals(200, Http.get(c.port, "/health").status(), "the worker serves on");
        }
    }

    @Test
    void aRollingReloadSendsEveryWebSocketGoingAwayAndCompletes() throws Exception {
        try (Cluster c = Cluster.start("--workers=2", "--ws-drain-grace=200ms")) {
            List<Client> clients = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Client k = Client.open(c.port, "/ws");
                k.socket.sendText("before " + i, true).join();
                assertEquals("before " + i, k.next());
                clients.add(k);
            }
            c.awaitStatus(s -> Cluster.field(s, "webSockets") == 6, Duration.ofSeconds(5), "6 WebSockets");
            c.signal("HUP");
            for (Client k : clients) {
                assertEquals("1001 going away", k.closeCode());
            }
            c.awaitReloadComplete(2, Duration.ofSeconds(40));
            Client again = Client.open(c.port, "/ws");
            again.socket.sendText("after", true).join();
            assertEquals("after", again.next());
        }
    }
}
