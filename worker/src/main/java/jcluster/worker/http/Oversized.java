package jcluster.worker.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * The aggregator, with one change: a body that grows past the limit without having declared its length (chunked)
 * gets our 413 and the connection closes, since the rest of that body is still on the wire.
 */
final class Oversized extends HttpObjectAggregator {
    private final Exchange exchange;

    Oversized(Exchange exchange, int maxBody) {
        super(maxBody, true);
        this.exchange = exchange;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        exchange.closeAfterResponse = true;
        ctx.writeAndFlush(Responses.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
