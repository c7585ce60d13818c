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
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.List;

/**
 * Netty's request decoder, held to RFC 9112 where it is lenient by design. A scan runs over every byte of a head
 * and of a chunked body before Netty parses it, and refuses with the status the RFC gives:
 * <ul>
 *   <li>The request line (§3): parts separated by single spaces, nothing before it but empty lines (§2.2). Past
 *   {@code maxInitialLine} bytes, a request-target gets 414; a method longer than {@link #MAX_METHOD} gets 501 (a
 *   method longer than any the server implements); a version longer than {@code HTTP/D.D}, 400. The method must be a token, the
 *   target in a form the method allows, the version {@code HTTP/DIGIT.DIGIT} to the letter (Netty upper-cases and
 *   accepts any {@code NAME/N.N}); a major version other than 1 gets 505, and 1.2 and up are served as 1.1.</li>
 *   <li>Obsolete line folding in the fields or the trailers (a line that starts with SP or HTAB), which Netty joins
 *   to the previous field: 400 (§5.2).</li>
 *   <li>The chunked coding (§7.1): each chunk-size line is {@code 1*HEXDIG *( BWS ";" BWS token [ BWS "=" BWS
 *   ( token / quoted-string ) ] ) CRLF}, at most {@link #MAX_CHUNK_LINE} bytes, and each chunk's data is followed
 *   by CRLF; otherwise 400. Netty takes whatever precedes the first {@code ;} as the size and ignores the rest.</li>
 * </ul>
 * Header names and values are validated by Netty's validating headers factory; conflicting
 * {@code Content-Length}/{@code Transfer-Encoding} and duplicate lengths by Netty's decoder; the header section's
 * size by Netty's limit (431).
 */
public final class StrictRequestDecoder extends HttpRequestDecoder {
    /** The longest method taken; no method of RFC 9110 or any registered one comes close. */
    public static final int MAX_METHOD = 64;
    /** The longest chunk-size line, extensions included (nginx does not take extensions at all). */
    public static final int MAX_CHUNK_LINE = 4096;
    /** {@code HTTP/D.D} and the CR before the LF. */
    private static final int VERSION_AND_CR = 9;
    /** Netty's own line limit sits above ours, so that the scan, which knows which part is too long, decides. */
    private static final int NETTY_LINE_SLACK = 64;

    /** A request refused by the decoder, with the status that answers it. */
    public static final class Refusal extends IllegalArgumentException {
        private final int status;

        Refusal(int status, String why) {
            super(why);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private enum Scan {
        BEFORE_HEAD, METHOD, TARGET, VERSION, HEADERS,
        /** a body Netty frames by its length, or none: not scanned */
        BODY,
        CHUNK_SIZE, CHUNK_DATA, CHUNK_CR, CHUNK_LF, TRAILERS,
        /** the last chunk and trailers are scanned: nothing more until Netty completes the message */
        DONE
    }

    private final int maxInitialLine;
    private Scan scan = Scan.BEFORE_HEAD;
    /** Bytes from the reader index on that the scan has already seen. */
    private int scanned;
    /** The last two head bytes seen, to find CRLF CRLF and CRLF SP across reads. */
    private int last1 = -1;
    private int last2 = -1;
    /** Bytes of the request line's current part, or of the whole line. */
    private int partLength;
    private int lineLength;
    private final StringBuilder chunkLine = new StringBuilder();
    private long chunkLeft;
    private boolean rejected;

    public StrictRequestDecoder(int maxInitialLine, int maxHeaderSize) {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(Math.max(maxInitialLine, MAX_CHUNK_LINE) + NETTY_LINE_SLACK)
                .setMaxHeaderSize(maxHeaderSize)
                .setStrictLineParsing(true)
                .setAllowDuplicateContentLengths(false)
                .setUseRfc9112TransferEncoding(true)
                .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(true))
                .setTrailersFactory(DefaultHttpHeadersFactory.trailersFactory().withValidation(true)));
        this.maxInitialLine = maxInitialLine;
    }

    /** Bytes of the client's were read and not yet decoded: the connection cannot move to another worker. */
    boolean buffering() {
        return actualReadableBytes() > 0;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (rejected) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        Refusal problem = scan == Scan.BODY || scan == Scan.DONE ? null : scan(buffer);
        if (problem != null) {
            rejected = true;
            buffer.skipBytes(buffer.readableBytes());
            DefaultFullHttpRequest bad = new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request");
            bad.setDecoderResult(DecoderResult.failure(problem));
            out.add(bad);
            return;
        }
        int before = out.size();
        int readable = buffer.readableBytes();
        super.decode(ctx, buffer, out);
        scanned = Math.max(0, scanned - (readable - buffer.readableBytes()));
        if (out.size() == before) {
            return;
        }
        // Netty completes at most one message per call, and always last; a chunked head comes alone.
        Object last = out.get(out.size() - 1);
        if (last instanceof LastHttpContent) {
            mergeBodiless(out);
            scan = Scan.BEFORE_HEAD;
            scanned = 0;
            last1 = last2 = -1;
        } else if (last instanceof HttpRequest head && head.decoderResult().isSuccess()
                && HttpUtil.isTransferEncodingChunked(head)) {
            // the reader index is at the first chunk-size line now
            scan = Scan.CHUNK_SIZE;
            scanned = 0;
            chunkLine.setLength(0);
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

    /** Scans the bytes not seen yet; returns what is wrong, or null. */
    private Refusal scan(ByteBuf buffer) {
        int i = buffer.readerIndex() + scanned;
        int end = buffer.writerIndex();
        for (; i < end && scan != Scan.BODY && scan != Scan.DONE; i++) {
            if (scan == Scan.CHUNK_DATA) {
                int skip = (int) Math.min(chunkLeft, end - i);
                chunkLeft -= skip;
                i += skip - 1;
                if (chunkLeft == 0) {
                    scan = Scan.CHUNK_CR;
                }
                continue;
            }
            Refusal r = step(buffer.getByte(i) & 0xff);
            if (r != null) {
                return r;
            }
        }
        scanned = i - buffer.readerIndex();
        return null;
    }

    /** One byte of a head or of a chunked body's framing. */
    private Refusal step(int b) {
        switch (scan) {
            case BEFORE_HEAD -> {
                if (b == '\r' || b == '\n') {
                    return null;
                }
                if (b == ' ' || b == '\t') {
                    return bad("whitespace before the request line");
                }
                scan = Scan.METHOD;
                partLength = 0;
                lineLength = 0;
                return requestLine(b);
            }
            case METHOD, TARGET, VERSION -> {
                return requestLine(b);
            }
            case HEADERS, TRAILERS -> {
                if (last1 == '\n' && (b == ' ' || b == '\t')) {
                    return bad("obsolete line folding");
                }
                if (b == '\n' && last1 == '\r' && last2 == '\n') {
                    scan = scan == Scan.HEADERS ? Scan.BODY : Scan.DONE;
                }
                last2 = last1;
                last1 = b;
                return null;
            }
            case CHUNK_SIZE -> {
                if (b != '\n') {
                    if (chunkLine.length() == MAX_CHUNK_LINE) {
                        return bad("chunk-size line longer than " + MAX_CHUNK_LINE + " bytes");
                    }
                    chunkLine.append((char) b);
                    return null;
                }
                return chunkSizeLine();
            }
            case CHUNK_CR -> {
                scan = Scan.CHUNK_LF;
                return b == '\r' ? null : bad("chunk data longer than its size");
            }
            case CHUNK_LF -> {
                scan = Scan.CHUNK_SIZE;
                chunkLine.setLength(0);
                return b == '\n' ? null : bad("chunk data not followed by CRLF");
            }
            default -> throw new IllegalStateException(scan.name());
        }
    }

    /** A byte of the request line: {@code method SP request-target SP HTTP-version CRLF}. */
    private Refusal requestLine(int b) {
        if (b == '\n') {
            if (scan != Scan.VERSION) {
                return bad("request line with " + (scan == Scan.METHOD ? 1 : 2) + " part(s)");
            }
            scan = Scan.HEADERS;
            last2 = '\r';
            last1 = '\n';
            return null;
        }
        if (b == '\t') {
            return bad("request line not separated by single spaces");
        }
        if (b == ' ') {
            if (partLength == 0) {
                return bad("request line not separated by single spaces");
            }
            if (scan == Scan.VERSION) {
                return bad("request line with more than 3 parts");
            }
            scan = scan == Scan.METHOD ? Scan.TARGET : Scan.VERSION;
            partLength = 0;
        } else {
            partLength++;
        }
        if (scan == Scan.METHOD && partLength > MAX_METHOD) {
            return new Refusal(501, "method longer than " + MAX_METHOD + " bytes");
        }
        if (scan == Scan.VERSION && partLength > VERSION_AND_CR) {
            return bad("invalid HTTP version");
        }
        // past the method's limit and within the version's, what makes the line too long is its target
        if (++lineLength > maxInitialLine) {
            return new Refusal(414, "request-target longer than the request line limit");
        }
        return null;
    }

    /**
     * A whole chunk-size line, without its LF: {@code chunk-size [ chunk-ext ] CR}. Sets what follows it: the data,
     * or the trailers after the last chunk.
     */
    private Refusal chunkSizeLine() {
        int n = chunkLine.length();
        if (n == 0 || chunkLine.charAt(n - 1) != '\r') {
            return bad("chunk-size line not ended by CRLF");
        }
        n--;
        int i = 0;
        long size = 0;
        for (; i < n && Character.digit(chunkLine.charAt(i), 16) >= 0; i++) {
            if (size > Long.MAX_VALUE >> 4) {
                return bad("chunk size too large");
            }
            size = size << 4 | Character.digit(chunkLine.charAt(i), 16);
        }
        if (i == 0) {
            return bad("chunk size missing");
        }
        while (i < n) {
            i = whitespace(i, n);
            if (i == n || chunkLine.charAt(i) != ';') {
                return bad("malformed chunk size or extension");
            }
            i = whitespace(i + 1, n);
            int name = i;
            i = token(i, n);
            if (i == name) {
                return bad("chunk extension without a name");
            }
            int afterName = i;
            i = whitespace(i, n);
            if (i < n && chunkLine.charAt(i) == '=') {
                i = whitespace(i + 1, n);
                int value = i;
                i = i < n && chunkLine.charAt(i) == '"' ? quotedString(i, n) : token(i, n);
                if (i <= value) {
                    return bad("chunk extension with a malformed value");
                }
            } else {
                i = afterName;
            }
        }
        if (size == 0) {
            scan = Scan.TRAILERS;
            last2 = '\r';
            last1 = '\n';
        } else {
            scan = Scan.CHUNK_DATA;
            chunkLeft = size;
        }
        return null;
    }

    private int whitespace(int i, int n) {
        while (i < n && (chunkLine.charAt(i) == ' ' || chunkLine.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    private int token(int i, int n) {
        while (i < n && Rfc9110.isTokenChar(chunkLine.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The index after the quoted-string at {@code i}, or -1 if it is not one. */
    private int quotedString(int i, int n) {
        for (i++; i < n; i++) {
            char c = chunkLine.charAt(i);
            if (c == '"') {
                return i + 1;
            }
            if (c == '\\') {
                i++;
                if (i == n || !Rfc9110.isQuotedPairChar(chunkLine.charAt(i))) {
                    return -1;
                }
            } else if (!Rfc9110.isQdtext(c)) {
                return -1;
            }
        }
        return -1;
    }

    private static Refusal bad(String why) {
        return new Refusal(400, why);
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
            throw new Refusal(505, "unsupported HTTP version " + version);
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
