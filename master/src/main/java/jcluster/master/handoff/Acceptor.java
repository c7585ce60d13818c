package jcluster.master.handoff;

import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import jcluster.master.StartupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;

/**
 * The only listener: accepts on the master's loop and passes each connection's fd on, so the master never reads or
 * writes a client byte. Netty binds the listening socket; then the socket leaves Netty's channel machinery and is
 * watched as a bare fd ({@link EpollIoHandle}), so each connection costs one {@code accept4} and one small object,
 * not a channel built and thrown away (which cost four more system calls and a few kilobytes of garbage per
 * connection). Level-triggered: each wake-up takes at most {@link #BURST} connections, so the loop also serves the
 * workers' acknowledgements; {@link Sink#burstDone} marks the end of each burst so the handoffs are flushed together.
 */
public final class Acceptor implements Listener {
    private static final Logger log = LoggerFactory.getLogger(Acceptor.class);
    private static final long ACCEPT_ERROR_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Connections taken per wake-up at most. */
    static final int BURST = 64;
    private static final int EACCES = 13;
    private static final int EADDRINUSE = 98;
    private static final int EADDRNOTAVAIL = 99;
    /** After accept fails (out of fds, say), how long to leave the backlog alone instead of spinning on it. */
    static final long ERROR_BACKOFF_MILLIS = 100;

    interface Sink {
        /**
         * A new connection; the sink owns the fd from here. {@code address} is the client's as accept wrote it
         * (see {@link ClientKey#ofAccepted}), valid during the call only.
         */
        void accepted(FileDescriptor fd, byte[] address);

        void burstDone();
    }

    private final EpollServerSocketChannel server;
    private final EventLoop loop;
    private final Watcher watcher;
    private IoRegistration registration;
    /**
     * The owner asked to stop accepting (backpressure), or has not started yet: until the arbiter runs, what comes
     * waits in the kernel backlog, since nothing could take it.
     */
    private boolean paused = true;
    /** Accept failed a moment ago: waiting out {@link #ERROR_BACKOFF_MILLIS}. */
    private boolean backingOff;
    private boolean closed;

    private Acceptor(EpollServerSocketChannel server, EventLoop loop, Sink sink) {
        this.server = server;
        this.loop = loop;
        this.watcher = new Watcher((Socket) server.fd(), sink);
    }

    public static Acceptor bind(EventLoop loop, String host, int port, int backlog, Sink sink) {
        InetSocketAddress address;
        try {
            address = new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new StartupException("cannot resolve --host " + host + "; give an IP address or a known name");
        }
        // The socket's family follows the address, so 0.0.0.0 listens on IPv4 only, not on a dual-stack [::].
        EpollServerSocketChannel server = new EpollServerSocketChannel(
                address.getAddress() instanceof Inet6Address ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET);
        server.config().setBacklog(backlog).setReuseAddress(true);
        // Netty binds it and never accepts on it: reading is off, and the socket leaves its event loop below
        server.config().setAutoRead(false);
        loop.register(server).syncUninterruptibly();
        try {
            server.bind(address).sync();
        } catch (Exception e) {
            server.close().syncUninterruptibly();
            throw new StartupException(bindFailure("", host, port, "--host", "--port", e));
        }
        return watch(server, loop, sink);
    }

    /**
     * Takes a listening socket someone else bound (systemd's socket activation, the old master of an upgrade): the
     * fd is already a TCP socket listening and non-blocking (see {@link jcluster.master.systemd.SocketActivation#take});
     * it must listen on {@code port}, which is what --port then says.
     * @param whose names the socket's giver in errors, as in "systemd's socket"
     * @param fix where the port is set besides --port
     */
    public static Acceptor adopt(EventLoop loop, int fd, int port, Sink sink, String whose, String fix) {
        EpollServerSocketChannel server = new EpollServerSocketChannel(fd);
        server.config().setAutoRead(false);
        loop.register(server).syncUninterruptibly();
        int listening = server.localAddress().getPort();
        if (listening != port) {
            server.close().syncUninterruptibly();
            throw new StartupException(whose + " listens on port " + listening + " and --port is " + port
                    + "; make them agree (" + fix + ")");
        }
        return watch(server, loop, sink);
    }

    /** Takes the bound socket out of Netty's channel machinery: from here it is a bare fd on the loop. */
    private static Acceptor watch(EpollServerSocketChannel server, EventLoop loop, Sink sink) {
        Acceptor a = new Acceptor(server, loop, sink);
        try {
            server.deregister().sync();
            a.registration = ((IoEventLoop) loop).register(a.watcher).sync().getNow();
            a.watch();
        } catch (Exception e) {
            server.close().syncUninterruptibly();
            throw new StartupException("cannot watch the listening socket: " + e);
        }
        return a;
    }

    /**
     * One line for a failed bind of {@code host:port}, naming the fix: the flags are the ones that chose this
     * address. Netty reports some errors by errno alone ("bind(..) failed with error(-99)"), so both the errno and
     * the message are read.
     */
    public static String bindFailure(String what, String host, int port, String hostFlag, String portFlag, Throwable e) {
        String prefix = "cannot listen on " + what + host + ":" + port + ": ";
        int errno = e instanceof Errors.NativeIoException n ? Math.abs(n.expectedErr()) : 0;
        String m = String.valueOf(e.getMessage());
        if (errno == EADDRINUSE || m.contains("Address already in use")) {
            return prefix + "address already in use (another server holds the port; stop it or choose another "
                    + portFlag + ")";
        }
        if (errno == EACCES || m.contains("Permission denied")) {
            return prefix + "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a "
                    + portFlag + " of 1024 or more)";
        }
        if (errno == EADDRNOTAVAIL || m.contains("Cannot assign requested address")) {
            return prefix + "no such address on this machine (check " + hostFlag + ")";
        }
        return prefix + m;
    }

    /** host:port as users write it. */
    @Override
    public String localAddress() {
        InetSocketAddress a = server.localAddress();
        String host = a.getAddress().getHostAddress();
        return (a.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    @Override
    public int fd() {
        return server.fd().intValue();
    }

    /** Stop taking connections from the kernel backlog (it holds them meanwhile). */
    @Override
    public void pause() {
        paused = true;
        watch();
    }

    @Override
    public void resume() {
        paused = false;
        watch();
    }

    @Override
    public boolean paused() {
        return paused;
    }

    private void watch() {
        if (!closed) {
            // Not NONE to stop: Netty takes NONE as "remove the fd from epoll" and then fails the next change.
            // Edge-triggered interest in nothing keeps the registration and wakes no one.
            registration.submit(paused || backingOff ? EpollIoOps.EPOLLET : EpollIoOps.EPOLLIN);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        registration.cancel();
        // the channel still owns the fd: closing it closes the listening socket
        server.close();
    }

    /** The listening socket as a bare fd on the master's loop. */
    private final class Watcher implements EpollIoHandle {
        private final Socket socket;
        private final Sink sink;
        private final byte[] address = new byte[26];
        private long lastErrorLog = System.nanoTime() - ACCEPT_ERROR_LOG_INTERVAL_NANOS;

        Watcher(Socket socket, Sink sink) {
            this.socket = socket;
            this.sink = sink;
        }

        @Override
        public FileDescriptor fd() {
            return socket;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            int taken = 0;
            try {
                while (taken < BURST && !paused && !closed) {
                    int fd = socket.accept(address);
                    if (fd < 0) {
                        break;
                    }
                    taken++;
                    sink.accepted(new FileDescriptor(fd), address);
                }
            } catch (IOException e) {
                // EMFILE, ENFILE, ENOBUFS: the connection stays in the backlog; do not spin on it
                long now = System.nanoTime();
                if (now - lastErrorLog >= ACCEPT_ERROR_LOG_INTERVAL_NANOS) {
                    lastErrorLog = now;
                    log.error("accept failed: {}; retrying in {} ms", e.getMessage(), ERROR_BACKOFF_MILLIS);
                }
                backingOff = true;
                watch();
                loop.schedule(() -> {
                    backingOff = false;
                    watch();
                }, ERROR_BACKOFF_MILLIS, TimeUnit.MILLISECONDS);
            }
            if (taken > 0) {
                sink.burstDone();
            }
        }

        @Override
        public void close() {
            // the listening socket is closed through its channel, in Acceptor.close
        }
    }
}
