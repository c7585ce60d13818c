package jcluster.worker.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.List;

/**
 * Netty's request decoder, held to RFC 9112 where it is lenient by design.
 * <ul>
 *   <li>The request line: the method must be a token, the target must not hold control bytes or spaces and must be
 *   in a form the method allows, and the version must be {@code HTTP/DIGIT.DIGIT} to the letter (Netty upper-cases
 *   and accepts any {@code NAME/N.N}). A major version other than 1 fails with
 *   {@link UnsupportedVersionException} (505); 1.2 and up are served as 1.1.</li>
 *   <li>Obsolete line folding (a header line that starts with SP or HTAB), which Netty joins to the previous field,
 *   is rejected (RFC 9112 §5.2 lets a server answer 400), and so is a request line whose parts are not separated
 *   by single spaces (§3). Netty accepts both without a trace, so the head is scanned here before Netty parses
 *   it; the scan stops at the end of each head, so bodies are never looked at.</li>
 * </ul>
 * Header names and values are validated by Netty's validating headers factory; conflicting
 * {@code Content-Length}/{@code Transfer-Encoding}, duplicate lengths and malformed chunk sizes by Netty's decoder.
 */
public final class StrictRequestDecoder extends HttpRequestDecoder {

    /** Thrown for a well-formed HTTP version this server does not speak. */
    public static final class UnsupportedVersionException extends IllegalArgumentException {
        UnsupportedVersionException(String version) {
            super("unsupported HTTP version " + version);
        }
    }

    private enum Scan { BEFORE_HEAD, REQUEST_LINE, HEADERS, BODY }

    private Scan scan = Scan.BEFORE_HEAD;
    /** Bytes from the reader index on that the scan has already seen (valid across calls as the decoder consumes). */
    private int scanned;
    /** The last two head bytes seen, to find CRLF CRLF and CRLF SP across reads. */
    private int last1 = -1;
    private int last2 = -1;
    private int spaces;
    private boolean rejected;

    public StrictRequestDecoder(int maxInitialLine, int maxHeaderSize) {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(maxInitialLine)
                .setMaxHeaderSize(maxHeaderSize)
                .setStrictLineParsing(true)
                .setAllowDuplicateContentLengths(false)
                .setUseRfc9112TransferEncoding(true)
                .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(true))
                .setTrailersFactory(DefaultHttpHeadersFactory.trailersFactory().withValidation(true)));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (rejected) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        String problem = scan == Scan.BODY ? null : malformedHead(buffer);
        if (problem != null) {
            rejected = true;
            buffer.skipBytes(buffer.readableBytes());
            DefaultFullHttpRequest bad = new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request");
            bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(problem)));
            out.add(bad);
            return;
        }
        int before = out.size();
        super.decode(ctx, buffer, out);
        // Netty completes at most one message per call, and always last.
        if (out.size() > before && out.get(out.size() - 1) instanceof LastHttpContent) {
            mergeBodiless(out);
            scan = Scan.BEFORE_HEAD;
            scanned = 0;
            last1 = last2 = -1;
        } else {
            scanned = Math.min(scanned, buffer.readableBytes());
        }
    }

    /**
     * A request without a body comes out of Netty's decoder as a head followed by an empty last content, which the
     * aggregator then joins into a full request around a new composite buffer. Most requests have no body, so the
     * pair is made one full request here and the aggregator lets it pass (profiled: about 2% of a worker's time on
     * small requests). A request with {@code Expect} still takes the aggregator's path, which answers it.
     */
    private static void mergeBodiless(List<Object> out) {
        int n = out.size();
        if (n < 2 || out.get(n - 1) != LastHttpContent.EMPTY_LAST_CONTENT
                || !(out.get(n - 2) instanceof HttpRequest head) || head instanceof FullHttpRequest
                || !head.decoderResult().isSuccess() || head.headers().contains(HttpHeaderNames.EXPECT)) {
            return;
        }
        out.remove(n - 1);
        out.set(n - 2, new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(),
                Unpooled.EMPTY_BUFFER, head.headers(), EmptyHttpHeaders.INSTANCE));
    }

    /**
     * Scans the unseen bytes of the current head. Returns what is wrong, or null: a line that starts with SP or
     * HTAB (obs-fold), or a request line that is not exactly three parts separated by single spaces (Netty's
     * splitter accepts runs of spaces and tabs).
     */
    private String malformedHead(ByteBuf buffer) {
        int i = buffer.readerIndex() + scanned;
        int end = buffer.writerIndex();
        for (; i < end && scan != Scan.BODY; i++) {
            int b = buffer.getByte(i);
            if (scan == Scan.BEFORE_HEAD) {
                // empty lines before the request line are allowed (RFC 9112 §2.2) and skipped by Netty
                if (b == '\r' || b == '\n') {
                    continue;
                }
                if (b == ' ' || b == '\t') {
                    return "whitespace before the request line";
                }
                scan = Scan.REQUEST_LINE;
                spaces = 0;
            } else if (scan == Scan.REQUEST_LINE) {
                if (b == '\t' || (b == ' ' && last1 == ' ')) {
                    return "request line not separated by single spaces";
                }
                if (b == ' ') {
                    spaces++;
                } else if (b == '\n') {
                    if (spaces != 2) {
                        return "request line with " + (spaces + 1) + " parts";
                    }
                    scan = Scan.HEADERS;
                }
            } else if (last1 == '\n' && (b == ' ' || b == '\t')) {
                return "obsolete line folding";
            } else if (b == '\n' && last1 == '\r' && last2 == '\n') {
                scan = Scan.BODY;
            }
            last2 = last1;
            last1 = b;
        }
        scanned = i - buffer.readerIndex();
        return null;
    }

    @Override
    protected HttpMessage createMessage(String[] initialLine) throws Exception {
        String method = initialLine[0];
        String target = initialLine[1];
        String version = initialLine[2];
        if (!Rfc9110.isToken(method)) {
            throw new IllegalArgumentException("invalid method");
        }
        if (!Rfc9110.isRequestTarget(method, target)) {
            throw new IllegalArgumentException("invalid request target");
        }
        if (version.length() != 8 || !version.startsWith("HTTP/") || !isDigit(version.charAt(5))
                || version.charAt(6) != '.' || !isDigit(version.charAt(7))) {
            throw new IllegalArgumentException("invalid HTTP version");
        }
        if (version.charAt(5) != '1') {
            throw new UnsupportedVersionException(version);
        }
        if (version.charAt(7) > '1') {
            // a higher minor version of a major we speak is served as the highest we know (RFC 9110 §2.5)
            initialLine[2] = "HTTP/1.1";
        }
        return super.createMessage(initialLine);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
