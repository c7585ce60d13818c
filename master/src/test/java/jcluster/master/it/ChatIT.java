package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The chat example (examples/chat-app) on two workers: JDK WebSocket clients held by different workers see each
 * other's messages, and a real browser (Debian's headless Chromium) that joins gets both in its page and is heard
 * by both; what a member then says shows in its page.
 */
@Timeout(120)
class ChatIT {
    static final Pattern HELLO = Pattern.compile("\\{\"type\":\"hello\",\"worker\":(\\d+),\"pid\":(\\d+)}");

    /** A chat client and the worker that holds it. */
    record Member(WebSocketIT.Client client, int worker, long pid) {
        static Member join(int port, String name) throws Exception {
            WebSocketIT.Client c = WebSocketIT.Client.open(port, "/chat?name=" + name);
            Matcher m = HELLO.matcher((String) c.next());
            assertTrue(m.matches());
            return new Member(c, Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)));
        }

        /** The next chat message this member receives, skipping none. */
        String nextMessage() throws InterruptedException {
            return (String) client.next();
        }
    }

    static String message(int worker, String name, String text) {
        return "{\"type\":\"message\",\"worker\":" + worker + ",\"name\":\"" + name + "\",\"text\":\"" + text + "\"}";
    }

    @Test
    void clientsOnDifferentWorkersAndABrowserSeeEachOthersMessages() throws Exception {
        Path chromium = Packages.need("chromium", "chromium");
        Path dir = TestFiles.dir("jcluster-chat");
        try (Cluster c = Cluster.start("--workers=2", "--app-jar=" + Cluster.CHAT_JAR)) {
            List<Long> pids = c.workerPids();
            // members until both workers hold one
            Map<Integer, Member> byWorker = new HashMap<>();
            List<Member> all = new ArrayList<>();
            for (int i = 0; byWorker.size() < 2 && i < 10; i++) {
                Member m = Member.join(c.port, "m" + i);
                assertTrue(pids.contains(m.pid()), "held by a worker of the cluster: " + m.pid());
                byWorker.putIfAbsent(m.worker(), m);
                all.add(m);
            }
            assertEquals(2, byWorker.size(), "members on both workers");
            List<Integer> workers = new ArrayList<>(byWorker.keySet());
            Member a = byWorker.get(workers.get(0));
            Member b = byWorker.get(workers.get(1));
            assertNotEquals(a.pid(), b.pid());
            // two messages, one from each worker's member: everyone gets both, in each sender's order
            a.client().socket.sendText("hi from a", true).join();
            String fromA = message(a.worker(), nameOf(all, a), "hi from a");
            for (Member m : all) {
                assertEquals(fromA, m.nextMessage(), "member on worker " + m.worker());
            }
            b.client().socket.sendText("hi from b", true).join();
            String fromB = message(b.worker(), nameOf(all, b), "hi from b");
            for (Member m : all) {
                assertEquals(fromB, m.nextMessage(), "member on worker " + m.worker());
            }

            // a browser joins: its page shows both (from its worker's history) and its own line reaches everyone
            String url = "http://127.0.0.1:" + c.port + "/?name=browser&say="
                    + URLEncoder.encode("hello from chromium", StandardCharsets.UTF_8);
            try (Browser browser = Browser.open(chromium, dir, url)) {
                String page = browser.await("document.body.innerText",
                        t -> t.contains("connected as browser") && t.contains("hi from a") && t.contains("hi from b"),
                        Duration.ofSeconds(20));
                Matcher status = Pattern.compile("connected as browser to worker (\\d+) \\(pid (\\d+)\\)").matcher(page);
                assertTrue(status.find(), page);
                int browserWorker = Integer.parseInt(status.group(1));
                for (Member m : all) {
                    assertEquals(message(browserWorker, "browser", "hello from chromium"), m.nextMessage(),
                            "member on worker " + m.worker());
                }
                // and what a member says shows in the page, whichever worker holds it
                a.client().socket.sendText("welcome, browser", true).join();
                browser.await("document.getElementById('log').innerText", t -> t.contains("welcome, browser"),
                        Duration.ofSeconds(10));
            }
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    private static String nameOf(List<Member> all, Member m) {
        return "m" + all.indexOf(m);
    }
}
