package jcluster.worker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import jcluster.common.FrameCodec;
import jcluster.worker.http.HttpInitializer;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Before READY, the worker serves its own requests until the JIT has compiled the path they take: a fresh JVM
 * interprets, and one handed connections at once served about a fifth of a warm worker's rate in its first second
 * (bench/warmup.sh). Everything a client's connection meets is the real thing: TCP connections over loopback,
 * handed to a real {@link FdReceiver} as fds over a Unix socketpair, acknowledged in frames on a second one (as the
 * master's two sockets are), and served by the very pipeline, app and event loops clients get, minus the access log.
 * Its clients and the master's side run on a loop of their own, so the worker's loops do only what they will do for
 * clients. That matters: the JIT compiles for the classes and branches it has seen, and code compiled for fewer
 * (Unix sockets only, or no handoff socket) was thrown away at the first client, measured.
 * {@link #LANES} connections each keep one request in flight and are replaced after
 * {@link #REQUESTS_PER_CONNECTION}, so a connection's handoff, setup and close are compiled too.
 * <p>It stops when the JIT goes quiet, a measured criterion: once {@link #MIN_REQUESTS} are answered (enough for
 * C2's thresholds on the path they take), two {@link #WINDOW_MILLIS} windows in a row in which compilation took
 * less than {@link #QUIET_PERCENT}% of the window (the JVM's own count of time spent compiling) and the rate of
 * answers no longer grew by a tenth; a JVM starved of CPU (a first start, beside the archive's training run) has
 * a quiet JIT long before it is warm, and the count and the rate keep it going. Else it stops at the budget, or at
 * the first answer that is not a 1xx to 4xx response (the app is then served cold, with a warning: the self-probe
 * has already shown it answers).
 */
final class WarmUp {
    private static final Logger log = LoggerFactory.getLogger(WarmUp.class);
    static final int LANES = 8;
    static final int REQUESTS_PER_CONNECTION = 200;
    static final long WINDOW_MILLIS = 100;
    static final long MIN_REQUESTS = 30_000;
    static final int QUIET_PERCENT = 3;
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOCK_CLOEXEC = 0x80000;

    /** What a warm-up did: requests answered, its time, why it stopped, and whether that was a failure. */
    record Result(long requests, long millis, String stop, boolean failed) {
    }

    private final EventLoopGroup group;
    private final HttpInitializer http;
    /** The clients' and the master's side: a loop of its own. */
    private final EventLoopGroup outside = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("warm-up"),
            EpollIoHandler.newFactory());
    /** Two requests, taken in turn: a client names the host by name or by address, with a port or without. */
    private final ByteBuf[] requests;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicReference<String> failure = new AtomicReference<>();
    /** Counted down once the last client is closed and no more will be opened. */
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicInteger open = new AtomicInteger();
    /** The worker's side of the warm-up connections, as {@link FdReceiver} keeps them. */
    private final Set<Channel> served = ConcurrentHashMap.newKeySet();
    private final List<Channel> link = new ArrayList<>();
    /** The master's side of the handoff socketpair: it writes the fds. */
    private Channel handoff;

    private WarmUp(EventLoopGroup group, HttpInitializer http, String path) {
        this.group = group;
        this.http = http;
        this.requests = new ByteBuf[] {request(path, "localhost"), request(path, "127.0.0.1:8080")};
    }

    private static ByteBuf request(String path, String host) {
        return Unpooled.copiedBuffer("GET " + path + " HTTP/1.1\r\nHost: " + host
                + "\r\nUser-Agent: jcluster-warm-up/1\r\nAccept: */*\r\n\r\n", StandardCharsets.US_ASCII);
    }

    /**
     * Runs a warm-up of at most {@code budgetMillis} through {@code http} (a pipeline without the access log).
     * Blocks the calling thread (not an event loop) until every warm-up connection is closed.
     */
    static Result run(EventLoopGroup group, HttpInitializer http, String path, long budgetMillis) {
        WarmUp w = new WarmUp(group, http, path);
        try {
            return w.run(budgetMillis);
        } finally {
            w.link.forEach(Channel::close);
            w.outside.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
            for (ByteBuf r : w.requests) {
                r.release();
            }
        }
    }

    private Result run(long budgetMillis) {
        long start = System.nanoTime();
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        if (!openLink() || !openBatch()) {
            done.countDown();
        }
        String stop = "budget";
        long lastCompile = timed ? jit.getTotalCompilationTime() : 0;
        int quiet = 0;
        long lastAnswered = 0;
        long lastWindow = -1;
        while (true) {
            try {
                Thread.sleep(WINDOW_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stop = "interrupted";
                break;
            }
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (failure.get() != null) {
                stop = failure.get();
                break;
            }
            long total = answered.get();
            long window = total - lastAnswered;
            lastAnswered = total;
            if (timed) {
                long compile = jit.getTotalCompilationTime();
                boolean jitQuiet = (compile - lastCompile) * 100 < QUIET_PERCENT * WINDOW_MILLIS;
                boolean level = lastWindow >= 0 && window * 10 <= lastWindow * 11;
                quiet = jitQuiet && level && total >= MIN_REQUESTS ? quiet + 1 : 0;
                lastCompile = compile;
                if (quiet >= 2) {
                    stop = "the JIT went quiet";
                    break;
                }
            }
            lastWindow = window;
            if (elapsed >= budgetMillis) {
                break;
            }
        }
        stopping.set(true);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            boolean closed = done.await(2, TimeUnit.SECONDS);
            while (closed && !served.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            if (!closed || !served.isEmpty()) {
                log.warn("warm-up connections still open 2 s after it stopped");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new Result(answered.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), stop,
                failure.get() != null);
    }

    /**
     * Two socketpairs, as the master's two sockets: the worker's end of one reads fds into a {@link FdReceiver},
     * which acknowledges them in frames on the other.
     */
    private boolean openLink() {
        int[] ctl = socketpair();
        int[] fds = socketpair();
        if (ctl == null || fds == null) {
            return false;
        }
        EpollDomainSocketChannel control = new EpollDomainSocketChannel(ctl[0]);
        control.pipeline().addLast(new FrameCodec(), new Discard());
        EpollDomainSocketChannel masterControl = new EpollDomainSocketChannel(ctl[1]);
        masterControl.pipeline().addLast(new Discard());
        EpollDomainSocketChannel receiving = new EpollDomainSocketChannel(fds[0]);
        receiving.config().setOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS);
        receiving.pipeline().addLast(new FdReceiver(group, () -> http, served, () -> { }, control, null));
        handoff = new EpollDomainSocketChannel(fds[1]);
        link.addAll(List.of(control, masterControl, receiving, handoff));
        group.next().register(control).syncUninterruptibly();
        group.next().register(receiving).syncUninterruptibly();
        outside.next().register(masterControl).syncUninterruptibly();
        outside.next().register(handoff).syncUninterruptibly();
        return true;
    }

    private int[] socketpair() {
        POSIX posix = POSIXFactory.getNativePOSIX();
        int[] fds = new int[2];
        if (posix.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
            failure.compareAndSet(null, "socketpair failed: errno " + posix.errno());
            return null;
        }
        return fds;
    }

    /**
     * Opens {@link #LANES} connections over loopback TCP and hands the server's ends to the {@link FdReceiver}. A
     * listener on 127.0.0.1, on a port the kernel picks, lives only while they connect and are accepted (well under
     * a millisecond), and a connection it accepts that is not one of them is closed unread.
     * @return false if they could not be opened (the reason in {@link #failure})
     */
    private boolean openBatch() {
        Socket listener = null;
        List<Socket> clients = new ArrayList<>();
        List<Integer> accepted = new ArrayList<>();
        try {
            listener = Socket.newSocketStream();
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            listener.listen(LANES);
            InetSocketAddress at = listener.localAddress();
            Set<InetSocketAddress> ours = new HashSet<>();
            for (int i = 0; i < LANES; i++) {
                Socket c = Socket.newSocketStream();
                clients.add(c);
                c.connect(at);
                ours.add(c.localAddress());
            }
            byte[] addr = new byte[64];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (accepted.size() < LANES && System.nanoTime() < deadline) {
                int fd = listener.accept(addr);
                if (fd < 0) {
                    Thread.onSpinWait();
                    continue;
                }
                Socket s = new Socket(fd);
                if (ours.contains(s.remoteAddress())) {
                    accepted.add(fd);
                } else {
                    closeQuietly(s);
                }
            }
        } catch (IOException | RuntimeException e) {
            failure.compareAndSet(null, "no loopback connection: " + e.getMessage());
        } finally {
            closeQuietly(listener);
        }
        if (accepted.size() < LANES) {
            failure.compareAndSet(null, "no loopback connection accepted within 1 s");
            accepted.forEach(fd -> closeQuietly(new Socket(fd)));
            clients.forEach(WarmUp::closeQuietly);
            return false;
        }
        open.addAndGet(LANES);
        for (int i = 0; i < LANES; i++) {
            // the master's way: the fd goes over the handoff socket, and this side's copy is closed once it is sent
            Socket server = new Socket(accepted.get(i));
            handoff.writeAndFlush(new FileDescriptor(server.intValue())).addListener(f -> closeQuietly(server));
            EpollSocketChannel client = new EpollSocketChannel(clients.get(i).intValue());
            client.pipeline().addLast(new Client());
            client.closeFuture().addListener(f -> {
                if (open.decrementAndGet() == 0 && (stopping.get() || failure.get() != null || !openBatch())) {
                    done.countDown();
                }
            });
            outside.next().register(client);
        }
        return true;
    }

    private static void closeQuietly(FileDescriptor s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                log.debug("closing a warm-up socket: {}", e.toString());
            }
        }
    }

    /** Reads and drops: the master's side of the control socket, and the worker's (nothing comes on it). */
    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    /** One request at a time; after {@link #REQUESTS_PER_CONNECTION} answers, or on a stop, it closes. */
    private final class Client extends ChannelInboundHandlerAdapter {
        private ByteBuf received;
        private int answers;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            received = ctx.alloc().heapBuffer();
            ctx.writeAndFlush(requests[answers & 1].retainedDuplicate(), ctx.voidPromise());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            received.writeBytes(in);
            in.release();
            int length = responseLength(received);
            if (length == 0) {
                return;
            }
            if (length < 0 || received.getByte(received.readerIndex() + 9) == '5') {
                failure.compareAndSet(null, "GET answered " + received.toString(received.readerIndex(),
                        Math.min(received.readableBytes(), 40), StandardCharsets.US_ASCII).lines().findFirst()
                        .orElse("nothing"));
                ctx.close();
                return;
            }
            received.skipBytes(length).discardReadBytes();
            answered.incrementAndGet();
            if (++answers >= REQUESTS_PER_CONNECTION || stopping.get()) {
                ctx.close();
            } else {
                ctx.writeAndFlush(requests[answers & 1].retainedDuplicate(), ctx.voidPromise());
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (received != null) {
                received.release();
                received = null;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failure.compareAndSet(null, "warm-up connection failed: " + cause);
            ctx.close();
        }
    }

    /**
     * The length of the whole HTTP/1.1 response at the start of {@code buf}: 0 if it is not all there yet, -1 if
     * its head is not one a warm-up can frame (no status line, a 1xx, or a body delimited by the close). A body is
     * framed by Content-Length or chunked (no trailers), as the worker writes them.
     */
    static int responseLength(ByteBuf buf) {
        int start = buf.readerIndex();
        int end = ByteBufUtil.indexOf(CRLFCRLF, buf);
        if (end < 0) {
            return 0;
        }
        int headEnd = end - start + 4;
        String head = buf.toString(start, headEnd, StandardCharsets.ISO_8859_1);
        if (!head.startsWith("HTTP/1.1 ") || head.length() < 12 || head.charAt(9) == '1') {
            return -1;
        }
        int status = Integer.parseInt(head.substring(9, 12));
        long contentLength = -1;
        boolean chunked = false;
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
            if (name.equals("content-length")) {
                contentLength = Long.parseLong(value);
            } else if (name.equals("transfer-encoding")) {
                chunked = value.endsWith("chunked");
            }
        }
        if (status == 204 || status == 304) {
            return headEnd;
        }
        if (chunked) {
            int last = ByteBufUtil.indexOf(LAST_CHUNK, buf.slice(start + headEnd - 2, buf.writerIndex()
                    - (start + headEnd - 2)));
            return last < 0 ? 0 : headEnd - 2 + last + LAST_CHUNK.readableBytes();
        }
        if (contentLength < 0) {
            return -1;
        }
        return buf.readableBytes() >= headEnd + contentLength ? (int) (headEnd + contentLength) : 0;
    }

    private static final ByteBuf CRLFCRLF = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer("\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
    private static final ByteBuf LAST_CHUNK = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
}
