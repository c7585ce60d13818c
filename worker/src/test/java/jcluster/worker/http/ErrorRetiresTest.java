package jcluster.worker.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import jcluster.app.Handler;
import jcluster.app.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** An Error escaping the app costs its request a 500 and retires the worker; the connection serves on. */
@Timeout(10)
class ErrorRetiresTest {
    private final List<String> retired = new ArrayList<>();
    private final ServerState server = new ServerState() {
        @Override
        public boolean draining() {
            return false;
        }

        @Override
        public void requestServed() {
        }

        @Override
        public void inFlight(int delta) {
        }

        @Override
        public void retire(String why) {
            retired.add(why);
        }
    };

    private static Response recurse(int n) {
        return recurse(n + 1);
    }

    private final Handler app = req -> switch (req.path()) {
        case "/overflow" -> recurse(0);
        case "/bug" -> throw new IllegalStateException("app bug (expected by this test)");
        default -> Response.text("fine\n");
    };

    @Test
    void aStackOverflowErrorIsA500AndTheWorkerRetires() {
        EmbeddedChannel ch = new EmbeddedChannel();
        new HttpInitializer(app, null, server, new BlockingPool(1, 1, null), Limits.DEFAULT, Features.NONE).init(ch);
        ch.writeInbound(Unpooled.copiedBuffer("GET /bug HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII));
        assertTrue(Outbound.text(ch).startsWith("HTTP/1.1 500 "));
        assertEquals(List.of(), retired, "an exception costs its request only");
        ch.writeInbound(Unpooled.copiedBuffer("GET /overflow HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
                StandardCharsets.US_ASCII));
        String out = Outbound.text(ch);
        assertTrue(out.startsWith("HTTP/1.1 500 "), out);
        assertTrue(out.contains("fine\n"), "the next request on the connection is served: " + out);
        assertEquals(List.of("java.lang.StackOverflowError on GET /overflow"), retired);
        assertTrue(ch.isActive());
        ch.finishAndReleaseAll();
    }
}
