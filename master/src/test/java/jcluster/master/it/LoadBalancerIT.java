package jcluster.master.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Several hosts behind a real load balancer, as README's "Outgrowing one machine" says: Debian's HAProxy with the
 * shipped {@code dist/haproxy/haproxy.cfg} (its addresses swapped for loopback ones) in front of two masters, each
 * with --proxy-protocol and /readyz as HAProxy's check. Under a bounded wrk load through HAProxy, one master is
 * reloaded, then stopped gracefully, then started again: wrk sees no failed request, and both access logs name the
 * client, which only the PROXY header can tell them: HAProxy connects to them from 127.0.0.3, wrk from 127.0.0.1.
 */
@Timeout(180)
class LoadBalancerIT {
    static final Path CONFIG = Path.of("../dist/haproxy/haproxy.cfg").toAbsolutePath().normalize();
    static final String HAPROXY_SOURCE = "127.0.0.3";
    static final Duration UP = Duration.ofSeconds(30);

    Path dir;
    Process haproxy;
    final List<Cluster> clusters = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        dir = TestFiles.dir("jcluster-lb");
    }

    @AfterEach
    void tearDown() {
        try {
            if (haproxy != null) {
                haproxy.destroyForcibly();
                haproxy.onExit().orTimeout(10, TimeUnit.SECONDS).join();
            }
        } finally {
            clusters.forEach(Cluster::close);
            TestFiles.deleteTree(dir);
        }
    }

    Cluster start(int port, int admin, Path runtime, Path accessLog) throws IOException {
        Cluster c = Cluster.startAt(port, runtime, "--workers=2", "--admin-port=" + admin, "--proxy-protocol",
                "--proxy-from=" + HAPROXY_SOURCE, "--drain-delay=3s", "--access-log=" + accessLog);
        clusters.add(c);
        return c;
    }

    /** HAProxy's view of a server: UP or DOWN, from its stats socket. */
    String serverState(Path stats, String server) throws IOException, InterruptedException {
        String out;
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(stats))) {
            ch.write(java.nio.ByteBuffer.wrap("show servers state\n".getBytes(StandardCharsets.US_ASCII)));
            out = new String(java.nio.channels.Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
        }
        for (String line : out.lines().toList()) {
            String[] f = line.split(" ");
            // be_id be_name srv_id srv_name srv_addr srv_op_state ...: 2 is running, 0 stopped
            if (f.length > 5 && f[3].equals(server)) {
                return f[5].equals("2") ? "UP" : "DOWN";
            }
        }
        return "unknown: " + out;
    }

    void awaitServer(Path stats, String server, String state) {
        String[] last = {""};
        Cluster.await(() -> {
            try {
                last[0] = serverState(stats, server);
            } catch (IOException | InterruptedException e) {
                last[0] = e.toString();
            }
            return last[0].equals(state);
        }, UP, () -> server + " not " + state + " but " + last[0] + "; haproxy:\n" + haproxyLog());
    }

    String haproxyLog() {
        try {
            return Files.readString(dir.resolve("haproxy.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void aReloadAStopAndAStartOfOneHostFailNoRequestThroughHaproxy() throws Exception {
        Path haproxyBin = Packages.need("haproxy", "haproxy");
        Path wrk = Packages.need("wrk", "wrk");
        int front = Cluster.freePort();
        int portA = Cluster.freePort();
        int portB = Cluster.freePort();
        int adminA = Cluster.freePort();
        int adminB = Cluster.freePort();
        Path logA = dir.resolve("a-access.log");
        Path logB = dir.resolve("b-access.log");
        Path runA = dir.resolve("run-a");
        Cluster a = start(portA, adminA, runA, logA);
        start(portB, adminB, dir.resolve("run-b"), logB);

        Path stats = dir.resolve("haproxy.sock");
        String cfg = Files.readString(CONFIG)
                .replace("    bind :80", "    bind 127.0.0.1:" + front)
                .replace("\nglobal\n", "\nglobal\n    stats socket " + stats + " mode 600 level admin\n")
                .replace("default-server send-proxy-v2 check port 9090",
                        "default-server source " + HAPROXY_SOURCE + " send-proxy-v2 check")
                .replace("server web1 10.0.0.11:8080", "server web1 127.0.0.1:" + portA + " port " + adminA)
                .replace("server web2 10.0.0.12:8080", "server web2 127.0.0.1:" + portB + " port " + adminB);
        assertTrue(cfg.lines().filter(l -> !l.strip().startsWith("#")).noneMatch(l -> l.contains("10.0.0.")),
                "every address of the example swapped:\n" + cfg);
        Path cfgFile = dir.resolve("haproxy.cfg");
        Files.writeString(cfgFile, cfg);
        Path haproxyLog = dir.resolve("haproxy.log");
        Files.deleteIfExists(haproxyLog);
        haproxy = new ProcessBuilder(haproxyBin.toString(), "-db", "-f", cfgFile.toString())
                .redirectErrorStream(true).redirectOutput(haproxyLog.toFile()).start();
        awaitServer(stats, "web1", "UP");
        awaitServer(stats, "web2", "UP");

        Path wrkOut = dir.resolve("wrk.txt");
        // wrk for longer than the steps take; stopped (SIGINT, on which it reports) once they are done
        Process load = new ProcessBuilder(wrk.toString(), "-t1", "-c16", "-d120s", "--latency",
                "http://127.0.0.1:" + front + "/").redirectErrorStream(true).redirectOutput(wrkOut.toFile()).start();
        try {
            Thread.sleep(1000);
            // a rolling reload: HAProxy's check stays UP throughout
            a.signal("HUP");
            a.awaitReloadComplete(2, Duration.ofSeconds(60));
            // a graceful stop: /readyz turns 503, HAProxy marks it down within the drain delay, then it drains
            a.signal("TERM");
            awaitServer(stats, "web1", "DOWN");
            assertTrue(a.process.waitFor(60, TimeUnit.SECONDS), "the master stopped");
            assertEquals(0, a.process.exitValue(), "a clean stop:\n" + a.logText());
            // started again on the same port: back in rotation once its checks pass, and serving under the load
            start(portA, adminA, runA, logA);
            awaitServer(stats, "web1", "UP");
            Thread.sleep(1000);
            Cluster.kill("INT", load.pid());
            assertTrue(load.waitFor(30, TimeUnit.SECONDS), "wrk ends");
        } finally {
            load.destroyForcibly();
        }
        String report = Files.readString(wrkOut);
        System.out.println("wrk through HAProxy, one host reloaded, stopped and started again:\n" + report);
        Matcher served = Pattern.compile("(\\d+) requests in").matcher(report);
        assertTrue(served.find(), report);
        assertTrue(Long.parseLong(served.group(1)) > 1000, "wrk got through:\n" + report);
        assertFalse(report.contains("Socket errors"), "no connect, read, write or timeout error:\n" + report
                + "\nhaproxy:\n" + Files.readString(haproxyLog));
        assertFalse(report.contains("Non-2xx or 3xx responses"), "no failed request:\n" + report
                + "\nhaproxy:\n" + Files.readString(haproxyLog));
        for (Path log : List.of(logA, logB)) {
            List<String> lines = Files.readAllLines(log);
            assertFalse(lines.isEmpty(), log + " is empty");
            assertTrue(lines.stream().allMatch(l -> l.startsWith("127.0.0.1 - - [")),
                    "the client's address, not HAProxy's (" + HAPROXY_SOURCE + "): " + lines.get(0));
        }
    }
}
