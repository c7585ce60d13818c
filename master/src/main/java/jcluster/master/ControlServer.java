package jcluster.master;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * The control socket ({@code control.sock} in the runtime directory, mode 0600): one command line in, the answer
 * out, then the server closes. The peer must be the server's own user ({@code SO_PEERCRED}); anyone else is
 * logged and refused. Answers start with {@code ok} or {@code error: reason} on their first line.
 */
final class ControlServer {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    static final int MAX_COMMAND_LENGTH = 256;

    private final Channel server;

    private ControlServer(Channel server) {
        this.server = server;
    }

    /** @param commands runs a command line on the master's loop and returns the answer */
    static ControlServer bind(EventLoop loop, Path path, Function<String, String> commands) {
        return new ControlServer(PrivateSocket.bind(loop, path, "the control socket",
                ch -> ch.pipeline().addLast(new LineBasedFrameDecoder(MAX_COMMAND_LENGTH),
                        new StringDecoder(StandardCharsets.UTF_8), new StringEncoder(StandardCharsets.UTF_8),
                        new CommandHandler(commands))));
    }

    void close() {
        server.close().syncUninterruptibly();
    }

    private static final class CommandHandler extends SimpleChannelInboundHandler<String> {
        private final Function<String, String> commands;

        CommandHandler(Function<String, String> commands) {
            this.commands = commands;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            try {
                int uid = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials().uid();
                if (uid != RuntimeDir.currentUid()) {
                    log.warn("refused a control connection from uid {}", uid);
                    ctx.close();
                    return;
                }
            } catch (IOException e) {
                ctx.close();
                return;
            }
            ctx.fireChannelActive();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, String line) {
            String answer;
            try {
                answer = commands.apply(line.trim());
            } catch (RuntimeException e) {
                log.error("control command '{}' failed", line.trim(), e);
                answer = "error: " + e;
            }
            ctx.writeAndFlush(answer.endsWith("\n") ? answer : answer + "\n").addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.writeAndFlush("error: " + cause.getMessage() + "\n").addListener(ChannelFutureListener.CLOSE);
        }
    }
}
