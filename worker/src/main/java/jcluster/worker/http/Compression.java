package jcluster.worker.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.concurrent.FastThreadLocal;
import jcluster.app.Response;

import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * {@code --compress}: gzip for text responses held in memory (an app's bytes, a static file up to 16 KiB), as nginx's
 * {@code gzip on}. A response is compressed only if all of these hold: status 200, 403 or 404 (nginx's choice); a
 * compressible type (text, JSON, JavaScript, XML, SVG); at least {@code --compress-min-length} bytes; no
 * {@code Content-Encoding} of its own; the request is no {@code HEAD} and asks for no {@code Range}; and its
 * {@code Accept-Encoding} takes gzip (RFC 9110 §12.5.3: a q of 0 refuses it, {@code *} stands for it). A response of
 * a compressible type gets {@code Vary: Accept-Encoding} either way, so a cache keeps the two apart; a compressed
 * one loses {@code Accept-Ranges} (its ranges would be of the gzip bytes) and its entity tag becomes weak, as
 * nginx does. Larger files go by sendfile, uncompressed, unless a {@code .gz} lies beside them
 * ({@code StaticFiles}). The deflater is one per event loop, reused.
 */
public final class Compression {
    private static final byte[] GZIP_HEADER = {0x1f, (byte) 0x8b, Deflater.DEFLATED, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    private final int level;
    private final int minLength;
    private final FastThreadLocal<Deflater> deflaters = new FastThreadLocal<>() {
        @Override
        protected Deflater initialValue() {
            return new Deflater(level, true);
        }

        @Override
        protected void onRemoval(Deflater d) {
            d.end();
        }
    };

    public Compression(int level, int minLength) {
        this.level = level;
        this.minLength = minLength;
    }

    /** What of the request decides: its {@code Accept-Encoding}, and whether it is a HEAD or asks for a range. */
    public record Asked(String acceptEncoding, boolean head, boolean range) {
    }

    /** The response as it should go: compressed, or as it was; {@code Vary} set where it applies. */
    public Response apply(ByteBufAllocator alloc, Asked asked, Response res) {
        HttpHeaders h = res.headers();
        if (!(res.status() == 200 || res.status() == 403 || res.status() == 404)
                || !compressible(h.get(HttpHeaderNames.CONTENT_TYPE))) {
            return res;
        }
        if (!h.containsValue(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT_ENCODING, true)) {
            h.add(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT_ENCODING);
        }
        if (asked.head() || asked.range() || h.contains(HttpHeaderNames.CONTENT_ENCODING)
                || h.contains(HttpHeaderNames.CONTENT_RANGE) || !(res.body() instanceof Response.Bytes bytes)
                || bytes.content().readableBytes() < minLength || !acceptsGzip(asked.acceptEncoding())) {
            return res;
        }
        ByteBuf gz = gzip(alloc, bytes.content());
        h.set(HttpHeaderNames.CONTENT_ENCODING, "gzip");
        h.remove(HttpHeaderNames.ACCEPT_RANGES);
        String etag = h.get(HttpHeaderNames.ETAG);
        if (etag != null && !etag.startsWith("W/")) {
            h.set(HttpHeaderNames.ETAG, "W/" + etag);
        }
        return res.body(gz);
    }

    ByteBuf gzip(ByteBufAllocator alloc, ByteBuf in) {
        Deflater d = deflaters.get();
        d.reset();
        int length = in.readableBytes();
        ByteBuffer src = in.nioBufferCount() == 1 ? in.nioBuffer() : ByteBuffer.wrap(io.netty.buffer.ByteBufUtil
                .getBytes(in));
        CRC32 crc = new CRC32();
        crc.update(src.duplicate());
        d.setInput(src);
        d.finish();
        // deflate's worst case is a few bytes per 16 KiB block more than the input
        ByteBuf out = alloc.buffer(GZIP_HEADER.length + length + length / 1000 + 64);
        out.writeBytes(GZIP_HEADER);
        while (!d.finished()) {
            out.ensureWritable(4096);
            ByteBuffer dst = out.nioBuffer(out.writerIndex(), out.writableBytes());
            int n = d.deflate(dst);
            out.writerIndex(out.writerIndex() + n);
        }
        out.writeIntLE((int) crc.getValue());
        out.writeIntLE(length);
        return out;
    }

    /** Text, JSON, JavaScript, XML and SVG: what gzip shrinks; images, archives and fonts it does not. */
    public static boolean compressible(String contentType) {
        if (contentType == null) {
            return false;
        }
        String t = contentType.toLowerCase(Locale.ROOT);
        int semi = t.indexOf(';');
        t = (semi < 0 ? t : t.substring(0, semi)).strip();
        return t.startsWith("text/") || t.equals("application/json") || t.equals("application/javascript")
                || t.equals("application/xml") || t.endsWith("+json") || t.endsWith("+xml")
                || t.equals("application/wasm") || t.equals("image/svg+xml");
    }

    /** RFC 9110 §12.5.3: gzip (or x-gzip, or *) listed with a q above 0, and not refused by name. */
    public static boolean acceptsGzip(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        Boolean star = null;
        for (String part : acceptEncoding.split(",")) {
            String[] p = part.split(";");
            String coding = p[0].strip().toLowerCase(Locale.ROOT);
            boolean ok = true;
            for (int i = 1; i < p.length; i++) {
                String param = p[i].strip().toLowerCase(Locale.ROOT);
                if (param.startsWith("q=")) {
                    ok = qAboveZero(param.substring(2).strip());
                }
            }
            if (coding.equals("gzip") || coding.equals("x-gzip")) {
                return ok;
            }
            if (coding.equals("*")) {
                star = ok;
            }
        }
        return star != null && star;
    }

    private static boolean qAboveZero(String q) {
        try {
            return Double.parseDouble(q) > 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
