package jcluster.master.handoff;

/**
 * The listening socket as the arbiter steers it: {@link Handoffs} pauses it while no worker can take a connection
 * (the kernel backlog holds them meanwhile), and a shutdown closes it. {@link Acceptor} in the server; a fake in
 * unit tests.
 */
public interface Listener {
    void pause();

    void resume();

    boolean paused();

    /** host:port as users write it. */
    String localAddress();

    void close();

    /** The listening socket's fd, to pass to the new master of an upgrade. */
    int fd();
}
