package jcluster.worker.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import jcluster.app.Response;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

class CompressionTest {
    private final Compression gzip = new Compression(1, 256);
    private static final String TEXT = "the quick brown fox jumps over the lazy dog\n".repeat(100);
    private static final Compression.Asked GZIP = new Compression.Asked("gzip, deflate", false, false);

    private static Response text(int status, String body) {
        return Response.text(status, body);
    }

    private static byte[] gunzip(byte[] gz) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    private static byte[] body(Response r) {
        return ByteBufUtil.getBytes(((Response.Bytes) r.body()).content());
    }

    @Test
    void aTextBodyIsGzippedAndGunzipsToItself() throws IOException {
        Response r = gzip.apply(ByteBufAllocator.DEFAULT, GZIP, text(200, TEXT).header("etag", "\"abc\""));
        assertEquals("gzip", r.headers().get("content-encoding"));
        assertEquals("accept-encoding", r.headers().get("vary"));
        assertEquals("W/\"abc\"", r.headers().get("etag"), "the gzip bytes are another representation");
        byte[] gz = body(r);
        assertTrue(gz.length < TEXT.length() / 5, "repetitive text shrinks: " + gz.length);
        assertEquals(TEXT, new String(gunzip(gz), StandardCharsets.UTF_8));
    }

    @Test
    void whatMustNotBeCompressedIsNot() {
        for (Compression.Asked asked : new Compression.Asked[] {
                new Compression.Asked(null, false, false), new Compression.Asked("identity", false, false),
                new Compression.Asked("gzip;q=0", false, false), new Compression.Asked("*;q=0", false, false),
                new Compression.Asked("gzip", true, false), new Compression.Asked("gzip", false, true)}) {
            Response r = gzip.apply(ByteBufAllocator.DEFAULT, asked, text(200, TEXT));
            assertNull(r.headers().get("content-encoding"), asked.toString());
            assertEquals("accept-encoding", r.headers().get("vary"), "a cache must keep the variants apart: " + asked);
            assertEquals(TEXT, new String(body(r), StandardCharsets.UTF_8));
        }
        assertNull(gzip.apply(ByteBufAllocator.DEFAULT, GZIP, text(200, "short")).headers().get("content-encoding"));
        assertNull(gzip.apply(ByteBufAllocator.DEFAULT, GZIP, text(500, TEXT)).headers().get("content-encoding"));
        assertNull(gzip.apply(ByteBufAllocator.DEFAULT, GZIP, text(200, TEXT).contentType("image/png"))
                .headers().get("vary"), "an image does not vary by encoding");
        Response encoded = gzip.apply(ByteBufAllocator.DEFAULT, GZIP, text(200, TEXT).header("content-encoding", "br"));
        assertEquals("br", encoded.headers().get("content-encoding"));
    }

    @Test
    void acceptEncodingIsReadAsRfc9110Says() {
        assertTrue(Compression.acceptsGzip("gzip"));
        assertTrue(Compression.acceptsGzip("deflate, GZIP;q=0.5"));
        assertTrue(Compression.acceptsGzip("x-gzip"));
        assertTrue(Compression.acceptsGzip("br, *"));
        assertFalse(Compression.acceptsGzip("gzip;q=0, *"), "refused by name, whatever * says");
        assertFalse(Compression.acceptsGzip("gzip; q=0.000"));
        assertFalse(Compression.acceptsGzip("br, identity"));
        assertFalse(Compression.acceptsGzip(""));
    }

    @Test
    void onlyTextLikeTypesAreCompressible() {
        assertTrue(Compression.compressible("text/html; charset=utf-8"));
        assertTrue(Compression.compressible("application/json"));
        assertTrue(Compression.compressible("application/problem+json"));
        assertTrue(Compression.compressible("image/svg+xml"));
        assertFalse(Compression.compressible("image/jpeg"));
        assertFalse(Compression.compressible("application/octet-stream"));
        assertFalse(Compression.compressible(null));
    }
}
