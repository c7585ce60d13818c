package jcluster.app;

import java.net.InetSocketAddress;

/**
 * One open WebSocket (RFC 6455), made when a handler answers a request with {@link Response#webSocket}. The server
 * checks the handshake, unmasks and reassembles frames, checks text is UTF-8, answers pings, pings an idle client
 * and closes it when it stays silent (--ws-idle-timeout), and closes with 1009 a frame or message larger than
 * --max-ws-frame. On a drain (reload, scale-down, shutdown) each WebSocket is sent close 1001 "going away" after
 * --ws-drain-grace, so its client reconnects to a worker that stays.
 *
 * <p>Sending is safe from any thread. Check {@code Origin} in the handler before upgrading if the socket acts for
 * a logged-in user: browsers send cookies on cross-site WebSocket requests.
 */
public interface WebSocket {
    /** Close codes of RFC 6455 §7.4.1 that apps use. */
    int NORMAL = 1000;
    int GOING_AWAY = 1001;
    int POLICY_VIOLATION = 1008;
    int TOO_BIG = 1009;
    int INTERNAL_ERROR = 1011;

    /**
     * What happens on a WebSocket, called on the connection's event loop, one call at a time, in order: do nothing
     * there that blocks. A listener that throws closes its socket with 1011.
     */
    interface Listener {
        /** The handshake is done: the socket can send. */
        default void onOpen(WebSocket socket) {
        }

        /** A whole text message, however many frames it came in. */
        default void onText(WebSocket socket, String text) {
        }

        /** A whole binary message. */
        default void onBinary(WebSocket socket, byte[] data) {
        }

        /**
         * The socket is closed, once: {@code code} is the one the client's close frame gave, 1005 if it gave none,
         * or 1006 if the connection ended without one.
         */
        default void onClose(WebSocket socket, int code, String reason) {
        }
    }

    /**
     * Sends a text message.
     * @return false if it was not sent: the socket is closed or closing, or the client reads too slowly and more
     *         than 1 MiB waits for it already
     */
    boolean sendText(String text);

    /** Sends a binary message; false as {@link #sendText} says. */
    boolean sendBinary(byte[] data);

    /** Starts the closing handshake: the client's close frame, or a second, ends the connection. */
    void close(int code, String reason);

    boolean isOpen();

    /** The path of the request that opened it. */
    String path();

    /** The client's address, as {@link Request#remoteAddress} says. */
    InetSocketAddress remoteAddress();
}
