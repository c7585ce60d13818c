package jcluster.worker.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The head scan in front of Netty's decoder: across reads, and never inside bodies. */
@Timeout(5)
class StrictRequestDecoderTest {

    private static List<HttpObject> decode(String... reads) {
        EmbeddedChannel ch = new EmbeddedChannel(new StrictRequestDecoder(8192, 8192));
        for (String r : reads) {
            ch.writeInbound(Unpooled.copiedBuffer(r, StandardCharsets.ISO_8859_1));
        }
        List<HttpObject> out = new ArrayList<>();
        Object o;
        while ((o = ch.readInbound()) != null) {
            out.add((HttpObject) o);
        }
        ch.finishAndReleaseAll();
        out.forEach(ReferenceCountUtil::release);
        return out;
    }

    private static long requests(List<HttpObject> objs) {
        return objs.stream().filter(o -> o instanceof HttpRequest).count();
    }

    private static boolean failed(List<HttpObject> objs) {
        return objs.stream().anyMatch(o -> o.decoderResult().isFailure());
    }

    @Test
    void aRequestWithoutBodyComesOutWholeAndOneWithABodyOrExpectInParts() {
        List<HttpObject> out = decode("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
                + "GET /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n");
        assertFalse(failed(out));
        assertEquals(3, requests(out));
        FullHttpRequest whole = assertInstanceOf(FullHttpRequest.class, out.get(0));
        assertEquals("/a", whole.uri());
        assertEquals("x", whole.headers().get("host"));
        assertEquals(0, whole.content().readableBytes());
        // the aggregator joins these, and answers the expectation
        assertFalse(out.get(1) instanceof FullHttpRequest);
        assertFalse(out.get(out.size() - 2) instanceof FullHttpRequest);
        assertEquals(LastHttpContent.EMPTY_LAST_CONTENT, out.get(out.size() - 1));
    }

    @Test
    void foldSplitAcrossReadsIsFound() {
        List<HttpObject> out = decode("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r", "\n", " folded\r\n\r\n");
        assertTrue(failed(out));
    }

    @Test
    void bodyBytesThatLookLikeAFoldAreLeftAlone() {
        String body = "a\r\n b\r\n\tc";
        List<HttpObject> out = decode("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                + "\r\n\r\n" + body.substring(0, 3), body.substring(3)
                + "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertFalse(failed(out));
        assertEquals(2, requests(out));
        int bodyBytes = out.stream().filter(o -> o instanceof HttpContent)
                .mapToInt(o -> ((HttpContent) o).content().readableBytes()).sum();
        assertEquals(body.length(), bodyBytes);
    }

    @Test
    void aFoldInTheSecondPipelinedRequestIsFound() {
        List<HttpObject> out = decode("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n");
        assertEquals(2, requests(out));
        assertFalse(out.get(0).decoderResult().isFailure());
        assertTrue(out.get(out.size() - 1).decoderResult().isFailure());
    }

    @Test
    void chunkedBodiesWithTrailersResetTheScan() {
        List<HttpObject> out = decode("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                "3\r\n \r\n\r\n0\r\nX-T: 1\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertFalse(failed(out));
        assertEquals(2, requests(out));
        assertEquals(2, out.stream().filter(o -> o instanceof LastHttpContent).count());
    }

    @Test
    void requestLineNeedsSingleSpaces() {
        assertTrue(failed(decode("GET  / HTTP/1.1\r\nHost: x\r\n\r\n")));
        assertTrue(failed(decode("GET /\tHTTP/1.1\r\nHost: x\r\n\r\n")));
        assertTrue(failed(decode("GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n")));
        assertFalse(failed(decode("GET /", " HTTP/1.1\r\nHost: x\r\n\r\n")));
    }

    /** The status the decoder's refusal carries, or 0 if it refused nothing; 400 for Netty's own failures. */
    private static int refusal(String... reads) {
        for (HttpObject o : decode(reads)) {
            if (o.decoderResult().isFailure()) {
                return o.decoderResult().cause() instanceof StrictRequestDecoder.Refusal r ? r.status() : 400;
            }
        }
        return 0;
    }

    private static String chunked(String body) {
        return "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body;
    }

    @Test
    void versions() {
        assertEquals(505, refusal("GET / HTTP/2.0\r\nHost: x\r\n\r\n"));
        assertTrue(failed(decode("GET / http/1.1\r\nHost: x\r\n\r\n")));
        HttpRequest r = (HttpRequest) decode("GET / HTTP/1.7\r\nHost: x\r\n\r\n").get(0);
        assertEquals("HTTP/1.1", r.protocolVersion().text());
    }

    @Test
    void eachPartOfAnOverlongRequestLineGetsItsOwnStatus() {
        assertEquals(414, refusal("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
        assertEquals(414, refusal("GET /" + "a".repeat(5000), "a".repeat(5000)), "found before the line ends");
        assertEquals(501, refusal("A".repeat(StrictRequestDecoder.MAX_METHOD + 1) + " / HTTP/1.1\r\n\r\n"));
        assertEquals(0, refusal("A".repeat(StrictRequestDecoder.MAX_METHOD) + " / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assertEquals(400, refusal("GET / HTTP/1.1" + "1".repeat(9000) + "\r\n\r\n"), "a version, not a long one");
        String exactly = "GET /" + "a".repeat(8192 - 15) + " HTTP/1.1\r\nHost: x\r\n\r\n";
        assertEquals(0, refusal(exactly), "a line of exactly the limit, CR included, is taken");
        assertEquals(414, refusal(exactly.replace("/a", "/aa")));
    }

    @Test
    void chunkExtensionsFollowTheGrammar() {
        for (String ok : new String[] {"5;name\r\nhello\r\n0\r\n\r\n", "5;a=b;c=\"d e\\\"\"\r\nhello\r\n0\r\n\r\n",
                "5 ; a = b\r\nhello\r\n0;last\r\n\r\n", "00005\r\nhello\r\n000\r\n\r\n"}) {
            assertEquals(0, refusal(chunked(ok)), ok);
        }
        for (String bad : new String[] {"5;\r\nhello\r\n0\r\n\r\n", "5;=v\r\nhello\r\n0\r\n\r\n",
                "5;a=\r\nhello\r\n0\r\n\r\n", "5;a=\"open\r\nhello\r\n0\r\n\r\n", "5 \r\nhello\r\n0\r\n\r\n",
                "5;a b\r\nhello\r\n0\r\n\r\n", "5x\r\nhello\r\n0\r\n\r\n", ";a\r\nhello\r\n0\r\n\r\n",
                "5\nhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\rX0\r\n\r\n",
                "10000000000000000\r\n", "0\r\nX: 1\r\n folded\r\n\r\n"}) {
            assertEquals(400, refusal(chunked(bad)), bad);
        }
        assertEquals(400, refusal(chunked("5;" + "a".repeat(StrictRequestDecoder.MAX_CHUNK_LINE) + "\r\n")),
                "an over-long extension is malformed, not a long URI");
    }

    @Test
    void chunkFramingIsFollowedAcrossReadsAndIntoTheNextRequest() {
        List<HttpObject> out = decode(chunked("5;a=\"x"), "y\"\r\nhel", "lo\r", "\n0\r\n\r", "\n",
                "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertFalse(failed(out));
        assertEquals(2, requests(out));
    }
}
