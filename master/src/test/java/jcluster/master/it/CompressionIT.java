package jcluster.master.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/** --compress: gzip where the client takes it and the response allows it; file.gz beside a static file. */
@Timeout(60)
class CompressionIT {
    static final String TEXT = "<p>compress me, I repeat myself</p>\n".repeat(200);
    static Path www;
    static Cluster cluster;

    @BeforeAll
    static void start() throws IOException {
        www = TestFiles.dir("jcluster-gzip");
        Files.writeString(www.resolve("page.html"), TEXT);
        Files.writeString(www.resolve("style.css"), "body { color: red }\n".repeat(100));
        Files.write(www.resolve("style.css.gz"), gzip("/* the precompressed one */\n"));
        cluster = Cluster.start("--workers=1", "--compress", "--static=" + www);
    }

    @AfterAll
    static void stop() {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            TestFiles.deleteTree(www);
        }
    }

    static byte[] gzip(String s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(b)) {
            gz.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    static String gunzip(byte[] b) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(b))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static Http.Response request(String head) throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send(head);
            return h.read(head.startsWith("HEAD"));
        }
    }

    static Http.Response post(String body, String... headers) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/html\r\nContent-Length: " + b.length
                + "\r\n" + String.join("", headers) + "\r\n" + body);
    }

    @Test
    void anAppsTextIsGzippedForAClientThatTakesGzip() throws IOException {
        Http.Response r = post(TEXT, "Accept-Encoding: gzip, br\r\n");
        assertEquals("gzip", r.header("content-encoding"));
        assertEquals("accept-encoding", r.header("vary"));
        assertEquals(String.valueOf(r.body().length), r.header("content-length"));
        assertTrue(r.body().length < TEXT.length() / 10, r.body().length + " bytes");
        assertEquals(TEXT, gunzip(r.body()));
    }

    @Test
    void noGzipWithoutAcceptEncodingNorForASmallBody() throws IOException {
        Http.Response plain = post(TEXT);
        assertNull(plain.header("content-encoding"));
        assertEquals("accept-encoding", plain.header("vary"), "a cache keeps the two apart");
        assertEquals(TEXT, plain.text());
        Http.Response small = post("tiny", "Accept-Encoding: gzip\r\n");
        assertNull(small.header("content-encoding"));
        assertEquals("tiny", small.text());
        assertNull(post(TEXT, "Accept-Encoding: gzip;q=0\r\n").header("content-encoding"));
    }

    @Test
    void aStaticFileIsGzippedButNotForHeadARangeOrA304() throws IOException {
        Http.Response full = request("GET /page.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
        assertEquals("gzip", full.header("content-encoding"));
        assertEquals(TEXT, gunzip(full.body()));
        assertNull(full.header("accept-ranges"), "ranges would be of the gzip bytes");
        assertTrue(full.header("etag").startsWith("W/"), full.header("etag"));

        Http.Response head = request("HEAD /page.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
        assertEquals(200, head.status());
        assertNull(head.header("content-encoding"));
        assertEquals(String.valueOf(TEXT.length()), head.header("content-length"));

        Http.Response range = request("GET /page.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
                + "Range: bytes=0-9\r\n\r\n");
        assertEquals(206, range.status());
        assertNull(range.header("content-encoding"));
        assertEquals(TEXT.substring(0, 10), range.text());

        String etag = request("GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n").header("etag");
        Http.Response notModified = request("GET /page.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
                + "If-None-Match: " + etag + "\r\n\r\n");
        assertEquals(304, notModified.status());
        assertNull(notModified.header("content-encoding"));
        assertEquals(0, notModified.body().length);
    }

    @Test
    void aGzBesideAStaticFileIsServedAsIs() throws IOException {
        Http.Response gz = request("GET /style.css HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
        assertEquals(200, gz.status());
        assertEquals("gzip", gz.header("content-encoding"));
        assertEquals("text/css; charset=utf-8", gz.header("content-type"));
        assertEquals("accept-encoding", gz.header("vary"));
        assertEquals("/* the precompressed one */\n", gunzip(gz.body()));
        Http.Response plain = request("GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
        assertNull(plain.header("content-encoding"));
        assertEquals("body { color: red }\n".repeat(100), plain.text());
        assertEquals("accept-encoding", plain.header("vary"));
        assertNotEquals(gz.header("etag"), plain.header("etag"));
    }

    @Test
    void curlCompressedGetsTheOriginalBody() throws Exception {
        Process curl;
        try {
            curl = new ProcessBuilder("curl", "-s", "--compressed", "http://127.0.0.1:" + cluster.port + "/page.html")
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("no curl here: " + e.getMessage());
            return;
        }
        String body = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, curl.waitFor());
        assertEquals(TEXT, body);
    }
}
