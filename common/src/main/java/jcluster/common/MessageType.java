package jcluster.common;

/**
 * The messages of the handoff channel between the master and one worker, each with its wire code and the exact
 * payload length it must carry. A frame whose length disagrees with its type is malformed.
 */
public enum MessageType {
    /** worker → master, first frame on each of its two sockets: worker id, channel kind, secret. */
    HELLO(1, Frame.HELLO_LENGTH),
    /** worker → master: the HTTP stack is up; send connections. */
    READY(2, 0),
    /** worker → master: the next {@code count} connections sent on the fd socket were taken (in order). */
    ACK(3, 4),
    /** worker → master: heartbeat with load figures. */
    STATS(4, Frame.STATS_LENGTH),
    /** worker → master: drained, about to exit. */
    BYE(5, 0),
    /** master → worker: take no new work, finish in-flight requests, close idle connections, then exit. */
    DRAIN(6, 0),
    /** master → worker: exit now. */
    STOP(7, 0),
    /**
     * worker → master: draining on its own (it was sent a signal), so the master starts its replacement now and
     * takes its exit as expected: the signal number (1 byte).
     */
    LEAVING(8, 1),
    /**
     * master → worker: drain as DRAIN says, but hand each idle keep-alive connection back to the master on the fd
     * socket instead of closing it, for a worker that stays (a reload, a scale-down, a recycle).
     */
    HAND_BACK(9, 0),
    /** master → worker: open the access log's path again (it was renamed by a rotation). */
    REOPEN_LOGS(10, 0),
    /**
     * Both ways, an app's message ({@link Message}): worker → master, its target and its topic and bytes; master →
     * worker, its sender and the same. Of any length from {@link Message#MIN_PAYLOAD} to the frame's limit.
     */
    MESSAGE(11, Frame.VARIABLE),
    /** master → worker: recipients that dropped messages of this worker's, their queue full (4 bytes: how many). */
    DROPPED(12, 4),
    /**
     * worker → master: the app asked to retire this worker (or an Error escaped it): take it out of dispatch now,
     * start its replacement, and drain it once that one is READY.
     */
    RETIRE(13, 0);

    private static final MessageType[] BY_CODE = new MessageType[14];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    public final int code;
    /** The exact payload length, or {@link Frame#VARIABLE}. */
    public final int payloadLength;

    MessageType(int code, int payloadLength) {
        this.code = code;
        this.payloadLength = payloadLength;
    }

    /** Does a payload of {@code length} bytes fit this type? */
    public boolean fits(int length) {
        return payloadLength == Frame.VARIABLE ? length >= Message.MIN_PAYLOAD && length <= Frame.MAX_PAYLOAD
                : length == payloadLength;
    }

    /** The payload lengths that fit, as errors name them: {@code 4}, or {@code 4 to 65535}. */
    String lengths() {
        return payloadLength == Frame.VARIABLE ? Message.MIN_PAYLOAD + " to " + Frame.MAX_PAYLOAD
                : Integer.toString(payloadLength);
    }

    /** The type for a wire code, or null when the code is unknown. */
    public static MessageType ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
