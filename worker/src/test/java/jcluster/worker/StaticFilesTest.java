package jcluster.worker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;

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
    }

    @Test
    void contentTypesByExtension() {
        assertEquals("text/html; charset=utf-8", StaticFiles.contentType(Path.of("a/INDEX.HTML")));
        assertEquals("image/png", StaticFiles.contentType(Path.of("x.png")));
        assertEquals("application/octet-stream", StaticFiles.contentType(Path.of("Makefile")));
        assertEquals("application/octet-stream", StaticFiles.contentType(Path.of("x.unknown")));
    }
}
