package jcluster.worker;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import jcluster.app.AppContext;
import jcluster.app.Handler;
import jcluster.app.PipelineHook;
import jcluster.common.ClaimSlots;
import jcluster.common.ExitCodes;
import jcluster.common.Signals;
import jcluster.common.WorkerOptions;
import jcluster.worker.http.AccessLog;
import jcluster.worker.http.BlockingPool;
import jcluster.worker.http.Compression;
import jcluster.worker.http.Features;
import jcluster.worker.http.TrustedProxies;
import jcluster.worker.http.HandBack;
import jcluster.worker.http.HttpInitializer;
import jcluster.worker.http.Limits;
import jcluster.worker.http.ServerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * One worker process: loads the app, builds the HTTP stack and proves it ({@link SelfProbe}), connects to the
 * master ({@link MasterLink}), warms up ({@link WarmUp}), says READY, serves the connections it is handed, beats ({@link Heartbeat}), and
 * leaves when told to or when the master is gone ({@link Drain}). STARTING → READY once the sockets are up and the
 * probe answered and the warm-up is over; then as {@link Drain} says.
 * <p>SIGTERM and SIGINT drain it like the master's DRAIN: Ctrl-C in a terminal and systemd's default KillMode
 * signal the whole process group, and a worker must then finish its requests, not die mid-response. The master is
 * told first (LEAVING), so it starts a replacement and takes this exit as expected. Every other signal that would
 * end the JVM is logged and ignored ({@link Signals}): signals that control the server go to the master.
 */
final class Worker implements ServerState, AppContext {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private final WorkerOptions options;
    private final byte[] secret;
    private final long startNanos = System.nanoTime();
    private final Set<Channel> connections = ConcurrentHashMap.newKeySet();
    private final LongAdder requests = new LongAdder();
    private final LongAdder inFlight = new LongAdder();
    private final LongAdder webSockets = new LongAdder();
    private final Drain drain;
    private volatile MasterLink link;
    /** The app changes the pipeline: its handlers may hold state of a connection, which cannot move. */
    private volatile boolean hooked;
    private AccessLog accessLog;
    private boolean proxied;
    private final java.util.concurrent.atomic.AtomicBoolean retired = new java.util.concurrent.atomic.AtomicBoolean();
    private final WorkerMessages messages = new WorkerMessages(f -> link != null && link.offer(f));

    Worker(WorkerOptions options, byte[] secret) {
        this.options = options;
        this.secret = secret;
        this.drain = new Drain(connections, inFlight::sum, options.shutdownTimeoutMillis());
    }

    /**
     * Runs the worker to its end; its exit code ({@link ExitCodes}). In this order: the open-file limit; the event
     * loops (Netty's native transport is loaded now); both sockets to the master and the claims file (the runtime
     * directory may be root's alone); the drop to --user; only then the access log and the app, neither of which
     * ever runs as root unless --allow-root said so; the self-probe; the warm-up; READY.
     */
    int run() {
        String refused = Privileges.refusal(options.identity());
        if (refused != null) {
            log.error("worker {}: {}", options.id(), refused);
            return ExitCodes.USAGE;
        }
        EventLoopGroup group;
        AtomicReference<HttpInitializer> http = new AtomicReference<>();
        try {
            Privileges.openFiles(options.identity().openFiles());
            group = new MultiThreadIoEventLoopGroup(options.threads(), new DefaultThreadFactory("loop"),
                    EpollIoHandler.newFactory());
            ClaimSlots claims = options.claims() == null ? null : ClaimSlots.open(options.claims());
            // no connection comes before READY, so none before the HTTP stack is there
            link = MasterLink.connect(group, options.socket(), options.id(), secret, drain, control ->
                    new FdReceiver(group, http::get, connections, drain::connectionClosed, control, claims),
                    options.orphanTimeoutMillis(), this::reopenLogs, messages);
            Privileges.drop(options.identity());
        } catch (Exception | LinkageError e) {
            // no native transport, no master socket, no drop: one line, and the master counts a failed boot
            log.error("worker {} could not start: {}", options.id(), AppLoader.describe(e));
            return ExitCodes.FAILURE;
        }
        // From here a failure returns without closing the sockets: the exit closes them once its code is set, so
        // the master never takes their end for a crash before it knows the code (an app that cannot load: 4).
        Features features;
        try {
            features = features(options.http());
        } catch (IOException | IllegalArgumentException e) {
            log.error("worker {} could not start: {}", options.id(), e.getMessage());
            return ExitCodes.FAILURE;
        }
        AppLoader.Loaded loaded;
        Handler handler;
        try {
            loaded = AppLoader.load(options.app());
            handler = serving(loaded.handler(), options.app().staticDir(), features.compression() != null);
            handler.start(this);
        } catch (AppLoader.AppLoadException e) {
            log.error(ExitCodes.APP_LOAD_FAILED_LINE + "{}", e.getMessage());
            return ExitCodes.APP_LOAD_FAILED;
        } catch (Exception | LinkageError e) {
            log.error(ExitCodes.APP_LOAD_FAILED_LINE + "its start threw {}", AppLoader.describe(e));
            return ExitCodes.APP_LOAD_FAILED;
        }
        ClassLoader appLoader = loaded.loader();
        // libraries the app uses look up their providers through the thread's context class loader
        group.forEach(loop -> loop.execute(() -> Thread.currentThread().setContextClassLoader(appLoader)));
        BlockingPool pool = new BlockingPool(options.blockingThreads(), options.blockingQueue(), appLoader);
        try {
            hooked = loaded.handler() instanceof PipelineHook;
            http.set(new HttpInitializer(handler, loaded.handler() instanceof PipelineHook h ? h : null,
                    this, pool, new Limits(options.maxBody(), options.maxInitialLine(), options.maxHeaderSize(),
                    options.keepAliveTimeoutMillis(), options.headerTimeoutMillis(),
                    options.maxRequestsPerConnection(), options.maxConnectionAgeMillis(), options.http().maxWsFrame(),
                    options.http().wsIdleMillis(), options.http().wsDrainGraceMillis()), features));
            SelfProbe.check(http.get());
            if (options.warmUp().millis() > 0) {
                WarmUp.Result r = WarmUp.run(group, http.get().forWarmUp(), options.warmUp().path(),
                        options.warmUp().millis());
                // its requests were the worker's own, not clients'
                requests.reset();
                if (r.failed()) {
                    log.warn("worker {} warm-up stopped after {} requests of GET {} in {} ms: {}; it serves cold "
                            + "(give --warm-up-path a route that answers 2xx to 4xx)", options.id(), r.requests(),
                            options.warmUp().path(), r.millis(), r.stop());
                } else {
                    log.info("worker {} warmed up: {} requests of GET {} in {} ms ({})", options.id(), r.requests(),
                            options.warmUp().path(), r.millis(), r.stop());
                }
            }
            drain.linkedTo(link, http.get());
            Signals.install(link.loop(), this::onSignal);
            link.ready();
            Heartbeat.start(link, connections, requests, inFlight, webSockets);
            log.info("worker {} up in {} ms serving {}, {} event loop thread(s){}", options.id(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), loaded.name(), options.threads(),
                    options.identity().uid() < 0 ? "" : ", as uid " + options.identity().uid() + " gid "
                            + options.identity().gid());
        } catch (Exception | LinkageError e) {
            log.error("worker {} could not start: {}", options.id(), AppLoader.describe(e));
            return ExitCodes.FAILURE;
        }
        int code = drain.exit().join();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        if (accessLog != null) {
            accessLog.close();
        }
        try {
            pool.shutdown(1000);
            handler.stop();
        } catch (Exception e) {
            log.warn("the app failed to stop: {}", AppLoader.describe(e));
        }
        return code;
    }

    /**
     * The access log, the trusted proxies and compression, as the master's flags say. With the access log on stdout,
     * everything else the JVM's code prints there goes to stderr instead, so that stdout carries only its lines.
     * With the PROXY protocol no connection is handed back on a drain: the header that named its client was read
     * here, and the next worker would wait for one that never comes.
     */
    private Features features(WorkerOptions.Http http) throws IOException {
        if (http.accessLog() != null) {
            accessLog = AccessLog.open(http.accessLog(), AccessLog.Format.of(http.accessLogFormat()), options.id());
            if (accessLog.toStdout()) {
                System.setOut(System.err);
            }
        }
        proxied = http.proxyFrom() != null;
        return new Features(accessLog, proxied ? TrustedProxies.parse(http.proxyFrom()) : null,
                http.compressLevel() > 0 ? new Compression(http.compressLevel(), http.compressMinLength()) : null);
    }

    /** The master's REOPEN_LOGS: on the control socket's loop. */
    private void reopenLogs() {
        if (accessLog != null) {
            accessLog.reopen(link.loop());
        }
    }

    /** The app, behind the static files if there are any. */
    private static Handler serving(Handler app, Path staticDir, boolean gzipStatic)
            throws AppLoader.AppLoadException {
        if (staticDir == null) {
            return app;
        }
        try {
            return new StaticFiles(staticDir.toRealPath(), app, gzipStatic);
        } catch (IOException e) {
            throw new AppLoader.AppLoadException("static directory " + staticDir + ": " + e.getMessage());
        }
    }

    private void onSignal(String name) {
        switch (name) {
            case "TERM", "INT" -> {
                if (!drain.draining()) {
                    link.leaving(Signals.number(name));
                }
                drain.drain("SIG" + name);
            }
            default -> log.info("ignoring SIG{}: signals that control the server go to the master (pid {})", name,
                    ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L));
        }
    }

    @Override
    public boolean draining() {
        return drain.draining();
    }

    @Override
    public HandBack handBack() {
        return hooked || proxied ? null : drain.handBack();
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
    public void webSockets(int delta) {
        webSockets.add(delta);
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

    /** The app's AppContext.retire, and an Error that escaped it: once; without a master, a drain at once. */
    @Override
    public void retire(String reason) {
        if (!retired.compareAndSet(false, true)) {
            return;
        }
        log.warn("worker {} retires itself: {}", options.id(), reason);
        MasterLink l = link;
        if (l != null && !l.retire()) {
            // orphaned: no replacement can be asked for; the drain is the rest of a retire
            l.loop().execute(() -> drain.drain("retiring itself without a master: " + reason));
        }
    }

    @Override
    public jcluster.app.Messages messages() {
        return messages;
    }

    @Override
    public long requestsServed() {
        return requests.sum();
    }
}
