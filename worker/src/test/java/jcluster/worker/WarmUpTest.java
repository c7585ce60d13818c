package jcluster.worker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How the warm-up's client frames the worker's responses. */
class WarmUpTest {
    private static final String OK = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";

    private static int length(String s) {
        ByteBuf b = Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
        try {
            return WarmUp.responseLength(b);
        } finally {
            b.release();
        }
    }

    @Test
    void aResponseIsWholeOnlyWithItsWholeBody() {
        assertEquals(OK.length(), length(OK));
        assertEquals(0, length(OK.substring(0, OK.length() - 1)));
        assertEquals(0, length("HTTP/1.1 200 OK\r\nContent-Len"));
        assertEquals(OK.length(), length(OK + OK.substring(0, 20)));
    }

    @Test
    void theSecondOfTwoIsFramedWhereItStarts() {
        ByteBuf b = Unpooled.copiedBuffer(OK + OK, StandardCharsets.ISO_8859_1);
        b.skipBytes(WarmUp.responseLength(b));
        assertEquals(OK.length(), WarmUp.responseLength(b));
        b.release();
    }

    @Test
    void chunkedBodiesEndAtTheLastChunk() {
        String head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        String body = "3\r\nabc\r\n0\r\n\r\n";
        assertEquals(head.length() + body.length(), length(head + body + OK));
        assertEquals(0, length(head + "3\r\nabc\r\n"));
        assertEquals(head.length() + 5, length(head + "0\r\n\r\n"));
    }

    @Test
    void bodilessStatusesEndWithTheirHead() {
        String head = "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n";
        assertEquals(head.length(), length(head));
        assertEquals(-1, length("HTTP/1.1 100 Continue\r\n\r\n"));
    }

    @Test
    void whatCannotBeFramedIsRefused() {
        assertEquals(-1, length("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end"));
        assertEquals(-1, length("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    }
}
