package jcluster.master.handoff;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.PeerCredentials;
import io.netty.util.concurrent.ScheduledFuture;
import jcluster.common.Frame;
import jcluster.common.FrameCodec;
import jcluster.common.MessageType;
import jcluster.master.ops.RuntimeDir;
import jcluster.master.supervisor.WorkerProcess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;

/**
 * The Unix socket workers connect to, twice each: once for frames, once for connection fds. A connection counts
 * only after its first frame is a HELLO naming a worker the master started, with that worker's secret, from that
 * worker's pid and the server's uid ({@code SO_PEERCRED}); anything else is logged and closed. The socket lives in
 * the 0700 runtime directory and is itself 0600.
 */
public final class HandoffServer {
    private static final Logger log = LoggerFactory.getLogger(HandoffServer.class);
    private static final long HELLO_TIMEOUT_SECONDS = 5;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What the master provides; every call is on the master's loop. */
    public interface Workers {
        /** The live worker with this id, or null. */
        WorkerProcess byId(int id);

        void attached(WorkerProcess w, Frame.ChannelKind kind, Channel ch);

        void frame(WorkerProcess w, Frame f);

        void broken(WorkerProcess w, String why);

        /** A draining worker handed back an idle connection on its fd socket. */
        void handedBack(WorkerProcess w, FileDescriptor fd);
    }

    private final Channel server;

    private HandoffServer(Channel server) {
        this.server = server;
    }

    /** A worker's secret, for its environment: the HELLO of each of its sockets must carry it. */
    public static byte[] newSecret() {
        byte[] secret = new byte[Frame.SECRET_LENGTH];
        RANDOM.nextBytes(secret);
        return secret;
    }

    public static HandoffServer bind(EventLoop loop, Path path, Workers workers) {
        return new HandoffServer(PrivateSocket.bind(loop, path, "the handoff socket",
                ch -> ch.pipeline().addLast(new FrameCodec(), new Authenticator(workers))));
    }

    public void close() {
        server.close().syncUninterruptibly();
    }

    /** Waits for HELLO, then puts the worker's handler in its place. */
    private static final class Authenticator extends SimpleChannelInboundHandler<Frame> {
        private final Workers workers;
        private ScheduledFuture<?> timeout;

        Authenticator(Workers workers) {
            this.workers = workers;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            timeout = ctx.executor().schedule(() -> reject(ctx, "no HELLO within " + HELLO_TIMEOUT_SECONDS + " s"),
                    HELLO_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            ctx.fireChannelActive();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame f) {
            timeout.cancel(false);
            if (f.type() != MessageType.HELLO) {
                reject(ctx, "first frame was " + f.type() + ", not HELLO");
                return;
            }
            WorkerProcess w = workers.byId(f.helloWorkerId());
            if (w == null) {
                reject(ctx, "HELLO from unknown worker " + f.helloWorkerId());
                return;
            }
            if (!MessageDigest.isEqual(w.secret, f.helloSecret())) {
                reject(ctx, "HELLO with a wrong secret for " + w);
                return;
            }
            PeerCredentials peer;
            try {
                peer = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials();
            } catch (IOException e) {
                reject(ctx, "cannot read the peer's credentials: " + e.getMessage());
                return;
            }
            if (peer.pid() != w.pid() || peer.uid() != RuntimeDir.currentUid()) {
                reject(ctx, "HELLO for " + w + " came from pid " + peer.pid() + ", uid " + peer.uid());
                return;
            }
            Frame.ChannelKind kind = f.helloKind();
            if (kind == null) {
                reject(ctx, "HELLO with an unknown channel kind");
                return;
            }
            ctx.pipeline().replace(this, "worker", new WorkerChannelHandler(workers, w, kind));
            if (kind == Frame.ChannelKind.FDS) {
                // from here on the worker sends only fds on it: idle connections it hands back
                ((EpollDomainSocketChannel) ctx.channel()).config().setReadMode(DomainSocketReadMode.FILE_DESCRIPTORS);
            }
            workers.attached(w, kind, ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            reject(ctx, "malformed frame: " + cause.getMessage());
        }

        private void reject(ChannelHandlerContext ctx, String why) {
            log.warn("rejected a connection to the handoff socket: {}", why);
            ctx.close();
        }
    }

    /** An authenticated socket of one worker: frames go to the master; a break loses the worker. */
    private static final class WorkerChannelHandler extends SimpleChannelInboundHandler<Frame> {
        private final Workers workers;
        private final WorkerProcess w;
        private final Frame.ChannelKind kind;

        WorkerChannelHandler(Workers workers, WorkerProcess w, Frame.ChannelKind kind) {
            this.workers = workers;
            this.w = w;
            this.kind = kind;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof FileDescriptor fd) {
                workers.handedBack(w, fd);
            } else {
                super.channelRead(ctx, msg);
            }
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame f) {
            if (kind == Frame.ChannelKind.FDS) {
                workers.broken(w, "sent " + f.type() + " on its fd socket");
            } else {
                workers.frame(w, f);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            workers.broken(w, (kind == Frame.ChannelKind.FDS ? "fd" : "control") + " socket closed");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            workers.broken(w, "socket failed: " + cause.getMessage());
        }
    }
}
