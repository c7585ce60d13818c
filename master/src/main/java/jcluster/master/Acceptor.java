package jcluster.master;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.FileDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;

/**
 * The only listener: accepts on the master's loop and passes each connection's fd on, without registering it with
 * any event loop, so the master never reads or writes a client byte. Netty's accept loop drains up to 16
 * connections per wake-up; {@link Sink#burstDone} marks the end of each burst so the handoffs can be flushed
 * together.
 */
final class Acceptor {
    private static final Logger log = LoggerFactory.getLogger(Acceptor.class);
    private static final long ACCEPT_ERROR_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    interface Sink {
        /** A new connection; the sink owns the fd from here. */
        void accepted(FileDescriptor fd);

        void burstDone();
    }

    private final EpollServerSocketChannel server;

    private Acceptor(EpollServerSocketChannel server) {
        this.server = server;
    }

    static Acceptor bind(EventLoop loop, String host, int port, int backlog, Sink sink) {
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
        server.config().setOption(ChannelOption.AUTO_READ, true);
        server.pipeline().addLast(new AcceptHandler(sink));
        loop.register(server).syncUninterruptibly();
        try {
            server.bind(address).sync();
        } catch (Exception e) {
            server.close().syncUninterruptibly();
            throw new StartupException(bindFailure(host, port, e));
        }
        return new Acceptor(server);
    }

    private static String bindFailure(String host, int port, Exception e) {
        String what = "cannot listen on " + host + ":" + port + ": ";
        String m = String.valueOf(e.getMessage());
        if (m.contains("Address already in use")) {
            return what + "address already in use (another server holds the port; stop it or choose another --port)";
        }
        if (m.contains("Permission denied")) {
            return what + "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; "
                    + "choose a --port of 1024 or more)";
        }
        if (m.contains("Cannot assign requested address")) {
            return what + "no such local address (check --host)";
        }
        return what + m;
    }

    /** host:port as users write it. */
    String localAddress() {
        InetSocketAddress a = server.localAddress();
        String host = a.getAddress().getHostAddress();
        return (a.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Stop taking connections from the kernel backlog (it holds them meanwhile). */
    void pause() {
        server.config().setAutoRead(false);
    }

    void resume() {
        server.config().setAutoRead(true);
    }

    boolean paused() {
        return !server.config().isAutoRead();
    }

    void close() {
        server.close();
    }

    private static final class AcceptHandler extends ChannelInboundHandlerAdapter {
        private final Sink sink;
        private long lastErrorLog = System.nanoTime() - ACCEPT_ERROR_LOG_INTERVAL_NANOS;

        AcceptHandler(Sink sink) {
            this.sink = sink;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            // Not passed on: the accepted channel is never registered, only its fd is used.
            sink.accepted(((EpollSocketChannel) msg).fd());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            sink.burstDone();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // accept() failures (EMFILE, ENFILE, ENOBUFS) repeat at every wake-up: log at most once a second
            long now = System.nanoTime();
            if (now - lastErrorLog >= ACCEPT_ERROR_LOG_INTERVAL_NANOS) {
                lastErrorLog = now;
                log.error("accept failed: {}", cause.toString());
            }
        }
    }
}
