package jcluster.common;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(10)
class FrameCodecTest {

    private static Frame roundTrip(Frame f) {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameCodec());
        assertTrue(ch.writeOutbound(f));
        ByteBuf wire = ch.readOutbound();
        assertEquals(Frame.HEADER_LENGTH + f.type().payloadLength, wire.readableBytes());
        assertTrue(ch.writeInbound(wire));
        Frame back = ch.readInbound();
        ch.finishAndReleaseAll();
        return back;
    }

    @Test
    void everyTypeRoundTrips() {
        byte[] secret = new byte[Frame.SECRET_LENGTH];
        Arrays.fill(secret, (byte) 7);
        Frame hello = roundTrip(Frame.hello(42, Frame.ChannelKind.FDS, secret));
        assertEquals(MessageType.HELLO, hello.type());
        assertEquals(42, hello.helloWorkerId());
        assertEquals(Frame.ChannelKind.FDS, hello.helloKind());
        assertArrayEquals(secret, hello.helloSecret());

        assertEquals(123456, roundTrip(Frame.ack(123456)).ackCount());
        assertEquals("SIGTERM", Signals.name(roundTrip(Frame.leaving(Signals.number("TERM"))).leavingSignal()));
        assertEquals("SIGINT", Signals.name(Signals.number("INT")));
        assertEquals("signal 99", Signals.name(99));

        WorkerStats s = new WorkerStats(3, 2, 1L << 40, 250, 64L << 20, 123_456_789L, 42, 7);
        assertEquals(s, roundTrip(Frame.stats(s)).stats());

        for (MessageType t : new MessageType[] {MessageType.READY, MessageType.BYE, MessageType.DRAIN,
                MessageType.STOP}) {
            assertEquals(t, roundTrip(Frame.of(t)).type());
        }
    }

    /** The socket kind travels as its wire code, not as an enum position: a reordered enum cannot change it. */
    @Test
    void aHellosSocketKindIsItsWireCodeAndAnUnknownOneIsNone() {
        byte[] secret = new byte[Frame.SECRET_LENGTH];
        assertEquals(1, Frame.hello(1, Frame.ChannelKind.CONTROL, secret).payload()[4]);
        assertEquals(2, Frame.hello(1, Frame.ChannelKind.FDS, secret).payload()[4]);
        byte[] payload = Frame.hello(1, Frame.ChannelKind.FDS, secret).payload();
        for (byte k : new byte[] {0, 3, -1}) {
            payload[4] = k;
            assertEquals(null, new Frame(MessageType.HELLO, payload).helloKind(), "kind " + k);
        }
    }

    @Test
    void exitCodesAreDescribedAsTheShellSeesThem() {
        assertEquals("exited with code 4", ExitCodes.describe(ExitCodes.APP_LOAD_FAILED));
        assertEquals("was killed by signal 9", ExitCodes.describe(137));
        assertEquals("exited with code 128", ExitCodes.describe(128));
    }

    @Test
    void framesSplitAcrossReadsAndBatchedInOneRead() {
        ByteBuf wire = Unpooled.buffer();
        for (int i = 0; i < 3; i++) {
            wire.writeByte(MessageType.ACK.code).writeShort(4).writeInt(i);
        }
        EmbeddedChannel ch = new EmbeddedChannel(new FrameCodec());
        // one byte at a time, then the rest at once
        for (int i = 0; i < 5; i++) {
            ch.writeInbound(wire.readRetainedSlice(1));
        }
        assertNull(ch.readInbound());
        ch.writeInbound(wire.readRetainedSlice(2));
        assertEquals(0, ((Frame) ch.readInbound()).ackCount());
        ch.writeInbound(wire);
        assertEquals(1, ((Frame) ch.readInbound()).ackCount());
        assertEquals(2, ((Frame) ch.readInbound()).ackCount());
        assertFalse(ch.finish());
    }

    @Test
    void unknownTypeIsRejected() {
        ByteBuf in = Unpooled.buffer().writeByte(99).writeShort(0);
        CorruptedFrameException e = assertThrows(CorruptedFrameException.class, () -> FrameCodec.decode(in));
        assertTrue(e.getMessage().contains("unknown message type 99"));
    }

    @Test
    void lengthThatDisagreesWithTypeIsRejected() {
        ByteBuf in = Unpooled.buffer().writeByte(MessageType.ACK.code).writeShort(5).writeBytes(new byte[5]);
        assertThrows(CorruptedFrameException.class, () -> FrameCodec.decode(in));
        // and through the pipeline, as an exception the channel's owner sees
        EmbeddedChannel ch = new EmbeddedChannel(new FrameCodec());
        ByteBuf bad = Unpooled.buffer().writeByte(MessageType.READY.code).writeShort(1).writeByte(0);
        assertThrows(DecoderException.class, () -> ch.writeInbound(bad));
    }

    @Test
    void truncatedFrameWaitsForTheRest() {
        ByteBuf in = Unpooled.buffer().writeByte(MessageType.ACK.code).writeShort(4).writeShort(0);
        assertNull(FrameCodec.decode(in));
        assertEquals(0, in.readerIndex());
    }

    @Test
    void frameRefusesAPayloadOfTheWrongSize() {
        assertThrows(IllegalArgumentException.class, () -> new Frame(MessageType.ACK, new byte[3]));
    }

    @Test
    void workerOptionsRoundTripAndRejectUnknownArguments() {
        WorkerOptions o = new WorkerOptions(3, 2, java.nio.file.Path.of("/run/x/handoff.sock"), 30_000, 1, 1 << 20, 8192,
                8192, 5000, 10000, 30000, WorkerOptions.App.DEFAULT, 16, 64, null, 0, 0, WorkerOptions.Http.NONE,
                WorkerOptions.Identity.INHERITED, WorkerOptions.WarmUp.NONE);
        assertEquals(o, WorkerOptions.fromArgs(o.toArgs().toArray(new String[0])));
        WorkerOptions app = new WorkerOptions(3, 2, java.nio.file.Path.of("/run/x/handoff.sock"), 30_000, 1, 1 << 20, 8192,
                8192, 5000, 10000, 30000, new WorkerOptions.App(java.nio.file.Path.of("/srv/app.jar"), "com.example.App",
                java.nio.file.Path.of("/srv/www")), 4, 0, java.nio.file.Path.of("/run/x/claims-3"), 100, 60_000,
                new WorkerOptions.Http("/var/log/a b.log", "json", "10.0.0.0/8,::1", 6, 1024, 1 << 20, 30_000, 500),
                new WorkerOptions.Identity(65534, 65534, false, 65536), new WorkerOptions.WarmUp(5000, "/a?b=c&d"));
        assertEquals(app, WorkerOptions.fromArgs(app.toArgs().toArray(new String[0])));
        assertThrows(IllegalArgumentException.class, () -> WorkerOptions.fromArgs(new String[] {"--id=1", "--x=2"}));
    }
}
