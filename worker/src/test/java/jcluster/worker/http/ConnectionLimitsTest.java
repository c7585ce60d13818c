package jcluster.worker.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import jcluster.app.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** --max-requests-per-connection and --max-connection-age end a keep-alive connection with Connection: close. */
@Timeout(10)
class ConnectionLimitsTest {
    private static final String GET = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    private static EmbeddedChannel channel(long maxRequests, long maxAgeMillis) {
        EmbeddedChannel ch = new EmbeddedChannel();
        Limits l = new Limits(1 << 20, 8192, 8192, 5000, 10000, maxRequests, maxAgeMillis, 1 << 16, 60_000, 1000);
        new HttpInitializer(req -> Response.text("hi\n"), null, ServerState.UNCOUNTED, new BlockingPool(1, 1, null), l,
                Features.NONE)
                .init(ch);
        return ch;
    }

    private static String exchange(EmbeddedChannel ch) {
        ch.writeInbound(Unpooled.copiedBuffer(GET, StandardCharsets.US_ASCII));
        StringBuilder sb = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            sb.append(((ByteBuf) o).toString(StandardCharsets.US_ASCII));
            ((ByteBuf) o).release();
        }
        return sb.toString().toLowerCase();
    }

    @Test
    void theNthRequestOfAConnectionClosesIt() {
        EmbeddedChannel ch = channel(3, 0);
        assertFalse(exchange(ch).contains("connection: close"));
        assertFalse(exchange(ch).contains("connection: close"));
        assertTrue(exchange(ch).contains("connection: close"));
        assertFalse(ch.isActive());
    }

    @Test
    void anOldConnectionIsClosedAfterItsNextResponse() throws InterruptedException {
        EmbeddedChannel ch = channel(0, 50);
        assertFalse(exchange(ch).contains("connection: close"));
        Thread.sleep(80);
        assertTrue(exchange(ch).contains("connection: close"));
        assertFalse(ch.isActive());
    }

    @Test
    void noLimitsKeepTheConnection() {
        EmbeddedChannel ch = channel(0, 0);
        for (int i = 0; i < 20; i++) {
            assertFalse(exchange(ch).contains("connection: close"));
        }
        assertTrue(ch.isActive());
        ch.finishAndReleaseAll();
    }
}
