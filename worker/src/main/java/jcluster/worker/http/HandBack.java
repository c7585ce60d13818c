package jcluster.worker.http;

import java.util.function.Consumer;

/**
 * Where a draining worker sends an idle keep-alive connection instead of closing it: the master, which gives it
 * to a worker that stays; the client never sees a close.
 */
public interface HandBack {
    /** Sends the connection's fd; {@code done} gets whether it went (the caller then closes its own copy). */
    void send(int fd, Consumer<Boolean> done);
}
