package jcluster.worker.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import jcluster.app.Handler;
import jcluster.app.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/** Responses that complete later keep the order of pipelined requests; a handler that throws costs a 500. */
@Timeout(10)
class LaterResponseTest {
    private final CompletableFuture<Response> slow = new CompletableFuture<>();

    private final Handler app = req -> switch (req.path()) {
        case "/slow" -> Response.later(slow);
        case "/throw" -> throw new IllegalStateException("app bug (expected by this test)");
        case "/stream" -> Response.of(200).body(new java.io.ByteArrayInputStream("streamed\n".getBytes()));
        default -> Response.text("fast\n");
    };

    private EmbeddedChannel channel() {
        EmbeddedChannel ch = new EmbeddedChannel();
        new HttpInitializer(app, null, ServerState.UNCOUNTED, new BlockingPool(1, 1, null), Limits.DEFAULT, Features.NONE).init(ch);
        return ch;
    }

    @Test
    void aPipelinedRequestWaitsForTheLaterResponseBeforeIt() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.copiedBuffer("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n",
                StandardCharsets.US_ASCII));
        assertEquals("", Outbound.text(ch), "nothing before the first response is ready");
        assertFalse(ch.config().isAutoRead(), "reading pauses while requests wait");
        slow.complete(Response.text("slow\n"));
        ch.runPendingTasks();
        String out = Outbound.text(ch);
        int s = out.indexOf("slow\n");
        int f = out.indexOf("fast\n");
        assertTrue(s > 0 && f > s, out);
        assertTrue(ch.config().isAutoRead(), "reading resumes");
        ch.finishAndReleaseAll();
    }

    @Test
    void aFailedLaterResponseIsA500() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.copiedBuffer("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII));
        slow.completeExceptionally(new RuntimeException("task failed (expected by this test)"));
        ch.runPendingTasks();
        assertTrue(Outbound.text(ch).startsWith("HTTP/1.1 500 "));
        assertTrue(ch.isActive(), "the connection lives on");
        ch.finishAndReleaseAll();
    }

    @Test
    void aHandlerThatThrowsCostsOnlyItsRequest() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.copiedBuffer("GET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n",
                StandardCharsets.US_ASCII));
        String out = Outbound.text(ch);
        assertTrue(out.startsWith("HTTP/1.1 500 "), out);
        assertTrue(out.contains("fast\n"), out);
        ch.finishAndReleaseAll();
    }

    @Test
    void aStreamIsChunkedInHttp11AndCloseDelimitedInHttp10() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.copiedBuffer("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII));
        ch.runPendingTasks();
        String out11 = Outbound.text(ch).toLowerCase();
        assertTrue(out11.contains("transfer-encoding: chunked") && out11.contains("9\r\nstreamed\n\r\n0\r\n\r\n"),
                out11);
        assertTrue(ch.isActive());
        ch.finishAndReleaseAll();
        EmbeddedChannel ch10 = channel();
        ch10.writeInbound(Unpooled.copiedBuffer("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                StandardCharsets.US_ASCII));
        ch10.runPendingTasks();
        String out10 = Outbound.text(ch10).toLowerCase();
        assertFalse(out10.contains("transfer-encoding"), out10);
        assertTrue(out10.contains("connection: close") && out10.endsWith("\r\n\r\nstreamed\n"), out10);
        ch10.runPendingTasks();
        assertFalse(ch10.isActive(), "the close ends the body");
        ch10.finishAndReleaseAll();
    }

    @Test
    void noContentAndNotModifiedHaveNoBodyNorLength() {
        Handler h = req -> Response.of(req.path().equals("/204") ? 204 : 304).body("x".getBytes(StandardCharsets.UTF_8));
        EmbeddedChannel ch = new EmbeddedChannel();
        new HttpInitializer(h, null, ServerState.UNCOUNTED, new BlockingPool(1, 1, null), Limits.DEFAULT, Features.NONE).init(ch);
        ch.writeInbound(Unpooled.copiedBuffer("GET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\n",
                StandardCharsets.US_ASCII));
        String out = Outbound.text(ch);
        assertFalse(out.toLowerCase().contains("content-length"), out);
        assertTrue(out.contains("\r\n\r\nHTTP/1.1 304"), "no body between them: " + out);
        ch.finishAndReleaseAll();
    }
}
