package com.example.hello;

import jcluster.app.AppContext;
import jcluster.app.Handler;
import jcluster.app.Request;
import jcluster.app.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Properties;

/**
 * An app for jcluster's workers: found through META-INF/services/jcluster.app.Handler.
 * <ul>
 *   <li>{@code GET /}: a greeting with the app's version and the worker's id</li>
 *   <li>{@code GET /version}: the app's version</li>
 *   <li>{@code POST /upper}: the body in upper case</li>
 *   <li>{@code GET /sleep?ms=N}: waits N ms (at most 5000) on the worker's blocking pool, not its event loop</li>
 *   <li>{@code GET /boom}: throws, to show that a failing request costs only itself a 500</li>
 * </ul>
 */
public final class HelloApp implements Handler {
    private final String version;
    private int worker;

    public HelloApp() {
        Properties p = new Properties();
        try (InputStream in = HelloApp.class.getResourceAsStream("/hello.properties")) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        version = p.getProperty("version", "unknown");
    }

    @Override
    public void start(AppContext context) {
        worker = context.workerId();
    }

    @Override
    public Response handle(Request req) {
        switch (req.path()) {
            case "/":
                return Response.text("Hello from hello-app " + version + " (worker " + worker + ")\n");
            case "/version":
                return Response.text(version + "\n");
            case "/upper":
                if (!req.method().equals("POST")) {
                    return Response.text(405, "POST only\n").header("Allow", "POST");
                }
                return Response.text(req.bodyText().toUpperCase(Locale.ROOT));
            case "/sleep":
                long ms = Math.min(5000, Long.parseLong(req.param("ms") == null ? "100" : req.param("ms")));
                return req.offload(() -> {
                    Thread.sleep(ms);
                    return Response.text("slept " + ms + " ms\n");
                });
            case "/boom":
                throw new IllegalStateException("boom: a bug in the app");
            default:
                return Response.text(404, "not found\n");
        }
    }
}
