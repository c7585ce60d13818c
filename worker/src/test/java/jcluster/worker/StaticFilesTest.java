package jcluster.worker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(10)
class StaticFilesTest {

    @Test
    void pathsAreDecodedAndDotSegmentsRefused() {
        assertEquals("a/b c.txt", StaticFiles.relativePath("/a/b%20c.txt?x=1"));
        assertEquals("a/b", StaticFiles.relativePath("//a///b"));
        assertEquals("", StaticFiles.relativePath("/"));
        assertEquals("caf\u00e9", StaticFiles.relativePath("/caf%C3%A9"));
        for (String bad : new String[] {"/..", "/a/../b", "/%2e%2e/x", "/%2E./x", "/.", "/a/./b", "/a%2f..%2fb/../c",
                "/..%2f", "/x%00", "/%", "/%4", "/%g0", "/a%5c..", "relative", "/%ff"}) {
            assertNull(StaticFiles.relativePath(bad), bad);
        }
        assertEquals("..a/b..", StaticFiles.relativePath("/..a/b.."), "dots inside a name are a name");
    }

    @Test
    void singleByteRanges() {
        assertArrayEquals(new long[] {0, 9}, StaticFiles.byteRange("bytes=0-9", 100));
        assertArrayEquals(new long[] {90, 99}, StaticFiles.byteRange("bytes=90-", 100));
        assertArrayEquals(new long[] {90, 99}, StaticFiles.byteRange("bytes=-10", 100));
        assertArrayEquals(new long[] {0, 99}, StaticFiles.byteRange("bytes=-1000", 100));
        assertArrayEquals(new long[] {50, 99}, StaticFiles.byteRange("bytes=50-5000", 100));
        assertArrayEquals(new long[] {5, 5}, StaticFiles.byteRange("BYTES=5-5", 100));
        assertSame(StaticFiles.UNSATISFIABLE, StaticFiles.byteRange("bytes=100-", 100));
        assertSame(StaticFiles.UNSATISFIABLE, StaticFiles.byteRange("bytes=-0", 100));
        assertSame(StaticFiles.UNSATISFIABLE, StaticFiles.byteRange("bytes=0-", 0));
        for (String ignored : new String[] {"bytes=1-2,4-5", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=-",
                "bytes=1", "bytes=+1-2", "bytes=99999999999999999999-"}) {
            assertNull(StaticFiles.byteRange(ignored, 100), ignored);
        }
    }

    @Test
    void validators() {
        assertTrue(StaticFiles.ifRangeHolds(null, "\"a\"", 5));
        assertTrue(StaticFiles.ifRangeHolds("\"a\"", "\"a\"", 5));
        assertFalse(StaticFiles.ifRangeHolds("W/\"a\"", "\"a\"", 5), "If-Range compares entity tags strongly");
        assertTrue(StaticFiles.ifRangeHolds("Thu, 01 Jan 1970 00:00:05 GMT", "\"a\"", 5));
        assertFalse(StaticFiles.ifRangeHolds("Thu, 01 Jan 1970 00:00:06 GMT", "\"a\"", 5));
        assertFalse(StaticFiles.ifRangeHolds("garbage", "\"a\"", 5));
        assertTrue(StaticFiles.ifRangeHolds("Sunday, 06-Nov-94 08:49:37 GMT", "\"a\"", 784111777), "RFC 850");
        assertTrue(StaticFiles.ifRangeHolds("Sun Nov  6 08:49:37 1994", "\"a\"", 784111777), "asctime");
    }

    /** The conditional fields of a GET, as RFC 9110 §13.2.2 orders them; the file's is RFC 9110's example date. */
    static int precondition(String... fields) {
        Map<String, String> h = new HashMap<>();
        for (int i = 0; i < fields.length; i += 2) {
            h.put(fields[i], fields[i + 1]);
        }
        return StaticFiles.precondition(h::get, "\"t\"", 784111777);
    }

    @Test
    void conditionalRequestsInTheOrderOfRfc9110() {
        String before = "Sun, 06 Nov 1994 08:49:36 GMT";
        String at = "Sun, 06 Nov 1994 08:49:37 GMT";
        assertEquals(200, precondition());
        assertEquals(200, precondition("if-match", "\"t\""));
        assertEquals(200, precondition("if-match", "*"));
        assertEquals(412, precondition("if-match", "\"x\", W/\"t\""), "If-Match compares strongly");
        assertEquals(412, precondition("if-unmodified-since", before));
        assertEquals(200, precondition("if-unmodified-since", at));
        assertEquals(200, precondition("if-match", "\"t\"", "if-unmodified-since", before), "If-Match first");
        assertEquals(200, precondition("if-unmodified-since", "not a date"), "an invalid date is ignored");
        assertEquals(304, precondition("if-none-match", "W/\"t\""), "If-None-Match compares weakly");
        assertEquals(304, precondition("if-none-match", "*"));
        assertEquals(200, precondition("if-none-match", "\"x\"", "if-modified-since", at), "If-None-Match first");
        assertEquals(304, precondition("if-modified-since", at));
        assertEquals(304, precondition("if-modified-since", "Sunday, 06-Nov-94 08:49:37 GMT"));
        assertEquals(304, precondition("if-modified-since", "Sun Nov  6 08:49:37 1994"));
        assertEquals(200, precondition("if-modified-since", "Sun Nov  6 08:49:36 1994"));
        assertEquals(200, precondition("if-modified-since", before));
        assertEquals(412, precondition("if-match", "\"x\"", "if-none-match", "\"t\""), "412 before 304");
    }

    @Test
    void contentTypesByExtension() {
        assertEquals("text/html; charset=utf-8", StaticFiles.contentType(Path.of("a/INDEX.HTML")));
        assertEquals("image/png", StaticFiles.contentType(Path.of("x.png")));
        assertEquals("application/octet-stream", StaticFiles.contentType(Path.of("Makefile")));
        assertEquals("application/octet-stream", StaticFiles.contentType(Path.of("x.unknown")));
    }
}
