package jcluster.app;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * One HTTP request, whole: the server has read and checked its head (RFC 9112) and its body before the handler
 * sees it. Valid until its response is written; do not keep it longer.
 */
public interface Request {
    /** {@code GET}, {@code POST}, … */
    String method();

    /** The request target as sent, in origin form: {@code /path?query}. */
    String uri();

    /** The path, percent-decoded, without the query: {@code /a b} for {@code /a%20b?x=1}. */
    String path();

    /** The query as sent, without the {@code ?}; empty if there is none. */
    String query();

    /** The first value of a query parameter, decoded; null if absent. */
    String param(String name);

    /** Every query parameter, decoded, in order. */
    Map<String, List<String>> params();

    /** The first value of a header (names are case-insensitive); null if absent. */
    String header(String name);

    /** Every value of a header, in order. */
    List<String> headers(String name);

    /** The names of the headers present. */
    Set<String> headerNames();

    /** {@code HTTP/1.1} or {@code HTTP/1.0}. */
    String version();

    /** A copy of the body; empty if there is none. */
    byte[] body();

    /** The body as UTF-8 text. */
    String bodyText();

    /** The body as a stream, without copying it. */
    InputStream bodyStream();

    /** The body's length in bytes. */
    int bodyLength();

    /** True if the body came with {@code Transfer-Encoding: chunked}. */
    boolean chunked();

    /** The client's address: the peer's, or with --proxy-protocol the one the trusted proxy's header gave. */
    InetSocketAddress remoteAddress();

    /**
     * Runs {@code task} on the worker's blocking pool and answers with what it returns. When the pool's queue is
     * full the answer is at once a 503 with {@code Retry-After} instead: the queue is bounded on purpose.
     * Use it from a handler: {@code return request.offload(() -> slowQuery(request));}.
     */
    Response offload(Callable<Response> task);
}
