package jcluster.worker.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;

import java.util.List;

/**
 * Between the decoder and the aggregator: turns what the decoder could not parse into 400, 414, 431 or 505, checks
 * what the decoder does not (exactly one valid {@code Host} in HTTP/1.1, at most one in 1.0, one
 * {@code Content-Length} field), refuses a declared body over the limit with 413 before reading it, and marks the
 * start and end of each request on the {@link Exchange}. Every refusal closes the connection: after a framing error
 * the rest of the stream cannot be trusted.
 */
final class RequestGuard extends ChannelInboundHandlerAdapter {
    private final Exchange exchange;
    private final long maxBody;
    private boolean refused;

    RequestGuard(Exchange exchange, long maxBody) {
        this.exchange = exchange;
        this.maxBody = maxBody;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            refuse(ctx, statusFor(o.decoderResult().cause()));
            return;
        }
        if (msg instanceof HttpRequest req) {
            exchange.requestStarted();
            HttpResponseStatus problem = check(req);
            if (problem != null) {
                ReferenceCountUtil.release(msg);
                refuse(ctx, problem);
                return;
            }
        }
        if (msg instanceof LastHttpContent) {
            exchange.receiving = false;
        }
        ctx.fireChannelRead(msg);
    }

    private HttpResponseStatus check(HttpRequest req) {
        HttpHeaders h = req.headers();
        List<String> hosts = h.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1 || (hosts.isEmpty() && req.protocolVersion() == HttpVersion.HTTP_1_1)) {
            return HttpResponseStatus.BAD_REQUEST;
        }
        if (hosts.size() == 1 && !Rfc9110.isHost(hosts.get(0))) {
            return HttpResponseStatus.BAD_REQUEST;
        }
        List<String> lengths = h.getAll(HttpHeaderNames.CONTENT_LENGTH);
        if (lengths.size() > 1) {
            return HttpResponseStatus.BAD_REQUEST;
        }
        if (lengths.size() == 1 && HttpUtil.getContentLength(req, -1L) > maxBody) {
            return HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
        }
        return null;
    }

    private static HttpResponseStatus statusFor(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return HttpResponseStatus.REQUEST_URI_TOO_LONG;
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        }
        if (cause instanceof StrictRequestDecoder.UnsupportedVersionException) {
            return HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED;
        }
        if (cause instanceof TooLongFrameException) {
            return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        }
        return HttpResponseStatus.BAD_REQUEST;
    }

    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status) {
        refused = true;
        exchange.closeAfterResponse = true;
        ctx.writeAndFlush(Responses.error(status)).addListener(ChannelFutureListener.CLOSE);
    }
}
