package com.example.chat;

import jcluster.app.AppContext;
import jcluster.app.Handler;
import jcluster.app.Request;
import jcluster.app.Response;
import jcluster.app.WebSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A chat room across every worker: each worker holds the WebSockets of its own clients, and a message from one of
 * them goes to those at once and, through the master, to every other worker ({@code broadcast}), which passes it
 * on to its own. Each worker keeps the last {@link #HISTORY} messages it saw, for a client that joins (or
 * reconnects after a reload) to catch up.
 */
public final class ChatApp implements Handler {
    static final String TOPIC = "chat";
    static final int HISTORY = 50;
    static final int MAX_TEXT = 500;
    static final int MAX_NAME = 40;
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'";

    private final Set<WebSocket> here = ConcurrentHashMap.newKeySet();
    private final ArrayDeque<String> history = new ArrayDeque<>();
    private AppContext context;
    private byte[] page;
    private byte[] script;
    private byte[] style;

    @Override
    public void start(AppContext context) {
        this.context = context;
        page = resource("chat/index.html");
        script = resource("chat/chat.js");
        style = resource("chat/chat.css");
        // what clients of other workers said: to this worker's clients
        context.messages().subscribe(TOPIC, (from, topic, data) -> show(new String(data, StandardCharsets.UTF_8)));
    }

    @Override
    public Response handle(Request req) {
        if (!req.method().equals("GET") && !req.method().equals("HEAD")) {
            return Response.text(405, "405 Method Not Allowed\n").header("allow", "GET, HEAD");
        }
        return switch (req.path()) {
            case "/" -> Response.of(200).header("content-security-policy", CSP)
                    .body(page, "text/html; charset=utf-8");
            case "/chat.js" -> Response.of(200).body(script, "text/javascript; charset=utf-8");
            case "/chat.css" -> Response.of(200).body(style, "text/css; charset=utf-8");
            case "/chat" -> join(req);
            case "/health" -> Response.text("ok\n");
            default -> Response.text(404, "404 Not Found\n");
        };
    }

    private Response join(Request req) {
        String asked = req.param("name");
        String name = asked == null || asked.isBlank() ? "guest"
                : asked.strip().substring(0, Math.min(MAX_NAME, asked.strip().length()));
        return Response.webSocket(new WebSocket.Listener() {
            @Override
            public void onOpen(WebSocket socket) {
                socket.sendText("{\"type\":\"hello\",\"worker\":" + context.workerId() + ",\"pid\":"
                        + ProcessHandle.current().pid() + "}");
                for (String m : recent()) {
                    socket.sendText(m);
                }
                here.add(socket);
            }

            @Override
            public void onText(WebSocket socket, String text) {
                if (text.length() > MAX_TEXT) {
                    socket.close(WebSocket.TOO_BIG, "at most " + MAX_TEXT + " characters");
                    return;
                }
                String m = "{\"type\":\"message\",\"worker\":" + context.workerId() + ",\"name\":" + json(name)
                        + ",\"text\":" + json(text) + "}";
                show(m);
                context.messages().broadcast(TOPIC, m.getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public void onClose(WebSocket socket, int code, String reason) {
                here.remove(socket);
            }
        });
    }

    /** To this worker's clients, and into its history. */
    private void show(String message) {
        synchronized (history) {
            if (history.size() == HISTORY) {
                history.removeFirst();
            }
            history.addLast(message);
        }
        for (WebSocket s : here) {
            s.sendText(message);
        }
    }

    private List<String> recent() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static byte[] resource(String name) {
        try (InputStream in = ChatApp.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
