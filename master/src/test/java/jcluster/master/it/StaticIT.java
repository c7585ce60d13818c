package jcluster.master.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** --static DIR: files with sendfile, conditional requests, ranges, content types, and no way out of DIR. */
@Timeout(60)
class StaticIT {
    static Path parent;
    static Path www;
    static byte[] big;
    static Cluster cluster;

    @BeforeAll
    static void start() throws IOException {
        parent = TestFiles.dir("jcluster-static");
        www = Files.createDirectory(parent.resolve("www"));
        Files.writeString(parent.resolve("secret.txt"), "outside DIR\n");
        Files.writeString(www.resolve("hello.txt"), "hello, file\n");
        Files.writeString(www.resolve("index.html"), "<h1>hi</h1>\n");
        Files.createDirectory(www.resolve("sub"));
        Files.writeString(www.resolve("sub").resolve("app.js"), "let x = 1;\n");
        big = new byte[1 << 20];
        new Random(7).nextBytes(big);
        Files.write(www.resolve("big.bin"), big);
        Files.createSymbolicLink(www.resolve("escape.txt"), parent.resolve("secret.txt"));
        Files.createSymbolicLink(www.resolve("up"), parent);
        Files.createSymbolicLink(www.resolve("inside.txt"), www.resolve("hello.txt"));
        cluster = Cluster.start(Cluster.LEAK_CHECKED_WORKERS, "--workers=1", "--static=" + www);
    }

    @AfterAll
    static void stop() throws IOException, InterruptedException {
        try {
            if (cluster != null) {
                try {
                    cluster.assertNoLeaks();
                } finally {
                    cluster.close();
                }
            }
        } finally {
            TestFiles.deleteTree(parent);
        }
    }

    static Http.Response get(String path, String... headers) throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + String.join("", headers) + "\r\n");
            return h.read(false);
        }
    }

    @Test
    void aFileComesWithItsTypeLengthAndValidators() throws IOException {
        Http.Response r = get("/hello.txt");
        assertEquals(200, r.status());
        assertEquals("hello, file\n", r.text());
        assertEquals("text/plain; charset=utf-8", r.header("content-type"));
        assertEquals("12", r.header("content-length"));
        assertNotNull(r.header("etag"));
        assertNotNull(r.header("last-modified"));
        assertEquals("bytes", r.header("accept-ranges"));
        assertEquals("text/html; charset=utf-8", get("/index.html").header("content-type"));
        assertEquals("text/javascript; charset=utf-8", get("/sub/app.js").header("content-type"));
        assertEquals("application/octet-stream", get("/big.bin").header("content-type"));
    }

    @Test
    void aMebibyteFileArrivesWhole() throws IOException {
        Http.Response r = get("/big.bin");
        assertEquals(200, r.status());
        assertArrayEquals(big, r.body());
    }

    @Test
    void headGivesTheHeadersOnly() throws IOException {
        try (Http h = new Http(cluster.port)) {
            h.send("HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
            Http.Response r = h.read(true);
            assertEquals(200, r.status());
            assertEquals(String.valueOf(big.length), r.header("content-length"));
            assertEquals(0, r.body().length);
            assertEquals("hello, file\n", h.get("/hello.txt").text(), "the connection is still in step");
        }
    }

    @Test
    void conditionalRequestsGet304() throws IOException {
        Http.Response first = get("/hello.txt");
        String etag = first.header("etag");
        String modified = first.header("last-modified");
        Http.Response r = get("/hello.txt", "If-None-Match: " + etag + "\r\n");
        assertEquals(304, r.status());
        assertEquals(0, r.body().length);
        assertNull(r.header("content-length"));
        assertEquals(etag, r.header("etag"));
        assertEquals(304, get("/hello.txt", "If-None-Match: \"other\", W/" + etag + "\r\n").status());
        assertEquals(304, get("/hello.txt", "If-None-Match: *\r\n").status());
        assertEquals(200, get("/hello.txt", "If-None-Match: \"other\"\r\n").status());
        assertEquals(304, get("/hello.txt", "If-Modified-Since: " + modified + "\r\n").status());
        assertEquals(200, get("/hello.txt", "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT\r\n").status());
        // If-None-Match decides when both are present
        assertEquals(200, get("/hello.txt", "If-None-Match: \"other\"\r\nIf-Modified-Since: " + modified + "\r\n")
                .status());
    }

    @Test
    void lastModifiedIsAnImfFixdateAndTheObsoleteDateFormsAreRead() throws IOException {
        // the file's own time, written in each of the three forms RFC 9110 §5.6.7 has a recipient accept
        long mtime = Files.getLastModifiedTime(www.resolve("hello.txt")).toMillis() / 1000;
        ZonedDateTime t = Instant.ofEpochSecond(mtime).atZone(ZoneOffset.UTC);
        String imf = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).format(t);
        String rfc850 = DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", Locale.US).format(t);
        String asctime = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US).format(t);
        assertEquals(imf, get("/hello.txt").header("last-modified"));
        for (String date : new String[] {imf, rfc850, asctime}) {
            assertEquals(304, get("/hello.txt", "If-Modified-Since: " + date + "\r\n").status(), date);
            assertEquals(200, get("/hello.txt", "If-Unmodified-Since: " + date + "\r\n").status(), date);
        }
    }

    @Test
    void failedPreconditionsGet412() throws IOException {
        String etag = get("/hello.txt").header("etag");
        assertEquals(200, get("/hello.txt", "If-Match: " + etag + "\r\n").status());
        assertEquals(200, get("/hello.txt", "If-Match: *\r\n").status());
        assertEquals(412, get("/hello.txt", "If-Match: \"other\"\r\n").status());
        assertEquals(412, get("/hello.txt", "If-Match: W/" + etag + "\r\n").status(), "compared strongly");
        assertEquals(412, get("/hello.txt", "If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT\r\n").status());
        assertEquals(200, get("/hello.txt", "If-Unmodified-Since: not a date\r\n").status(), "ignored");
    }

    @Test
    void rangesGet206() throws IOException {
        Http.Response r = get("/big.bin", "Range: bytes=100-199\r\n");
        assertEquals(206, r.status());
        assertEquals("bytes 100-199/" + big.length, r.header("content-range"));
        assertArrayEquals(Arrays.copyOfRange(big, 100, 200), r.body());
        Http.Response suffix = get("/hello.txt", "Range: bytes=-5\r\n");
        assertEquals(206, suffix.status());
        assertEquals("file\n", suffix.text());
        assertEquals("bytes 7-11/12", suffix.header("content-range"));
        Http.Response open = get("/hello.txt", "Range: bytes=7-\r\n");
        assertEquals("file\n", open.text());
        Http.Response clamped = get("/hello.txt", "Range: bytes=7-1000\r\n");
        assertEquals("bytes 7-11/12", clamped.header("content-range"));
    }

    @Test
    void aRangePastTheEndGets416() throws IOException {
        Http.Response r = get("/hello.txt", "Range: bytes=12-\r\n");
        assertEquals(416, r.status());
        assertEquals("bytes */12", r.header("content-range"));
        assertEquals(416, get("/hello.txt", "Range: bytes=-0\r\n").status());
    }

    @Test
    void rangesThatDoNotApplyGiveTheWholeFile() throws IOException {
        String etag = get("/hello.txt").header("etag");
        assertEquals(200, get("/hello.txt", "Range: bytes=0-1\r\nIf-Range: \"stale\"\r\n").status());
        assertEquals(206, get("/hello.txt", "Range: bytes=0-1\r\nIf-Range: " + etag + "\r\n").status());
        assertEquals(200, get("/hello.txt", "Range: bytes=0-1,3-4\r\n").status(), "several ranges: whole file");
        assertEquals(200, get("/hello.txt", "Range: lines=1-2\r\n").status());
        assertEquals(200, get("/hello.txt", "Range: bytes=5-2\r\n").status());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/sub/../../secret.txt",
            "/sub/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt", "/sub%2f..%2f..%2fsecret.txt", "/hello.txt%00",
            "/%00", "/./hello.txt", "/%zz", "/..%5csecret.txt"})
    void traversalAndNulAreRefusedWith400(String path) throws IOException {
        Http.Response r = get(path);
        assertEquals(400, r.status(), path + " → " + r.text());
        assertFalse(r.text().contains("outside DIR"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/escape.txt", "/up/secret.txt"})
    void symbolicLinksOutOfTheDirectoryGet404(String path) throws IOException {
        Http.Response r = get(path);
        assertEquals(404, r.status(), path + " → " + r.text());
        assertFalse(r.text().contains("outside DIR"));
    }

    @Test
    void aSymbolicLinkInsideTheDirectoryIsServed() throws IOException {
        assertEquals("hello, file\n", get("/inside.txt").text());
        assertEquals("hello, file\n", get("/up/www/hello.txt").text(), "out and back in: the file is inside");
    }

    @Test
    void whatIsNotAFileGoesToTheApp() throws IOException {
        assertEquals("Hello, world!\n", get("/").text(), "a directory has no index: the app answers");
        assertEquals(404, get("/sub/").status());
        assertEquals(404, get("/missing.txt").status());
        try (Http h = new Http(cluster.port)) {
            h.send("POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
            assertEquals(404, h.read(false).status(), "POST goes to the app, which has no such route");
        }
    }
}
