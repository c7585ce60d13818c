package jcluster.worker.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import jcluster.app.Handler;
import jcluster.app.PipelineHook;
import jcluster.app.Request;
import jcluster.app.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** An app that also implements PipelineHook sees the named pipeline and can answer with its own Netty handler. */
@Timeout(10)
class PipelineHookTest {
    static final class HookedApp implements Handler, PipelineHook {
        List<String> names;

        @Override
        public Response handle(Request request) {
            return Response.text("from the handler\n");
        }

        @Override
        public void configure(ChannelPipeline pipeline) {
            names = pipeline.names();
            pipeline.addBefore(APP, "raw", new SimpleChannelInboundHandler<FullHttpRequest>(false) {
                @Override
                protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                    if (!req.uri().equals("/raw")) {
                        ctx.fireChannelRead(req);
                        return;
                    }
                    req.release();
                    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                            Unpooled.copiedBuffer("from netty\n", StandardCharsets.US_ASCII));
                    r.headers().setInt("content-length", r.content().readableBytes());
                    ctx.writeAndFlush(r);
                }
            });
        }
    }

    @Test
    void theHookAddsAHandlerThatAnswersBeforeTheApp() {
        HookedApp app = new HookedApp();
        EmbeddedChannel ch = new EmbeddedChannel();
        new HttpInitializer(app, app, ServerState.UNCOUNTED, new BlockingPool(1, 1, null), Limits.DEFAULT, Features.NONE).init(ch);
        assertTrue(app.names.containsAll(List.of(PipelineHook.TIMEOUTS, PipelineHook.DECODER, PipelineHook.ENCODER,
                PipelineHook.GUARD, PipelineHook.AGGREGATOR, PipelineHook.APP)), app.names.toString());
        ch.writeInbound(Unpooled.copiedBuffer("GET /raw HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
                StandardCharsets.US_ASCII));
        StringBuilder out = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            out.append(((ByteBuf) o).toString(StandardCharsets.US_ASCII));
            ((ByteBuf) o).release();
        }
        assertTrue(out.indexOf("from netty\n") > 0 && out.indexOf("from the handler\n") > out.indexOf("from netty"),
                out.toString());
        ch.finishAndReleaseAll();
    }
}
