package jcluster.worker.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.util.ReferenceCountUtil;

import java.util.List;

/**
 * Between the decoder and the aggregator: turns what the decoder refused into its status (400, 414, 431, 501, 505:
 * {@link StrictRequestDecoder}), checks what the decoder does not (exactly one valid {@code Host} in HTTP/1.1, at
 * most one in 1.0, one {@code Content-Length} field, no transfer coding but chunked: 501), answers {@code CONNECT}
 * with 501 (this server is no proxy, RFC 9110 §9.3.6), refuses a declared body over the limit with 413 before
 * reading it, and marks the start and end of each request on the {@link Exchange}. Every refusal closes the
 * connection: after a framing error the rest of the stream cannot be trusted, and after a refused {@code CONNECT}
 * the client may already be sending what it meant for the tunnel.
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
            toOriginForm(req);
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
        if (req.method() == HttpMethod.CONNECT) {
            return HttpResponseStatus.NOT_IMPLEMENTED;
        }
        HttpHeaders h = req.headers();
        List<String> hosts = h.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1 || (hosts.isEmpty() && req.protocolVersion() == HttpVersion.HTTP_1_1)) {
            return HttpResponseStatus.BAD_REQUEST;
        }
        if (hosts.size() == 1 && !Rfc9110.isHost(hosts.get(0))) {
            return HttpResponseStatus.BAD_REQUEST;
        }
        for (String field : h.getAll(HttpHeaderNames.TRANSFER_ENCODING)) {
            for (String coding : field.split(",")) {
                // the decoder made sure chunked comes last; any other coding we cannot undo (RFC 9112 §6.1)
                if (!coding.trim().equalsIgnoreCase("chunked")) {
                    return HttpResponseStatus.NOT_IMPLEMENTED;
                }
            }
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

    /**
     * An absolute-form target names the host itself, and then the Host header must be ignored (RFC 9112 §3.2.2):
     * rewrite to origin-form with that host, so apps see one form only.
     */
    private static void toOriginForm(HttpRequest req) {
        String uri = req.uri();
        if (uri.charAt(0) == '/' || uri.equals("*")) {
            return;
        }
        int scheme = uri.indexOf("://");
        if (scheme < 0) {
            return;
        }
        int authorityStart = scheme + 3;
        int pathStart = authorityStart;
        while (pathStart < uri.length() && "/?#".indexOf(uri.charAt(pathStart)) < 0) {
            pathStart++;
        }
        String path = uri.substring(pathStart);
        req.headers().set(HttpHeaderNames.HOST, uri.substring(authorityStart, pathStart));
        req.setUri(path.isEmpty() || path.charAt(0) != '/' ? "/" + path : path);
    }

    private static HttpResponseStatus statusFor(Throwable cause) {
        if (cause instanceof StrictRequestDecoder.Refusal r) {
            return HttpResponseStatus.valueOf(r.status());
        }
        // the header section or the trailers past their limit; Netty's line limit is above the decoder's own
        // (which tells a long target from a long method), so a line never reaches it
        if (cause instanceof TooLongHttpHeaderException) {
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
