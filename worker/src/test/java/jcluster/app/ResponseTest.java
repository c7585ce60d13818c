package jcluster.app;

import io.netty.handler.codec.http.HttpHeaderNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.*;

/** Headers a handler sets are checked: the server's own names skip the check, nothing else does. */
@Timeout(5)
class ResponseTest {
    @Test
    void invalidHeaderNamesAndValuesAreRefused() {
        Response r = Response.of(200);
        assertThrows(IllegalArgumentException.class, () -> r.header("Bad Name", "x"));
        assertThrows(IllegalArgumentException.class, () -> r.header("X-Ok", "split\r\nX-Injected: 1"));
        assertThrows(IllegalArgumentException.class, () -> r.headers().set("content-type\r\nX: y", "x"));
        assertThrows(IllegalArgumentException.class, () -> r.headers().set(HttpHeaderNames.DATE, "a\nb"));
        assertTrue(r.headers().isEmpty());
    }

    @Test
    void theServersOwnNamesAndValidOnesAreTaken() {
        Response r = Response.of(200).header("X-Request-Id", "42").contentType("text/plain");
        r.headers().set(HttpHeaderNames.DATE, "Thu, 26 Nov 2026 08:00:00 GMT").setInt(HttpHeaderNames.CONTENT_LENGTH, 3);
        assertEquals("42", r.headers().get("x-request-id"));
        assertEquals("text/plain", r.headers().get(HttpHeaderNames.CONTENT_TYPE));
        assertEquals(3, r.headers().getInt(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals(4, r.headers().size());
    }
}
