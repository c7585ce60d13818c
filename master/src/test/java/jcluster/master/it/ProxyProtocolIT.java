package jcluster.master.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/** --proxy-protocol: v1 and v2 headers name the client for the app and the access log; others are refused. */
@Timeout(60)
class ProxyProtocolIT {
    static Path dir;
    static Path log;
    static Cluster trusting;

    @BeforeAll
    static void start() throws IOException {
        dir = TestFiles.dir("jcluster-proxy");
        log = dir.resolve("access.log");
        trusting = Cluster.start("--workers=1", "--proxy-protocol", "--access-log=" + log);
        trusting.expectErrors();
    }

    @AfterAll
    static void stop() {
        try {
            if (trusting != null) {
                trusting.close();
            }
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    static byte[] v2(byte[] source, byte[] destination, int sourcePort, int destinationPort) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        b.write(0x21); // version 2, PROXY
        b.write(source.length == 4 ? 0x11 : 0x21); // TCP over IPv4 or IPv6
        int length = 2 * source.length + 4;
        b.write(length >> 8);
        b.write(length & 0xff);
        b.writeBytes(source);
        b.writeBytes(destination);
        b.write(sourcePort >> 8);
        b.write(sourcePort & 0xff);
        b.write(destinationPort >> 8);
        b.write(destinationPort & 0xff);
        return b.toByteArray();
    }

    static String workerJson(Http h) throws IOException {
        h.send("GET /worker HTTP/1.1\r\nHost: x\r\n\r\n");
        Http.Response r = h.read(false);
        assertEquals(200, r.status());
        return r.text();
    }

    @Test
    void aV1HeaderNamesTheClientForTheAppAndTheAccessLog() throws IOException {
        try (Http h = new Http(trusting.port)) {
            h.send("PROXY TCP4 203.0.113.7 127.0.0.1 51234 8080\r\n");
            assertTrue(workerJson(h).contains("\"client\":\"203.0.113.7 51234\""));
            assertTrue(workerJson(h).contains("\"client\":\"203.0.113.7 51234\""), "for every request on it");
        }
        Cluster.await(() -> AccessLogIT.lines(log).stream().anyMatch(l -> l.startsWith("203.0.113.7 - - [")),
                Duration.ofSeconds(10), () -> AccessLogIT.lines(log).toString());
    }

    @Test
    void aV2HeaderNamesTheClientOverIpv4AndIpv6() throws IOException {
        try (Http h = new Http(trusting.port)) {
            h.send(v2(new byte[] {(byte) 198, 51, 100, 9}, new byte[] {127, 0, 0, 1}, 40000, 80));
            assertTrue(workerJson(h).contains("\"client\":\"198.51.100.9 40000\""));
        }
        byte[] v6 = new byte[16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[2] = 0x0d;
        v6[3] = (byte) 0xb8;
        v6[15] = 5;
        try (Http h = new Http(trusting.port)) {
            h.send(v2(v6, new byte[16], 443, 80));
            assertTrue(workerJson(h).contains("\"client\":\"2001:db8:0:0:0:0:0:5 443\""), "2001:db8::5");
        }
    }

    @Test
    void aV1UnknownHeaderKeepsThePeersAddress() throws IOException {
        try (Http h = new Http(trusting.port)) {
            h.send("PROXY UNKNOWN\r\n");
            assertTrue(workerJson(h).contains("\"client\":\"127.0.0.1 "));
        }
    }

    @Test
    void aConnectionWithoutTheHeaderIsRefusedWithAReason() throws IOException {
        try (Http h = new Http(trusting.port)) {
            h.send("GET /worker HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(h.closedByServer(), "no response, the connection closed");
        }
        trusting.awaitLog("refused a connection from 127.0.0.1 without a valid PROXY protocol header",
                Duration.ofSeconds(10));
        assertEquals(200, roundTripWithHeader(trusting.port), "the worker serves on");
    }

    static int roundTripWithHeader(int port) throws IOException {
        try (Http h = new Http(port)) {
            h.send("PROXY TCP4 192.0.2.1 127.0.0.1 1000 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
            return h.read(false).status();
        }
    }

    @Test
    void aSourceOutsideProxyFromIsRefusedBeforeItsHeaderIsRead() throws IOException {
        try (Cluster c = Cluster.start("--workers=1", "--proxy-protocol", "--proxy-from=10.0.0.0/8")) {
            c.expectErrors();
            try (Http h = new Http(c.port)) {
                h.send("PROXY TCP4 192.0.2.1 127.0.0.1 1000 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(h.closedByServer());
            }
            c.awaitLog("refused a connection from 127.0.0.1, which --proxy-from (10.0.0.0/8) does not trust",
                    Duration.ofSeconds(10));
        }
    }

    @Test
    void aBadProxyFromIsOneLineAndExit2() throws Exception {
        CliIT.assertOneLineError(CliIT.run("--proxy-protocol", "--proxy-from=10.0.0.0/8,lb.example"), 2,
                "--proxy-from", "'lb.example'");
    }

    @Test
    void theHeaderIsReadAsBytesNotText() throws IOException {
        // a v1 header split across writes still arrives whole
        try (Http h = new Http(trusting.port)) {
            h.send("PROXY TCP4 203.0.113.8 ");
            h.send("127.0.0.1 5 6\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(workerJson(h).contains("\"client\":\"203.0.113.8 5\""));
        }
    }
}
