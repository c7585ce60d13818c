package jcluster.worker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import jcluster.worker.http.HttpInitializer;
import jcluster.worker.http.ServerState;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One request through the same pipeline and app the connections get, in memory, before READY: a worker whose app
 * cannot answer must not be given connections (a reload then keeps the old workers).
 */
final class SelfProbe {
    private static final String PROBE = "GET /health HTTP/1.1\r\nHost: self-probe\r\n\r\n";
    private static final long TIMEOUT_MILLIS = 10_000;

    private SelfProbe() {
    }

    /** @throws IllegalStateException with the status line, when the answer is not a 1xx to 4xx response */
    static void check(HttpInitializer http) {
        EmbeddedChannel ch = new EmbeddedChannel();
        http.init(ch, ServerState.UNCOUNTED);
        ch.writeInbound(Unpooled.copiedBuffer(PROBE, StandardCharsets.US_ASCII));
        // a blocking app answers from its pool: its response lands on the channel's (manual) loop
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS);
        Object out;
        while ((out = ch.readOutbound()) == null && System.nanoTime() < deadline) {
            ch.runPendingTasks();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        String head = out instanceof ByteBuf b ? b.toString(StandardCharsets.US_ASCII) : "";
        ReferenceCountUtil.release(out);
        ch.finishAndReleaseAll();
        if (!head.startsWith("HTTP/1.1 ") || head.length() < 12 || head.charAt(9) == '5') {
            throw new IllegalStateException("self-probe GET /health failed: "
                    + (head.isEmpty() ? "no response" : head.lines().findFirst().orElse("")));
        }
    }
}
