package jcluster.common;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * An app's message between workers, as a MESSAGE frame carries it: {@code peer} (4 bytes: worker → master, the
 * target, {@link #OTHERS}, {@link #ALL} or a worker id; master → worker, the sender's id, {@link #FROM_MASTER} for
 * the control socket's {@code send}), the topic (1 byte of length, then at most {@link #MAX_TOPIC} bytes of UTF-8,
 * at least one), then the data, at most {@link #MAX_DATA} bytes. The master reads the peer and never the rest.
 */
public record Message(int peer, String topic, byte[] data) {
    /** To every other live worker. */
    public static final int OTHERS = -1;
    /** To every live worker, the sender too. */
    public static final int ALL = -2;
    /** The sender of a message the control socket's {@code send} made. */
    public static final int FROM_MASTER = 0;
    public static final int MAX_TOPIC = 255;
    /** What a frame's two-byte length leaves for the data, rounded down: 60 KiB. */
    public static final int MAX_DATA = 60 * 1024;
    static final int MIN_PAYLOAD = 4 + 1 + 1;

    public Message {
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        if (t.length == 0 || t.length > MAX_TOPIC) {
            throw new IllegalArgumentException("a topic is 1 to " + MAX_TOPIC + " bytes of UTF-8, not " + t.length);
        }
        if (data.length > MAX_DATA) {
            throw new IllegalArgumentException("a message is at most " + MAX_DATA + " bytes (60 KiB), not "
                    + data.length);
        }
    }

    public Frame frame() {
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        return new Frame(MessageType.MESSAGE, ByteBuffer.allocate(4 + 1 + t.length + data.length).putInt(peer)
                .put((byte) t.length).put(t).put(data).array());
    }

    /** The peer alone, without reading the rest: what the master routes by. */
    public static int peerOf(Frame f) {
        return ByteBuffer.wrap(f.payload()).getInt();
    }

    /** The same frame with another peer: the master's rewrite of target into sender, the rest untouched. */
    public static Frame withPeer(Frame f, int peer) {
        byte[] p = f.payload().clone();
        ByteBuffer.wrap(p).putInt(0, peer);
        return new Frame(MessageType.MESSAGE, p);
    }

    /** @throws IllegalArgumentException for a malformed one */
    public static Message of(Frame f) {
        byte[] p = f.payload();
        int topicLength = p[4] & 0xff;
        if (topicLength == 0 || 5 + topicLength > p.length) {
            throw new IllegalArgumentException("a MESSAGE with a topic of " + topicLength + " bytes in "
                    + p.length);
        }
        byte[] data = new byte[p.length - 5 - topicLength];
        System.arraycopy(p, 5 + topicLength, data, 0, data.length);
        return new Message(ByteBuffer.wrap(p).getInt(), new String(p, 5, topicLength, StandardCharsets.UTF_8), data);
    }
}
