package jcluster.master.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * HTTP/1.1 as the RFCs say, on a real cluster: the request corpus under {@code requests/}, then the behaviours
 * a corpus file cannot express (pipelining, 100-continue, HEAD, half-close, timeouts, limits).
 */
@Timeout(60)
class HttpIT {
    static Cluster cluster;

    @BeforeAll
    static void start() throws IOException {
        cluster = Cluster.start(Cluster.LEAK_CHECKED_WORKERS, "--workers=2", "--max-body=1k", "--keepalive-timeout=2s", "--header-timeout=1s");
    }

    @AfterAll
    static void stop() throws IOException, InterruptedException {
        try {
            cluster.assertNoLeaks();
        } finally {
            cluster.close();
        }
    }

    /** {@code headers}: fields the response must carry with exactly these values (null: must not carry). */
    record Case(String name, byte[] request, int expect, boolean valid, Map<String, String> headers) {
    }

    @TestFactory
    Stream<DynamicTest> requestCorpus() throws IOException, URISyntaxException {
        Path root = Path.of(HttpIT.class.getResource("/requests").toURI());
        List<Case> cases;
        try (Stream<Path> files = Files.walk(root)) {
            cases = files.filter(p -> p.toString().endsWith(".http")).sorted().map(HttpIT::load).toList();
        }
        assertTrue(cases.size() > 60, "the corpus is there");
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name, () -> check(c)));
    }

    private static void check(Case c) throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send(c.request);
            Http.Response r = h.read(false);
            assertEquals(c.expect, r.status(), c.name + ": " + r.text());
            assertNotNull(r.header("date"), "every response has a Date");
            c.headers.forEach((name, value) -> assertEquals(value, r.header(name), c.name + ": " + name));
            String req = new String(c.request, StandardCharsets.ISO_8859_1);
            boolean asksToClose = req.contains("Connection: close")
                    || (req.contains(" HTTP/1.0\r\n") && !req.contains("keep-alive"));
            if (!c.valid || asksToClose) {
                assertEquals("close", r.header("connection"));
                assertTrue(h.closedByServer(), c.name + ": the server must close the connection");
            } else {
                // the request was framed exactly: the next one on the connection works
                assertEquals(200, h.get("/health").status(), c.name + ": connection unusable afterwards");
            }
        }
        assertEquals(200, Http.get(cluster.port, "/").status(), "the worker still serves after " + c.name);
    }

    private static Case load(Path p) {
        try {
            String text = Files.readString(p, StandardCharsets.ISO_8859_1);
            int expect = -1;
            Map<String, String> headers = new HashMap<>();
            StringBuilder raw = new StringBuilder();
            for (String line : text.split("\n")) {
                if (line.startsWith("# expect: ")) {
                    expect = Integer.parseInt(line.substring(10).trim());
                } else if (line.startsWith("# expect-header: ")) {
                    String field = line.substring(17);
                    int colon = field.indexOf(':');
                    headers.put(field.substring(0, colon).trim(), field.substring(colon + 1).trim());
                } else if (line.startsWith("# expect-no-header: ")) {
                    headers.put(line.substring(20).trim(), null);
                } else if (!line.startsWith("# ")) {
                    raw.append(line);
                }
            }
            assertTrue(expect > 0, p + " has no '# expect:' line");
            return new Case(p.getParent().getFileName() + "/" + p.getFileName(), unescape(raw.toString()), expect,
                    p.getParent().getFileName().toString().equals("valid"), headers);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    static byte[] unescape(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                out.write(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'r' -> out.write('\r');
                case 'n' -> out.write('\n');
                case 't' -> out.write('\t');
                case '0' -> out.write(0);
                case '\\' -> out.write('\\');
                case 'x' -> {
                    out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> throw new IllegalArgumentException("unknown escape \\" + e);
            }
        }
        return out.toByteArray();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"
                    + "abcGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals("ok\n", h.read(false).text());
            assertEquals("abc", h.read(false).text());
            assertEquals(404, h.read(false).status());
        }
    }

    @Test
    void aChunkedBodyIsEchoedWithItsLength() throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/x-test\r\n\r\n"
                    + "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n");
            Http.Response r = h.read(false);
            assertEquals(200, r.status());
            assertEquals("9", r.header("content-length"), "the whole body is known: no need to chunk it");
            assertNull(r.header("transfer-encoding"));
            assertEquals("text/x-test", r.header("content-type"));
            assertEquals("Wikipedia", r.text());
        }
    }

    @Test
    void expectContinueGets100ThenTheResponse() throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
            assertEquals(100, h.read(false).status());
            h.send("ping");
            assertEquals("ping", h.read(false).text());
        }
    }

    @Test
    void expectContinueWithATooLargeBodyGets413WithoutSendingIt() throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
            assertEquals(413, h.read(false).status());
            assertTrue(h.closedByServer());
        }
    }

    @Test
    void chunkedBodyOverTheLimitGets413() throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + "a".repeat(2048)
                    + "\r\n0\r\n\r\n");
            assertEquals(413, h.read(false).status());
            assertTrue(h.closedByServer());
        }
    }

    @Test
    void headHasTheHeadersOfGetAndNoBody() throws IOException {
        try (Http h = new Http(cluster.port)) {
            Http.Response get = h.get("/");
            h.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
            Http.Response head = h.read(true);
            assertEquals(200, head.status());
            assertEquals(get.header("content-length"), head.header("content-length"));
            // nothing but the next response follows: a body would corrupt it
            assertEquals("ok\n", h.get("/health").text());
        }
    }

    @Test
    void dateIsAnImfFixdateAndContentLengthIsExact() throws IOException {
        Http.Response r = Http.get(cluster.port, "/");
        // IMF-fixdate (RFC 9110 §5.6.7): two digits for the day, always
        assertTrue(r.header("date").matches("(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT"),
                r.header("date"));
        ZonedDateTime date = ZonedDateTime.parse(r.header("date"), DateTimeFormatter.RFC_1123_DATE_TIME);
        assertTrue(Math.abs(date.toEpochSecond() - System.currentTimeMillis() / 1000) < 5);
        assertEquals(r.body().length, Integer.parseInt(r.header("content-length")));
        assertEquals("Hello, world!\n", r.text());
    }

    @Test
    void echoListsTheRequestHeaders() throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send("GET /echo HTTP/1.1\r\nHost: x\r\nX-One: 1\r\n\r\n");
            String body = h.read(false).text();
            assertTrue(body.contains("Host: x\n") && body.contains("X-One: 1\n"), body);
        }
    }

    @Test
    void aHalfClosedClientStillGetsItsResponse() throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            h.socket.shutdownOutput();
            assertEquals("ok\n", h.read(false).text());
            assertTrue(h.closedByServer());
        }
    }

    @Test
    void tooLongRequestLineGets414() throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(414, h.read(false).status());
            assertTrue(h.closedByServer());
        }
    }

    @Test
    void tooLargeHeadersGet431() throws IOException {
        try (Http h = new Http(cluster.port)) {
            StringBuilder sb = new StringBuilder("GET / HTTP/1.1\r\nHost: x\r\n");
            for (int i = 0; i < 200; i++) {
                sb.append("X-Header-").append(i).append(": ").append("v".repeat(40)).append("\r\n");
            }
            h.send(sb.append("\r\n").toString());
            assertEquals(431, h.read(false).status());
            assertTrue(h.closedByServer());
        }
    }

    @Test
    void idleKeepAliveConnectionIsClosedAfterTheTimeout() throws IOException {
        try (Http h = new Http(cluster.port)) {
            assertEquals(200, h.get("/").status());
            long start = System.nanoTime();
            assertTrue(h.closedByServer());
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms > 1000 && ms < 5000, "closed after " + ms + " ms, keep-alive timeout is 2 s");
        }
    }

    /**
     * The header timeout (1 s here) runs from a head's first byte, whatever the keep-alive timeout (2 s here) says:
     * measured on 20 clients at once, each sending half a request head on a new connection.
     */
    @Test
    void aHalfSentHeadGets408OneHeaderTimeoutAfterItsFirstByte() throws Exception {
        List<CompletableFuture<Long>> clients = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            clients.add(CompletableFuture.supplyAsync(() -> {
                try (Http h = new Http(cluster.port)) {
                    long start = System.nanoTime();
                    h.send("GET / HTTP/1.1\r\nHost: x\r\n");
                    assertEquals(408, h.read(false).status());
                    long ms = (System.nanoTime() - start) / 1_000_000;
                    assertTrue(h.closedByServer());
                    return ms;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }));
        }
        for (CompletableFuture<Long> c : clients) {
            long ms = c.get(10, TimeUnit.SECONDS);
            assertTrue(ms >= 900 && ms < 1600, "408 after " + ms + " ms; the header timeout is 1 s");
        }
    }

    @Test
    void onAReusedConnectionTheHeaderTimeoutAlsoRunsFromTheHeadsFirstByte() throws Exception {
        try (Http h = new Http(cluster.port)) {
            assertEquals(200, h.get("/").status());
            Thread.sleep(1500); // idle, within the keep-alive timeout
            long start = System.nanoTime();
            h.send("GET / HTTP/1.1\r\nHost: x\r\n");
            assertEquals(408, h.read(false).status());
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 900 && ms < 1600, "408 after " + ms + " ms; the header timeout is 1 s");
        }
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheKeepAliveTimeoutWithoutAResponse() throws Exception {
        try (Http h = new Http(cluster.port)) {
            long start = System.nanoTime();
            assertEquals(-1, h.socket.getInputStream().read(), "closed without a byte");
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 1900 && ms < 2800, "closed after " + ms + " ms; the keep-alive timeout is 2 s");
        }
    }

    @Test
    void computeIsCappedAndNeedsANumber() throws IOException {
        assertEquals(400, Http.get(cluster.port, "/compute?ms=-5").status());
        assertTrue(Http.get(cluster.port, "/compute?ms=5").text().startsWith("computed 5 ms"));
    }
}
