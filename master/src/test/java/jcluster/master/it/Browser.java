package jcluster.master.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Debian's headless Chromium showing one page, driven over its DevTools protocol (a WebSocket on loopback, from
 * the JDK's client): for pages whose script keeps working after load (WebSockets), which {@code --dump-dom}
 * snapshots too early. Its profile and home live in a directory the caller removes.
 */
final class Browser implements AutoCloseable {
    private static final Pattern DEBUGGER = Pattern.compile("\"webSocketDebuggerUrl\"\\s*:\\s*\"(ws://[^\"]+/page/[^\"]+)\"");
    private final Process process;
    private final WebSocket devtools;
    private final AtomicInteger ids = new AtomicInteger();
    private volatile CompletableFuture<String> answer = new CompletableFuture<>();

    private Browser(Process process, WebSocket devtools) {
        this.process = process;
        this.devtools = devtools;
    }

    static Browser open(Path chromium, Path dir, String url) throws Exception {
        int port = Cluster.freePort();
        ProcessBuilder pb = new ProcessBuilder(chromium.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--user-data-dir=" + dir.resolve("profile"), "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=" + port, url);
        pb.environment().put("HOME", dir.toString());
        pb.environment().put("XDG_CONFIG_HOME", dir.resolve("config").toString());
        pb.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile());
        Process p = pb.start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            String[] ws = new String[1];
            Cluster.await(() -> {
                try {
                    String list = http.send(java.net.http.HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                    Matcher m = DEBUGGER.matcher(list);
                    return m.find() && (ws[0] = m.group(1)) != null;
                } catch (IOException e) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }, Duration.ofSeconds(30), () -> "chromium's DevTools did not come up: " + log(dir));
            Browser[] self = new Browser[1];
            WebSocket devtools = http.newWebSocketBuilder().buildAsync(URI.create(ws[0]), new WebSocket.Listener() {
                private final StringBuilder text = new StringBuilder();

                @Override
                public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    text.append(data);
                    if (last) {
                        self[0].answer.complete(text.toString());
                        text.setLength(0);
                    }
                    w.request(1);
                    return null;
                }
            }).get(10, TimeUnit.SECONDS);
            self[0] = new Browser(p, devtools);
            return self[0];
        } catch (Exception | Error e) {
            kill(p);
            throw e;
        }
    }

    private static String log(Path dir) {
        try {
            return Files.readString(dir.resolve("chromium.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The value of a JavaScript expression in the page, as a string; empty while it throws (no page yet). */
    synchronized String eval(String expression) throws Exception {
        answer = new CompletableFuture<>();
        int id = ids.incrementAndGet();
        devtools.sendText("{\"id\":" + id + ",\"method\":\"Runtime.evaluate\",\"params\":{\"expression\":"
                + jcluster.common.Json.string(new StringBuilder(),
                        "(() => { try { return String(" + expression + "); } catch (e) { return ''; } })()")
                + ",\"returnByValue\":true}}", true).get(10, TimeUnit.SECONDS);
        String reply = answer.get(10, TimeUnit.SECONDS);
        Matcher m = Pattern.compile("\"value\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(reply);
        assertTrue(m.find(), reply);
        return m.group(1).replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
    }

    /** Waits until the expression's value passes, and returns it. */
    String await(String expression, Predicate<String> ok, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String v = eval(expression);
        while (!ok.test(v)) {
            if (System.nanoTime() > deadline) {
                fail("the page's " + expression + " stayed: " + v);
            }
            Thread.sleep(100);
            v = eval(expression);
        }
        return v;
    }

    /**
     * Asks Chromium to quit, so that it removes what it made (its singleton socket's directory in /tmp, which a
     * killed Chromium leaves behind), and kills whatever of it is left after 10 s.
     */
    @Override
    public void close() {
        try {
            devtools.sendText("{\"id\":" + ids.incrementAndGet() + ",\"method\":\"Browser.close\"}", true)
                    .get(5, TimeUnit.SECONDS);
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // killed below
        }
        devtools.abort();
        kill(process);
    }

    /** Chromium and every process it started. */
    private static void kill(Process p) {
        List<ProcessHandle> all = new java.util.ArrayList<>(p.descendants().toList());
        all.add(p.toHandle());
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
    }
}
