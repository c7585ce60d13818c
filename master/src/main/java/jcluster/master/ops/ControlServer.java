package jcluster.master.ops;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.PeerCredentials;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.ReadTimeoutHandler;
import jcluster.master.handoff.PrivateSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The control socket ({@code control.sock} in the runtime directory, mode 0600): one command line in, the answer
 * out, then the server closes. The peer must be the server's own user or root ({@code SO_PEERCRED}; the file's mode
 * keeps everyone else from connecting at all, and root can reach the master's processes anyway); anyone else (a
 * process with CAP_DAC_OVERRIDE) is logged and told it was refused. Answers start with {@code ok},
 * {@code error: reason} or {@code usage: reason} (a malformed command) on their first line.
 */
public final class ControlServer {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    /** Room for an upgrade's new flags. */
    static final int MAX_COMMAND_LENGTH = 8192;
    private static final int ROOT = 0;
    /** A connection that sends no command line for this long is closed. */
    private static final long COMMAND_TIMEOUT_SECONDS = 10;

    private final Channel server;

    private ControlServer(Channel server) {
        this.server = server;
    }

    /** What the commands do; on the master's loop. */
    public interface Commands {
        /** The answer to a command line from the process {@code peer}: at once, or later (reload --wait). */
        CompletableFuture<String> answer(String line, long peer);

        /** The listening socket, for the new master of an upgrade; null (and a logged reason) for any other peer. */
        FileDescriptor listener(long peer);
    }

    public static ControlServer bind(EventLoop loop, Path path, Commands commands) {
        return new ControlServer(PrivateSocket.bind(loop, path, "the control socket",
                ch -> ch.pipeline().addLast(new ReadTimeoutHandler(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS),
                        new LineBasedFrameDecoder(MAX_COMMAND_LENGTH), new StringDecoder(StandardCharsets.UTF_8),
                        new StringEncoder(StandardCharsets.UTF_8), new CommandHandler(commands))));
    }

    /** Closes the socket and removes its file. */
    public void close() {
        server.close().syncUninterruptibly();
    }

    private static final class CommandHandler extends SimpleChannelInboundHandler<String> {
        private final Commands commands;
        /** Why this peer may not command the master, or null. */
        private String refusal;
        private long peer;

        CommandHandler(Commands commands) {
            this.commands = commands;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            try {
                PeerCredentials credentials = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials();
                int uid = credentials.uid();
                peer = credentials.pid();
                int own = RuntimeDir.currentUid();
                if (uid != own && uid != ROOT) {
                    log.warn("refused a control connection from uid {}", uid);
                    refusal = "error: refused by the master (pid " + ProcessHandle.current().pid() + "): uid " + uid
                            + " is neither the server's user (uid " + own + ") nor root";
                }
            } catch (IOException e) {
                ctx.close();
                return;
            }
            ctx.fireChannelActive();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, String line) {
            // answered only once its line is read: closing on a peer's unread data resets the connection, and the
            // peer would read the reset, not the refusal
            String answer = refusal;
            if (answer == null && line.trim().equals("listener")) {
                FileDescriptor fd = commands.listener(peer);
                // passed with SCM_RIGHTS; the master keeps its own copy
                (fd != null ? ctx.writeAndFlush(fd) : ctx.newSucceededFuture()).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            if (answer != null) {
                reply(ctx, answer);
                return;
            }
            CompletableFuture<String> later;
            try {
                later = commands.answer(line.trim(), peer);
            } catch (RuntimeException e) {
                log.error("control command '{}' failed", line.trim(), e);
                reply(ctx, "error: " + e);
                return;
            }
            if (!later.isDone()) {
                // the command was read: the peer now waits as long as the answer takes
                ctx.pipeline().remove(ReadTimeoutHandler.class);
            }
            later.whenComplete((a, e) -> reply(ctx, e == null ? a : "error: " + e));
        }

        private static void reply(ChannelHandlerContext ctx, String answer) {
            ctx.writeAndFlush(answer.endsWith("\n") ? answer : answer + "\n").addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            String why = cause instanceof ReadTimeoutException ? "no command within " + COMMAND_TIMEOUT_SECONDS + " s"
                    : cause instanceof TooLongFrameException ? "a command line over " + MAX_COMMAND_LENGTH + " bytes"
                    : String.valueOf(cause.getMessage());
            ctx.writeAndFlush("usage: " + why + "\n").addListener(ChannelFutureListener.CLOSE);
        }
    }
}
