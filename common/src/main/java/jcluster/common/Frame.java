package jcluster.common;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One message of the handoff channel. On the wire: type (1 byte), payload length (2 bytes, big-endian), payload.
 * Payloads are fixed-size per type (see {@link MessageType}), so every field below sits at a constant offset.
 */
public record Frame(MessageType type, byte[] payload) {
    public static final int HEADER_LENGTH = 3;
    /** The length field's limit: two bytes. */
    public static final int MAX_PAYLOAD = 0xffff;
    /** The payload length of a type whose frames carry their own (an enum constant cannot name its own field). */
    static final int VARIABLE = -1;
    public static final int SECRET_LENGTH = 16;
    /** HELLO's fields: worker id (4), channel kind (1), secret. */
    private static final int HELLO_ID_AT = 0;
    private static final int HELLO_KIND_AT = 4;
    private static final int HELLO_SECRET_AT = 5;
    public static final int HELLO_LENGTH = HELLO_SECRET_AT + SECRET_LENGTH;
    /**
     * open connections (4) + in-flight requests (4) + requests served (8) + loop lag µs (8) + RSS bytes (8) + CPU time ns (8) + heap
     * after the last GC in percent of the maximum (4, -1 when unknown) + open WebSockets (4).
     */
    public static final int STATS_LENGTH = 4 + 4 + 8 + 8 + 8 + 8 + 4 + 4;

    public Frame {
        if (!type.fits(payload.length)) {
            throw new IllegalArgumentException(type + " carries " + type.lengths() + " bytes, not " + payload.length);
        }
    }

    /** Which of a worker's two sockets a HELLO opens, with its wire code. */
    public enum ChannelKind {
        /** frames both ways */
        CONTROL(1),
        /** connection fds, master → worker only */
        FDS(2);

        public final int code;

        ChannelKind(int code) {
            this.code = code;
        }

        /** The kind for a wire code, or null when the code names none. */
        public static ChannelKind ofCode(int code) {
            for (ChannelKind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            return null;
        }
    }

    public static Frame of(MessageType type) {
        return new Frame(type, new byte[0]);
    }

    public static Frame hello(int workerId, ChannelKind kind, byte[] secret) {
        if (secret.length != SECRET_LENGTH) {
            throw new IllegalArgumentException("secret must be " + SECRET_LENGTH + " bytes");
        }
        return new Frame(MessageType.HELLO,
                ByteBuffer.allocate(HELLO_LENGTH).putInt(HELLO_ID_AT, workerId).put(HELLO_KIND_AT, (byte) kind.code)
                        .put(HELLO_SECRET_AT, secret).array());
    }

    public static Frame ack(int count) {
        return new Frame(MessageType.ACK, ByteBuffer.allocate(4).putInt(count).array());
    }

    public static Frame stats(WorkerStats s) {
        return new Frame(MessageType.STATS, ByteBuffer.allocate(STATS_LENGTH)
                .putInt(s.openConnections()).putInt(s.inFlightRequests()).putLong(s.requestsServed())
                .putLong(s.loopLagMicros()).putLong(s.rssBytes()).putLong(s.cpuNanos()).putInt(s.heapAfterGcPercent())
                .putInt(s.webSockets()).array());
    }

    /** @param signal the number of the signal that made the worker drain */
    public static Frame leaving(int signal) {
        return new Frame(MessageType.LEAVING, new byte[] {(byte) signal});
    }

    public int leavingSignal() {
        return payload[0] & 0xff;
    }

    public int helloWorkerId() {
        return ByteBuffer.wrap(payload).getInt(HELLO_ID_AT);
    }

    /** The channel kind of a HELLO, or null when the byte names none. */
    public ChannelKind helloKind() {
        return ChannelKind.ofCode(payload[HELLO_KIND_AT]);
    }

    public byte[] helloSecret() {
        return Arrays.copyOfRange(payload, HELLO_SECRET_AT, HELLO_SECRET_AT + SECRET_LENGTH);
    }

    /** DROPPED's count. */
    public int droppedCount() {
        return ByteBuffer.wrap(payload).getInt();
    }

    public static Frame dropped(int count) {
        return new Frame(MessageType.DROPPED, ByteBuffer.allocate(4).putInt(count).array());
    }

    public int ackCount() {
        return ByteBuffer.wrap(payload).getInt(0);
    }

    public WorkerStats stats() {
        ByteBuffer b = ByteBuffer.wrap(payload);
        return new WorkerStats(b.getInt(), b.getInt(), b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getInt(),
                b.getInt());
    }

    @Override
    public String toString() {
        return type.name();
    }
}
