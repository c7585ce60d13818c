package jcluster.worker.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;

/** The cached {@code Date} value and the server's own error responses. */
public final class Responses {
    private record CachedDate(long second, AsciiString value) {
    }

    // Formatting a date per response costs more than the rest of a small response; it changes once a second.
    // An AsciiString is written out by the encoder as one copy of its bytes, not char by char.
    private static volatile CachedDate date = new CachedDate(-1, AsciiString.EMPTY_STRING);

    private Responses() {
    }

    /** The current IMF-fixdate, formatted at most once a second. */
    public static AsciiString date() {
        long now = System.currentTimeMillis() / 1000;
        CachedDate d = date;
        if (d.second != now) {
            d = new CachedDate(now, new AsciiString(HttpDate.format(now)));
            date = d;
        }
        return d.value;
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8)));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8");
        return r;
    }

    /** An error response that also ends the connection. */
    static FullHttpResponse error(HttpResponseStatus status) {
        FullHttpResponse r = text(status, status.code() + " " + status.reasonPhrase() + "\n");
        r.headers()
                .set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(HttpHeaderNames.DATE, date());
        return r;
    }
}
