package jcluster.app;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * What a handler answers: a status, headers and a body of bytes, a stream or a file. The server adds
 * {@code Date}, {@code Content-Length} (or chunked framing for a stream) and {@code Connection}, and leaves the
 * body out for {@code HEAD}.
 * <pre>{@code
 * return Response.text("hello\n");
 * return Response.of(201).header("Location", "/items/7").body(json, "application/json");
 * return Response.of(200).file(Path.of("/srv/report.pdf"));
 * }</pre>
 */
public final class Response {
    private static final AsciiString TEXT = AsciiString.cached("text/plain; charset=utf-8");
    private static final DefaultHeaders.NameValidator<CharSequence> TOKEN =
            DefaultHttpHeadersFactory.headersFactory().getNameValidator();
    /**
     * Names and values are validated as Netty's default headers do, except the names the server itself sets on
     * every response: those constants are valid tokens, and checking them byte by byte on each response cost 1.5%
     * of a worker's time on small responses (profiled).
     */
    private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory()
            .withNameValidator(name -> {
                if (name != HttpHeaderNames.DATE && name != HttpHeaderNames.CONTENT_LENGTH
                        && name != HttpHeaderNames.CONTENT_TYPE && name != HttpHeaderNames.CONNECTION) {
                    TOKEN.validateName(name);
                }
            });

    /** The forms a body takes; a server reads them, a handler uses the builder methods. */
    public sealed interface Body permits Bytes, Stream, FileRange, Later, Upgrade {
    }

    /** Bytes in memory; the server releases the buffer once written. */
    public record Bytes(ByteBuf content) implements Body {
    }

    /** Read to its end and sent chunked, then closed. */
    public record Stream(InputStream in) implements Body {
    }

    /** {@code length} bytes of an open file from {@code offset}, sent with {@code sendfile}; the server closes it. */
    public record FileRange(FileChannel channel, long offset, long length) implements Body {
    }

    /** A response that completes later (from another thread, or the blocking pool). */
    public record Later(CompletionStage<Response> stage) implements Body {
    }

    /** The request is answered by opening a WebSocket on its connection (101), driven by this listener. */
    public record Upgrade(WebSocket.Listener listener) implements Body {
    }

    private int status;
    private final HttpHeaders headers = HEADERS.newHeaders();
    private Body body = new Bytes(Unpooled.EMPTY_BUFFER);

    private Response(int status) {
        this.status = status;
    }

    /** A response with this status and, until set, no body. */
    public static Response of(int status) {
        return new Response(checked(status));
    }

    /** 200 with a plain-text UTF-8 body. */
    public static Response text(String text) {
        return text(200, text);
    }

    /** A plain-text UTF-8 body with this status. */
    public static Response text(int status, String text) {
        return of(status).body(text.getBytes(StandardCharsets.UTF_8), TEXT);
    }

    /** A response that another thread completes; a failed stage becomes a 500. */
    public static Response later(CompletionStage<Response> stage) {
        Response r = new Response(200);
        r.body = new Later(Objects.requireNonNull(stage));
        return r;
    }

    /**
     * Opens a WebSocket on this request's connection, driven by {@code listener}: the server answers 101 if the
     * request is a valid handshake (RFC 6455 §4.2.1), 400 if it is a broken one, 426 with {@code Upgrade: websocket}
     * if it asks for no upgrade or for another WebSocket version, and 503 if this worker is draining (the client's
     * retry goes to another). Headers set here go on the 101.
     */
    public static Response webSocket(WebSocket.Listener listener) {
        Response r = new Response(101);
        r.body = new Upgrade(Objects.requireNonNull(listener));
        return r;
    }

    /** Sets the status. */
    public Response status(int status) {
        this.status = checked(status);
        return this;
    }

    /** Adds a header (names and values are checked: no CR, LF or other invalid bytes). */
    public Response header(String name, String value) {
        headers.add(name, value);
        return this;
    }

    /** Sets the {@code Content-Type}. */
    public Response contentType(CharSequence type) {
        headers.set(HttpHeaderNames.CONTENT_TYPE, type);
        return this;
    }

    /** A body of bytes (not copied: do not change the array afterwards). */
    public Response body(byte[] bytes) {
        return body(Unpooled.wrappedBuffer(bytes));
    }

    /** A body of bytes with its {@code Content-Type}. */
    public Response body(byte[] bytes, CharSequence contentType) {
        return contentType(contentType).body(bytes);
    }

    /** A body as a Netty buffer, for handlers that build their own: the server takes ownership and releases it. */
    public Response body(ByteBuf content) {
        releaseBody();
        this.body = new Bytes(Objects.requireNonNull(content));
        return this;
    }

    /** A body read from a stream as it is sent (chunked), closed at the end or when the client goes away. */
    public Response body(InputStream in) {
        releaseBody();
        this.body = new Stream(Objects.requireNonNull(in));
        return this;
    }

    /** The whole file as the body, sent with {@code sendfile}. The file is opened (and its length read) now. */
    public Response file(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path);
        try {
            return file(ch, 0, ch.size());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Part of a file as the body, sent with {@code sendfile}. The file is opened now. */
    public Response file(Path path, long offset, long length) throws IOException {
        return file(FileChannel.open(path), offset, length);
    }

    /** Part of an open file as the body, sent with {@code sendfile}; the server closes the channel when done. */
    public Response file(FileChannel channel, long offset, long length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("offset and length must not be negative");
        }
        releaseBody();
        this.body = new FileRange(Objects.requireNonNull(channel), offset, length);
        return this;
    }

    public int status() {
        return status;
    }

    /** The headers set so far; changeable. */
    public HttpHeaders headers() {
        return headers;
    }

    public Body body() {
        return body;
    }

    private static int checked(int status) {
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status must have three digits, got " + status);
        }
        return status;
    }

    /** Frees what the body holds (a buffer, an open file or stream); for a response that will not be sent. */
    public void releaseBody() {
        try {
            if (body instanceof Bytes b) {
                b.content().release();
            } else if (body instanceof FileRange f) {
                f.channel().close();
            } else if (body instanceof Stream s) {
                s.in().close();
            }
        } catch (IOException e) {
            // closing a file or stream we only read: nothing to recover
        }
        body = new Bytes(Unpooled.EMPTY_BUFFER);
    }
}
