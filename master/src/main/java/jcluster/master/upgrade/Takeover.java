package jcluster.master.upgrade;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import jcluster.master.StartupException;
import jcluster.master.ops.LibC;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * A master upgrade, seen from the new master ({@link Upgrade} is the old one's side): started by the old master
 * with {@value Upgrade#FROM} naming it, this master takes the old one's listening socket over its control socket
 * instead of binding, keeps it paused while its own workers start, and once they are all READY asks the old one to
 * hand over: from its answer on, this master accepts, owns the control socket, and is systemd's main process.
 */
public final class Takeover {
    private static final Logger log = LoggerFactory.getLogger(Takeover.class);
    /** How long the old master has to answer on its control socket. */
    private static final long ANSWER_SECONDS = 10;

    private final long from;
    private final int firstWorkerId;
    private final Path controlSocket;

    private Takeover(long from, int firstWorkerId, Path controlSocket) {
        this.from = from;
        this.firstWorkerId = firstWorkerId;
        this.controlSocket = controlSocket;
    }

    /**
     * The upgrade this master was started for, or null for an ordinary start.
     * @param controlSocket where the old master's control socket is: this master's own runtime directory's
     * @throws StartupException the variable is set but names no running process
     */
    public static Takeover fromEnvironment(Map<String, String> env, Path controlSocket) {
        String v = env.get(Upgrade.FROM);
        if (v == null) {
            return null;
        }
        // the old master checks who asks (its peer's pid is the one it started): this only catches a stray variable
        if (!v.matches("\\d{1,10}") || !ProcessHandle.of(Long.parseLong(v)).map(ProcessHandle::isAlive).orElse(false)) {
            throw new StartupException(Upgrade.FROM + "=" + v + " is set, but only a master's upgrade sets it, for "
                    + "the master it starts, and pid " + v + " is not running; unset it to start a master");
        }
        String first = env.getOrDefault(Upgrade.FIRST_ID, "1");
        return new Takeover(Long.parseLong(v), first.matches("\\d{1,9}") ? Integer.parseInt(first) : 1,
                controlSocket);
    }

    /**
     * A shell starts an upgrade's new master in the background, so with SIGINT ignored, and the JVM leaves an
     * ignored SIGINT ignored: it is one of the master's signals, and its workers' (which inherit the disposition),
     * so its default is restored before anything traps a signal or starts a worker.
     */
    public void restoreInterrupt() {
        LibC.get().signal(LibC.SIGINT, LibC.SIG_DFL);
    }

    /** The id of this master's first worker: the old master's workers keep theirs. */
    public int firstWorkerId() {
        return firstWorkerId;
    }

    /** The pid of the master this one takes over from. */
    public long from() {
        return from;
    }

    /** The old master's listening socket, received over its control socket; blocks until then. */
    public int receiveListener(EventLoopGroup group) {
        CompletableFuture<Integer> fd = new CompletableFuture<>();
        Channel ch;
        try {
            ch = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                    .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof FileDescriptor d) {
                                fd.complete(d.intValue());
                            }
                        }

                        @Override
                        public void channelInactive(ChannelHandlerContext ctx) {
                            fd.completeExceptionally(new IOException("it closed the connection without passing it "
                                    + "(its log says why)"));
                        }
                    })
                    .connect(new DomainSocketAddress(controlSocket.toFile())).sync().channel();
        } catch (Exception e) {
            throw new StartupException("upgrade: cannot reach the old master (pid " + from + ") on " + controlSocket
                    + ": " + e.getMessage() + "; is --runtime-dir the same as the old master's?");
        }
        try {
            ch.writeAndFlush(Unpooled.copiedBuffer("listener\n", StandardCharsets.US_ASCII));
            int got = fd.get(ANSWER_SECONDS, TimeUnit.SECONDS);
            log.info("upgrade: took the listening socket from the old master (pid {})", from);
            return got;
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            throw new StartupException("upgrade: the old master (pid " + from + ") did not pass its listening "
                    + "socket: " + (e instanceof ExecutionException ? e.getCause().getMessage() : "no answer within "
                    + ANSWER_SECONDS + " s"));
        } finally {
            ch.close();
        }
    }

    /**
     * Asks the old master to hand over, on a thread of its own: {@code done} then runs on {@code loop} with null
     * (this master serves from now) or the reason it did not.
     */
    public void handOver(Executor loop, Consumer<String> done) {
        Thread t = new Thread(() -> {
            String why = ask();
            loop.execute(() -> done.accept(why));
        }, "master-takeover");
        t.setDaemon(true);
        t.start();
    }

    /** Sends {@code handover}; null once the old master said ok, else why not. */
    private String ask() {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            // a stuck old master: closing the channel ends the blocked read
            CompletableFuture.delayedExecutor(ANSWER_SECONDS, TimeUnit.SECONDS).execute(() -> {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // closed already
                }
            });
            ch.connect(UnixDomainSocketAddress.of(controlSocket));
            ch.write(ByteBuffer.wrap("handover\n".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer answer = ByteBuffer.allocate(512);
            while (ch.read(answer) >= 0 && answer.hasRemaining()) {
                // the old master closes after its one answer
            }
            String line = new String(answer.array(), 0, answer.position(), StandardCharsets.UTF_8).strip();
            return line.startsWith("ok") ? null : "the old master (pid " + from + ") answered: " + line;
        } catch (IOException e) {
            if (ProcessHandle.of(from).map(ProcessHandle::isAlive).orElse(false)) {
                return "cannot reach the old master (pid " + from + "): " + e.getMessage();
            }
            // gone meanwhile (it crashed, or was killed): nothing serves the port but this master now
            log.warn("upgrade: the old master (pid {}) is gone; taking over", from);
            return null;
        }
    }
}
