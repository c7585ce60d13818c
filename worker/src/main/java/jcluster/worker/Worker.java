package jcluster.worker;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import jcluster.app.AppContext;
import jcluster.app.Handler;
import jcluster.app.PipelineHook;
import jcluster.common.ClaimSlots;
import jcluster.common.ExitCodes;
import jcluster.common.Heartbeats;
import jcluster.common.Frame;
import jcluster.common.FrameCodec;
import jcluster.common.MessageType;
import jcluster.common.Signals;
import jcluster.common.WorkerOptions;
import jcluster.common.WorkerStats;
import jcluster.worker.http.BlockingPool;
import jcluster.worker.http.HttpInitializer;
import jcluster.worker.http.Limits;
import jcluster.worker.http.ServerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * One worker process: connects its two sockets to the master (frames on one, connection fds on the other), serves
 * the connections it is handed, and leaves when told to or when the master is gone.
 * <ul>
 *   <li>STARTING → READY: both sockets are up and the HTTP stack is built; READY goes to the master.</li>
 *   <li>READY → DRAINING: on DRAIN; on SIGTERM or SIGINT, after telling the master (LEAVING), which starts a
 *   replacement; or on EOF from the master (it died). Idle connections close now, busy ones after their response;
 *   connections handed over meanwhile are still served.</li>
 *   <li>DRAINING → EXITED: the last connection closed (BYE, exit 0), or the shutdown timeout passed. STOP exits at
 *   once. Either of those two exits {@link ExitCodes#FORCED_STOP} if requests were still in flight, so the
 *   master knows a stop dropped work.</li>
 * </ul>
 * Every other signal that would end the JVM is logged and ignored ({@link Signals}): signals that control the
 * server go to the master.
 */
final class Worker implements ServerState, AppContext {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    private static final String PROBE = "GET /health HTTP/1.1\r\nHost: self-probe\r\n\r\n";
    private static final long PROBE_TIMEOUT_MILLIS = 10_000;
    private static final long PAGE_SIZE = 4096;

    private final WorkerOptions options;
    private final byte[] secret;
    private final long startNanos = System.nanoTime();
    private final Set<Channel> connections = ConcurrentHashMap.newKeySet();
    private final LongAdder requests = new LongAdder();
    private final LongAdder inFlight = new LongAdder();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private volatile boolean draining;
    private EventLoopGroup group;
    private BlockingPool pool;
    private Channel control;
    private FdReceiver receiver;

    Worker(WorkerOptions options, byte[] secret) {
        this.options = options;
        this.secret = secret;
    }

    int run() {
        AppLoader.Loaded loaded;
        Handler handler;
        try {
            loaded = AppLoader.load(options.app());
            handler = serving(loaded.handler(), options.app().staticDir());
            handler.start(this);
        } catch (AppLoader.AppLoadException e) {
            log.error(ExitCodes.APP_LOAD_FAILED_LINE + "{}", e.getMessage());
            return ExitCodes.APP_LOAD_FAILED;
        } catch (Exception | LinkageError e) {
            log.error(ExitCodes.APP_LOAD_FAILED_LINE + "its start threw {}", AppLoader.describe(e));
            return ExitCodes.APP_LOAD_FAILED;
        }
        ClassLoader appLoader = loaded.loader();
        pool = new BlockingPool(options.blockingThreads(), options.blockingQueue(), appLoader);
        try {
            group = new MultiThreadIoEventLoopGroup(options.threads(), new DefaultThreadFactory("loop") {
                @Override
                protected Thread newThread(Runnable r, String name) {
                    Thread t = super.newThread(r, name);
                    // libraries the app uses look up their providers through the thread's context class loader
                    t.setContextClassLoader(appLoader);
                    return t;
                }
            }, EpollIoHandler.newFactory());
            HttpInitializer http = new HttpInitializer(handler, hook(loaded.handler()), this, pool,
                    new Limits(options.maxBody(), options.maxInitialLine(), options.maxHeaderSize(),
                            options.keepAliveTimeoutMillis(), options.headerTimeoutMillis(),
                            options.maxRequestsPerConnection(), options.maxConnectionAgeMillis()));
            selfProbe(http);
            DomainSocketAddress master = new DomainSocketAddress(options.socket().toFile());
            control = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new FrameCodec(), new ControlHandler());
                        }
                    })
                    .connect(master).sync().channel();
            control.writeAndFlush(Frame.hello(options.id(), Frame.ChannelKind.CONTROL, secret));
            receiver = new FdReceiver(group, http, connections, this::connectionClosed, control,
                    options.claims() == null ? null : ClaimSlots.open(options.claims()));
            Channel fds = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                    .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                    .handler(receiver)
                    .connect(master).sync().channel();
            ByteBuf hello = Unpooled.buffer();
            FrameCodec.encodeTo(Frame.hello(options.id(), Frame.ChannelKind.FDS, secret), hello);
            fds.writeAndFlush(hello);
            fds.closeFuture().addListener(f -> control.eventLoop().execute(() -> drain("handoff socket closed")));
            Signals.install(control.eventLoop(), this::onSignal);
            control.writeAndFlush(Frame.of(MessageType.READY));
            control.eventLoop().scheduleAtFixedRate(new Heartbeat(), Heartbeats.INTERVAL.toMillis(),
                    Heartbeats.INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
            log.info("worker {} up in {} ms serving {}, {} event loop thread(s)", options.id(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), loaded.name(), options.threads());
        } catch (Exception | LinkageError e) {
            // no native transport, no master socket: one line, and the master counts a failed boot
            log.error("worker {} could not start: {}", options.id(), AppLoader.describe(e));
            if (group != null) {
                group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            }
            return ExitCodes.FAILURE;
        }
        int code = exit.join();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        try {
            pool.shutdown(1000);
            handler.stop();
        } catch (Exception e) {
            log.warn("the app failed to stop: {}", AppLoader.describe(e));
        }
        return code;
    }

    /** The app, behind the static files if there are any. */
    private static Handler serving(Handler app, Path staticDir) throws AppLoader.AppLoadException {
        if (staticDir == null) {
            return app;
        }
        try {
            return new StaticFiles(staticDir.toRealPath(), app);
        } catch (IOException e) {
            throw new AppLoader.AppLoadException("static directory " + staticDir + ": " + e.getMessage());
        }
    }

    private static PipelineHook hook(Handler app) {
        return app instanceof PipelineHook h ? h : null;
    }

    /**
     * A training run for the workers' class-data archive (AppCDS): loads what a worker loads on its way to READY
     * (logging, the event loop and its native transport, the sockets, the codec, the HTTP pipeline and the app,
     * through the self-probe), then exits 0 so the JVM can write the archive.
     */
    static int train() {
        WorkerOptions o = new WorkerOptions(0, Path.of("/nonexistent"), 1, 1 << 20, 8192, 8192, 5000, 10000, 1000,
                WorkerOptions.App.DEFAULT, 1, 1, null, 0, 0);
        Worker w = new Worker(o, new byte[Frame.SECRET_LENGTH]);
        EventLoopGroup g = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            DefaultApp app = new DefaultApp();
            app.start(w);
            w.selfProbe(new HttpInitializer(app, null, ServerState.UNCOUNTED, new BlockingPool(1, 1, null),
                    Limits.DEFAULT));
            for (Channel ch : new Channel[] {new EpollDomainSocketChannel(), new io.netty.channel.epoll.EpollSocketChannel()}) {
                g.next().register(ch).syncUninterruptibly();
                ch.close().syncUninterruptibly();
            }
            ByteBuf b = Unpooled.buffer();
            FrameCodec.encodeTo(Frame.stats(new WorkerStats(0, 0, 0, 0, rssBytes(), cpuNanos(), HeapAfterGc.percent())),
                    b);
            FrameCodec.decode(b);
            b.release();
            log.info("training run done");
            return 0;
        } finally {
            g.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }

    /**
     * Runs one request through the same pipeline and app the connections get, in memory, before READY: a worker
     * whose app cannot answer must not be given connections (a reload then keeps the old workers).
     */
    private void selfProbe(HttpInitializer http) {
        EmbeddedChannel ch = new EmbeddedChannel();
        http.init(ch, ServerState.UNCOUNTED);
        ch.writeInbound(Unpooled.copiedBuffer(PROBE, StandardCharsets.US_ASCII));
        // a blocking app answers from its pool: its response lands on the channel's (manual) loop
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROBE_TIMEOUT_MILLIS);
        Object out;
        while ((out = ch.readOutbound()) == null && System.nanoTime() < deadline) {
            ch.runPendingTasks();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        String head = out instanceof ByteBuf b ? b.toString(StandardCharsets.US_ASCII) : "";
        ReferenceCountUtil.release(out);
        ch.finishAndReleaseAll();
        if (!head.startsWith("HTTP/1.1 ") || head.length() < 12 || head.charAt(9) == '5') {
            throw new IllegalStateException("self-probe GET /health failed: "
                    + (head.isEmpty() ? "no response" : head.lines().findFirst().orElse("")));
        }
    }

    /**
     * TERM and INT drain this worker like the master's DRAIN does: Ctrl-C in a terminal and systemd's default
     * KillMode signal the whole process group, and a worker must then finish its requests, not die mid-response.
     * The master is told first, so it starts a replacement and takes this exit as expected. The others are the
     * master's to act on (a terminal's HUP reaches the whole group too): logged and ignored.
     */
    private void onSignal(String name) {
        switch (name) {
            case "TERM", "INT" -> {
                if (!draining && control.isActive()) {
                    control.writeAndFlush(Frame.leaving(Signals.number(name)));
                }
                drain("SIG" + name);
            }
            default -> log.info("ignoring SIG{}: signals that control the server go to the master (pid {})", name,
                    ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L));
        }
    }

    /** Handles the master's frames, on the control socket's loop. */
    private final class ControlHandler extends SimpleChannelInboundHandler<Frame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
            switch (frame.type()) {
                case DRAIN -> drain("master asked to drain");
                case STOP -> {
                    log.info("stopping at the master's request, {} connection(s) open, {} request(s) in flight",
                            connections.size(), inFlight.sum());
                    exit.complete(exitCode());
                }
                default -> {
                    log.error("unexpected {} from the master; closing the control socket", frame.type());
                    ctx.close();
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            drain("master gone (EOF on the control socket)");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException) {
                // a reset is how a killed master looks from here: the close drains this worker
                log.info("control socket: {}", cause.getMessage());
            } else {
                log.error("control socket failed; closing it", cause);
            }
            ctx.close();
        }
    }

    /** Runs on the control loop: every path into draining goes through here, once. */
    private void drain(String why) {
        if (draining) {
            return;
        }
        draining = true;
        log.info("draining: {}; {} connection(s) open", why, connections.size());
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> HttpInitializer.closeWhenIdle(ch));
        }
        control.eventLoop().schedule(() -> {
            if (!exit.isDone()) {
                log.warn("shutdown timeout ({} ms) passed with {} connection(s) open, {} request(s) in flight; "
                        + "exiting", options.shutdownTimeoutMillis(), connections.size(), inFlight.sum());
                exit.complete(exitCode());
            }
        }, options.shutdownTimeoutMillis(), TimeUnit.MILLISECONDS);
        exitIfDrained();
    }

    /** How an exit before the connections are done is reported: were requests cut? */
    private int exitCode() {
        return inFlight.sum() > 0 ? ExitCodes.FORCED_STOP : ExitCodes.OK;
    }

    private void connectionClosed() {
        if (draining) {
            control.eventLoop().execute(() -> {
                log.debug("draining: {} connection(s) left, {} request(s) in flight", connections.size(),
                        inFlight.sum());
                exitIfDrained();
            });
        }
    }

    private void exitIfDrained() {
        if (connections.isEmpty() && !exit.isDone()) {
            log.info("drained; exiting");
            if (control.isActive()) {
                control.writeAndFlush(Frame.of(MessageType.BYE))
                        .addListener(f -> exit.complete(0));
            } else {
                exit.complete(0);
            }
        }
    }

    /** Sends STATS from the control loop; how late it runs is the loop's lag. At DEBUG, an account every 1 s. */
    private final class Heartbeat implements Runnable {
        private long expected = System.nanoTime() + Heartbeats.INTERVAL.toNanos();
        private int beats;
        private String lastAccount = "";

        @Override
        public void run() {
            long now = System.nanoTime();
            long lagMicros = Math.max(0, TimeUnit.NANOSECONDS.toMicros(now - expected));
            expected = now + Heartbeats.INTERVAL.toNanos();
            if (log.isDebugEnabled() && ++beats % 2 == 0) {
                String account = receiver.totals() + "; " + connections.size() + " open, " + requests.sum()
                        + " request(s) served, " + inFlight.sum() + " in flight";
                if (!account.equals(lastAccount)) {
                    log.debug("so far: {}; event-loop lag {} µs", account, lagMicros);
                    lastAccount = account;
                }
            }
            if (control.isActive()) {
                control.writeAndFlush(Frame.stats(new WorkerStats(connections.size(), (int) inFlight.sum(),
                        requests.sum(),
                        lagMicros, rssBytes(), cpuNanos(), HeapAfterGc.percent())));
            }
        }
    }

    private static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    }

    private static long rssBytes() {
        try {
            String[] statm = Files.readString(Path.of("/proc/self/statm")).trim().split(" ");
            return Long.parseLong(statm[1]) * PAGE_SIZE;
        } catch (Exception e) {
            return -1;
        }
    }

    @Override
    public boolean draining() {
        return draining;
    }

    @Override
    public void requestServed() {
        requests.increment();
    }

    @Override
    public void inFlight(int delta) {
        inFlight.add(delta);
    }

    @Override
    public int workerId() {
        return options.id();
    }

    @Override
    public long uptimeMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    @Override
    public int openConnections() {
        return connections.size();
    }

    @Override
    public long requestsServed() {
        return requests.sum();
    }
}
