package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * Messages between workers through the master (the default app's /broadcast and /messages, master.jar send):
 * every live worker once, a target only, nothing for a worker started later, and a stalled worker costs the
 * master a bounded amount.
 */
@Timeout(120)
class MessagesIT {
    /** One keep-alive connection to each worker, by worker id. */
    static Map<Integer, Http> pinned(int port, int workers) throws IOException {
        Map<Integer, Http> byId = new HashMap<>();
        List<Http> spare = new ArrayList<>();
        for (int i = 0; i < 50 && byId.size() < workers; i++) {
            Http h = new Http(port);
            String json = h.get("/worker").text();
            int id = Integer.parseInt(json.replaceAll("(?s).*\"id\":(\\d+).*", "$1"));
            if (byId.putIfAbsent(id, h) != null) {
                spare.add(h);
            }
        }
        for (Http h : spare) {
            h.close();
        }
        assertEquals(workers, byId.size(), "a connection to each worker");
        return byId;
    }

    static void closeAll(Map<Integer, Http> conns) {
        conns.values().forEach(h -> {
            try {
                h.close();
            } catch (Exception e) {
                // closing
            }
        });
    }

    static int broadcast(Http h, String topic, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        h.send("POST /broadcast?topic=" + topic + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + b.length + "\r\n\r\n"
                + body);
        return h.read(false).status();
    }

    /** "from:body" of each message a worker received on the topic. */
    static List<String> received(Http h, String topic) throws IOException {
        String json = h.get("/messages?topic=" + topic).text();
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\\{\"from\":(\\d+),\"body\":\"([^\"\\\\]*+)\"}").matcher(json);
        while (m.find()) {
            out.add(m.group(1) + ":" + m.group(2));
        }
        return out;
    }

    static void awaitReceived(Http h, String topic, List<String> expected) {
        List<String>[] last = new List[] {List.of()};
        Cluster.await(() -> {
            try {
                last[0] = received(h, topic);
                return last[0].size() >= expected.size();
            } catch (IOException e) {
                return false;
            }
        }, Duration.ofSeconds(10), () -> "expected " + expected + ", got " + last[0]);
        assertEquals(expected, last[0]);
    }

    @Test
    void aBroadcastReachesEveryLiveWorkerOnceAndASendOnlyItsTarget() throws Exception {
        try (Cluster c = Cluster.start("--workers=3")) {
            Map<Integer, Http> conns = pinned(c.port, 3);
            try {
                List<Integer> ids = new ArrayList<>(conns.keySet());
                int from = ids.get(0);
                assertEquals(202, broadcast(conns.get(from), "news", "first"));
                assertEquals(202, broadcast(conns.get(from), "news", "second"));
                for (int id : ids) {
                    awaitReceived(conns.get(id), "news", List.of(from + ":first", from + ":second"));
                }
                int target = ids.get(1);
                CliIT.Result one = CliIT.run("send", "--worker", String.valueOf(target), "news", "to one",
                        "--runtime-dir=" + c.runtimeDir);
                assertEquals(0, one.code(), one.err());
                assertTrue(one.out().contains("queued for 1 worker(s)"), one.out());
                CliIT.Result all = CliIT.run("send", "--all", "news", "to all", "--runtime-dir=" + c.runtimeDir);
                assertEquals(0, all.code(), all.err());
                for (int id : ids) {
                    List<String> expected = new ArrayList<>(List.of(from + ":first", from + ":second"));
                    if (id == target) {
                        expected.add("0:to one");
                    }
                    expected.add("0:to all");
                    awaitReceived(conns.get(id), "news", expected);
                }
                assertEquals(List.of(), received(conns.get(from), "other"), "topics are apart");
                CliIT.assertOneLineError(CliIT.run("send", "--worker", "99", "news", "x",
                        "--runtime-dir=" + c.runtimeDir), 1, "no live worker 99");
                String status = c.status();
                assertEquals(3 + 3 + 1 + 3, Cluster.field(status, "messagesRouted"));
                assertEquals(0, Cluster.field(status, "messagesDropped"));
            } finally {
                closeAll(conns);
            }
        }
    }

    @Test
    void aWorkerStartedLaterSeesNothingSentBefore() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            Map<Integer, Http> before = pinned(c.port, 2);
            try {
                int from = before.keySet().iterator().next();
                assertEquals(202, broadcast(before.get(from), "early", "before the third"));
                for (Http h : before.values()) {
                    awaitReceived(h, "early", List.of(from + ":before the third"));
                }
                assertEquals(0, CliIT.run("scale", "3", "--runtime-dir=" + c.runtimeDir).code());
                c.awaitReadyWorkers(3, Duration.ofSeconds(30));
                Map<Integer, Http> after = pinned(c.port, 3);
                try {
                    int newest = after.keySet().stream().mapToInt(Integer::intValue).max().orElseThrow();
                    assertFalse(before.containsKey(newest));
                    assertEquals(List.of(), received(after.get(newest), "early"));
                    assertEquals(202, broadcast(before.get(from), "early", "after"));
                    awaitReceived(after.get(newest), "early", List.of(from + ":after"));
                } finally {
                    closeAll(after);
                }
            } finally {
                closeAll(before);
            }
        }
    }

    /**
     * A stopped worker reads nothing: the master holds at most 1 MiB for it and drops the rest, counted; with a 64 MiB
     * heap (and as much direct memory) an unbounded queue of what is sent here, 60 MB, would not fit.
     */
    @Test
    void aStalledWorkerCostsTheMasterABoundedAmountAndMissesWhatIsDropped() throws Exception {
        try (Cluster c = Cluster.startWithJvmOptions(List.of("-Xmx64m"), "--workers=3")) {
            Map<Integer, Http> conns = pinned(c.port, 3);
            try {
                List<Integer> ids = new ArrayList<>(conns.keySet());
                int from = ids.get(0);
                int stalled = ids.get(2);
                long stalledPid = Long.parseLong(conns.get(stalled).get("/worker").text()
                        .replaceAll("(?s).*\"pid\":(\\d+).*", "$1"));
                long rssBefore = rssKib(c.pid());
                Cluster.freeze(stalledPid);
                String body = "x".repeat(30 * 1024);
                int sent = 2000;
                int notSent = 0;
                for (int i = 0; i < sent; i++) {
                    int status = broadcast(conns.get(from), "bulk", body);
                    assertTrue(status == 202 || status == 503, "status " + status);
                    if (status == 503) {
                        notSent++;
                    }
                }
                long rssAfter = rssKib(c.pid());
                Cluster.kill("CONT", stalledPid);
                assertTrue(rssAfter - rssBefore < 40 * 1024, "the master grew by " + (rssAfter - rssBefore)
                        + " KiB for 60 MB sent to a stalled worker");
                assertTrue(notSent < sent / 2, notSent + " of " + sent + " not even sent");
                String status = c.awaitStatus(s -> Cluster.field(s, "messagesDropped") > 0, Duration.ofSeconds(10),
                        "drops counted");
                long dropped = Cluster.field(status, "messagesDropped");
                System.out.println("stalled worker: master RSS " + rssBefore + " -> " + rssAfter + " KiB over "
                        + (sent - notSent) + " broadcasts of 30 KiB (" + notSent + " not sent), " + dropped
                        + " deliveries dropped");
                assertTrue(dropped > (sent - notSent) / 2, dropped + " dropped for the stalled worker");
                // once it reads again it gets what the master held for it, not what was dropped
                Cluster.await(() -> {
                    try {
                        return !received(conns.get(stalled), "bulk").isEmpty();
                    } catch (IOException e) {
                        return false;
                    }
                }, Duration.ofSeconds(20), () -> "the stalled worker got nothing after it resumed");
                long deliveries = 3L * (sent - notSent);
                c.awaitStatus(s -> Cluster.field(s, "messagesDropped") + Cluster.field(s, "messagesRouted")
                        == deliveries, Duration.ofSeconds(10), "every delivery either routed or dropped, "
                        + deliveries + " in all");
            } finally {
                closeAll(conns);
            }
        }
    }

    static long rssKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }
}
