package jcluster.worker.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;

/**
 * Netty's aggregator (which also answers {@code Expect: 100-continue}), with three changes:
 * <ul>
 *   <li>its refusals of an expectation (417 for one it does not know, 413) are the server's own error responses,
 *   with {@code Date} and {@code Connection: close}, as every other refusal;</li>
 *   <li>a chunked request stays marked {@code Transfer-Encoding: chunked} instead of being given an invented
 *   {@code Content-Length}, so the app knows how its body came;</li>
 *   <li>a body that grows past the limit without having declared its length gets our 413 and the connection
 *   closes, since the rest of that body is still on the wire.</li>
 * </ul>
 */
final class RequestAggregator extends HttpObjectAggregator {
    private final Exchange exchange;
    private boolean chunked;

    RequestAggregator(Exchange exchange, int maxBody) {
        super(maxBody, true);
        this.exchange = exchange;
    }

    @Override
    protected FullHttpMessage beginAggregation(HttpMessage start, ByteBuf content) throws Exception {
        chunked = HttpUtil.isTransferEncodingChunked(start);
        return super.beginAggregation(start, content);
    }

    @Override
    protected void finishAggregation(FullHttpMessage aggregated) throws Exception {
        if (chunked) {
            HttpUtil.setTransferEncodingChunked(aggregated, true);
        } else {
            super.finishAggregation(aggregated);
        }
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object answer = super.newContinueResponse(start, maxContentLength, pipeline);
        if (answer instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.CLIENT_ERROR) {
            ReferenceCountUtil.release(answer);
            exchange.closeAfterResponse = true;
            return Responses.error(r.status());
        }
        return answer;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        exchange.closeAfterResponse = true;
        ctx.writeAndFlush(Responses.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
