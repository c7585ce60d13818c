package jcluster.worker.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Netty's aggregator (which also answers {@code Expect: 100-continue}), with two changes:
 * <ul>
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
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        exchange.closeAfterResponse = true;
        ctx.writeAndFlush(Responses.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
