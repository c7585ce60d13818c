package jcluster.master.handoff;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import jcluster.master.StartupException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Consumer;

/**
 * A Unix socket the master listens on, mode 0600 inside its 0700 runtime directory, served on the master's loop:
 * the handoff socket and the control socket. Accepted connections get their pipeline from {@code init} and are
 * registered on the same loop, so their handlers run on the arbiter's thread.
 */
public final class PrivateSocket {
    private PrivateSocket() {
    }

    /** @param what names the socket in the start-up error, as in "the handoff socket" */
    public static Channel bind(EventLoop loop, Path path, String what, Consumer<Channel> init) {
        EpollServerDomainSocketChannel server = new EpollServerDomainSocketChannel();
        server.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                Channel ch = (Channel) msg;
                init.accept(ch);
                loop.register(ch);
            }
        });
        loop.register(server).syncUninterruptibly();
        try {
            server.bind(new DomainSocketAddress(path.toFile())).sync();
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (Exception e) {
            server.close().syncUninterruptibly();
            throw new StartupException("cannot create " + what + " " + path + ": " + e.getMessage());
        }
        return server;
    }
}
