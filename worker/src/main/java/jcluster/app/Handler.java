package jcluster.app;

/**
 * A worker's application: turns each request into a response. One abstract method, in the spirit of the JDK's
 * {@code com.sun.net.httpserver.HttpHandler}.
 *
 * <p>A handler runs on the connection's event loop, which serves many connections: it must not block. Work that
 * blocks (a database call, a long computation) belongs on the worker's bounded blocking pool, either for the whole
 * handler ({@link #blocking(Handler)}) or for one request ({@link Request#offload}). An exception thrown here costs
 * its request a 500; the worker serves on.
 *
 * <p>Loading: {@code --app-jar app.jar} finds the handler through {@link java.util.ServiceLoader} (a file
 * {@code META-INF/services/jcluster.app.Handler} naming one class) or {@code --app CLASS} names it; it needs a
 * public no-argument constructor. The jar gets a class loader of its own whose parent holds this API and Netty, and
 * every worker JVM loads it afresh, so a rolling reload ({@code SIGHUP}) deploys a new jar.
 *
 * <p>A handler that also implements {@link PipelineHook} may change each connection's Netty pipeline.
 */
@FunctionalInterface
public interface Handler {
    /**
     * Answers one request. The request and its body are valid until the response is written.
     *
     * @return the response; {@link Response#later} for one that completes later
     * @throws Exception anything: the client gets a 500 and the exception is logged
     */
    Response handle(Request request) throws Exception;

    /** True if every request to this handler runs on the blocking pool instead of the event loop. */
    default boolean isBlocking() {
        return false;
    }

    /** Called once per worker before it serves, on the worker's main thread. A throw stops the worker's start. */
    default void start(AppContext context) throws Exception {
    }

    /** Called once as the worker exits, after its connections are closed. */
    default void stop() {
    }

    /** {@code handler}, run on the blocking pool for every request. */
    static Handler blocking(Handler handler) {
        return new Handler() {
            @Override
            public Response handle(Request request) throws Exception {
                return handler.handle(request);
            }

            @Override
            public boolean isBlocking() {
                return true;
            }

            @Override
            public void start(AppContext context) throws Exception {
                handler.start(context);
            }

            @Override
            public void stop() {
                handler.stop();
            }
        };
    }
}
