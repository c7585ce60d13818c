package jcluster.worker.http;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;

/**
 * What the worker serves. The server frames the response ({@code Date}, {@code Content-Length},
 * {@code Connection}, HEAD); the app sets status, content type and body. Runs on the event loop.
 */
@FunctionalInterface
public interface HttpApp {
    FullHttpResponse handle(FullHttpRequest request);
}
