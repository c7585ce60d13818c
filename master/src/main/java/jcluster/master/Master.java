package jcluster.master;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.DefaultThreadFactory;
import jcluster.common.Frame;
import jcluster.common.MessageType;
import jcluster.common.WorkerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The arbiter: owns the worker table, the connections not yet handed off, and the exit code. Everything here runs
 * on one thread, the master's event loop: accepts, frames from workers, process exits and signals are all events
 * posted to it, so nothing is shared and nothing is locked.
 * <ul>
 *   <li>RUNNING: accept; hand each connection to the next READY worker; respawn workers that die.</li>
 *   <li>RUNNING → STOPPING: SIGTERM or SIGINT (exit 0), or workers that keep failing to boot (exit 3). The listener
 *   closes, workers drain; past the shutdown timeout they are killed.</li>
 *   <li>STOPPING → done: every worker process has exited; the runtime directory is removed.</li>
 * </ul>
 */
final class Master implements Acceptor.Sink, HandoffServer.Workers {
    private static final Logger log = LoggerFactory.getLogger(Master.class);
    /** Accepted connections held while no worker is READY; past this the master stops accepting. */
    static final int MAX_WAITING = 1024;
    static final Duration BOOT_TIMEOUT = Duration.ofSeconds(30);
    /** How long a worker told to STOP has before it is killed. */
    static final Duration STOP_GRACE = Duration.ofSeconds(1);
    private static final String WORKER_MAIN = "jcluster.worker.WorkerMain";
    /** The maximum lengths of a request line and of a request head, as nginx's large_client_header_buffers. */
    private static final int MAX_INITIAL_LINE = 8192;
    private static final int MAX_HEADER_SIZE = 8192;

    private enum State { RUNNING, STOPPING }

    private final MasterOptions options;
    private final WorkerProcess[] slots;
    private final RoundRobinDispatcher<WorkerProcess> dispatcher = new RoundRobinDispatcher<>();
    private final RestartBackoff backoff = new RestartBackoff();
    private final ArrayDeque<FileDescriptor> waiting = new ArrayDeque<>();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final SecureRandom random = new SecureRandom();
    private EventLoopGroup group;
    private EventLoop loop;
    private Acceptor acceptor;
    private RuntimeDir runtimeDir;
    private HandoffServer handoff;
    private State state = State.RUNNING;
    private int exitCode = Main.EXIT_OK;
    private boolean announcedReady;

    Master(MasterOptions options) {
        this.options = options;
        this.slots = new WorkerProcess[options.workers];
    }

    int run() {
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("master-loop"), EpollIoHandler.newFactory());
        loop = group.next();
        try {
            acceptor = Acceptor.bind(loop, options.host, options.port, options.backlog, this);
            Path dir = options.runtimeDir != null ? options.runtimeDir : RuntimeDir.defaultFor(options.port);
            runtimeDir = RuntimeDir.prepare(dir);
            handoff = HandoffServer.bind(loop, runtimeDir.handoffSocket(), this);
        } catch (StartupException e) {
            if (acceptor != null) {
                acceptor.close();
            }
            if (runtimeDir != null) {
                runtimeDir.remove();
            }
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::emergencyCleanup, "master-exit"));
        Signals.install(loop, this::onSignal);
        loop.execute(() -> {
            for (int id = 1; id <= slots.length; id++) {
                spawn(id);
            }
            log.info("listening on {} (backlog {}), runtime dir {}, {} worker(s): pids {}",
                    acceptor.localAddress(), options.backlog, runtimeDir.path(), slots.length,
                    Arrays.stream(slots).map(w -> w == null ? "-" : Long.toString(w.pid())).toList());
        });
        int code = exit.join();
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        log.info("exiting with code {}", code);
        return code;
    }

    // ---- events -------------------------------------------------------------------------------------------------

    private void onSignal(String name) {
        switch (name) {
            // graceful stop; a second one stops at once
            case "TERM", "INT" -> {
                if (state == State.STOPPING) {
                    stopNow("SIG" + name + " again");
                } else {
                    stop("SIG" + name, Main.EXIT_OK);
                }
            }
            default -> log.warn("ignoring SIG{}", name);
        }
    }

    @Override
    public void accepted(FileDescriptor fd) {
        dispatch(fd);
    }

    @Override
    public void burstDone() {
        flushAll();
    }

    @Override
    public WorkerProcess byId(int id) {
        WorkerProcess w = id >= 1 && id <= slots.length ? slots[id - 1] : null;
        return w != null && w.state != WorkerProcess.State.EXITED ? w : null;
    }

    @Override
    public void attached(WorkerProcess w, Frame.ChannelKind kind, Channel ch) {
        Channel old = kind == Frame.ChannelKind.CONTROL ? w.control : w.fds;
        if (old != null) {
            ch.close();
            broken(w, "opened a second " + kind + " socket");
            return;
        }
        if (kind == Frame.ChannelKind.CONTROL) {
            w.control = ch;
            if (w.state == WorkerProcess.State.DRAINING) {
                // spawned before the shutdown began, connected after it: it drains as soon as it can hear us
                w.send(MessageType.DRAIN);
            }
        } else {
            w.fds = ch;
        }
        maybeReady(w);
    }

    @Override
    public void frame(WorkerProcess w, Frame f) {
        switch (f.type()) {
            // the worker's HTTP stack is up
            case READY -> {
                w.sentReady = true;
                maybeReady(w);
            }
            // it holds these connections now: close our copies
            case ACK -> {
                if (!w.acknowledge(f.ackCount())) {
                    broken(w, "acknowledged " + f.ackCount() + " connections with " + w.unackedCount()
                            + " outstanding");
                }
            }
            // heartbeat
            case STATS -> w.stats = f.stats();
            // drained; its exit follows
            case BYE -> log.info("{} drained", w);
            default -> broken(w, "sent " + f.type() + ", which only the master sends");
        }
    }

    @Override
    public void broken(WorkerProcess w, String why) {
        if (w.state == WorkerProcess.State.EXITED) {
            return;
        }
        if (w.state == WorkerProcess.State.DRAINING) {
            // a draining worker closes its sockets as it exits; its exit is what counts
            retire(w);
            return;
        }
        log.warn("{} lost: {}; killing it", w, why);
        retire(w);
        w.process.destroyForcibly();
    }

    private void exited(WorkerProcess w) {
        int code = w.process.exitValue();
        retire(w);
        String how = code > 128 ? "was killed by signal " + (code - 128) : "exited with code " + code;
        if (state == State.STOPPING) {
            log.info("{} {}", w, how);
            slots[w.id - 1] = null;
            finishIfAllExited();
            return;
        }
        if (!w.wasReady && !backoff.bootFailed()) {
            log.error("{} {} before it was ready; workers failed to start {} times in a row, giving up "
                    + "(see the worker's log lines above)", w, how, backoff.bootFailures());
            slots[w.id - 1] = null;
            stop("workers failing at start-up", Main.EXIT_WORKERS_FAIL_TO_BOOT);
            return;
        }
        Duration delay = backoff.nextDelay();
        log.warn("{} {}; respawning in {} ms", w, how, delay.toMillis());
        loop.schedule(() -> {
            if (slots[w.id - 1] == w) {
                spawn(w.id);
            }
        }, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    // ---- workers ------------------------------------------------------------------------------------------------

    private void spawn(int id) {
        if (state == State.STOPPING) {
            // a signal can arrive between start-up and the first spawn
            return;
        }
        byte[] secret = new byte[Frame.SECRET_LENGTH];
        random.nextBytes(secret);
        WorkerOptions wo = new WorkerOptions(id, runtimeDir.handoffSocket(), options.workerThreads,
                (int) options.maxBody, MAX_HEADER_SIZE, MAX_INITIAL_LINE, options.keepAliveTimeout.toMillis(),
                options.headerTimeout.toMillis(), options.shutdownTimeout.toMillis());
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        for (String opt : options.workerJvmOpts.trim().split("\\s+")) {
            if (!opt.isEmpty()) {
                cmd.add(opt);
            }
        }
        String level = System.getProperty("jcluster.log.level");
        if (level != null) {
            cmd.add("-Djcluster.log.level=" + level);
        }
        cmd.add("-cp");
        cmd.add(ownClassPath());
        cmd.add(WORKER_MAIN);
        cmd.addAll(wo.toArgs());
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().put(WorkerOptions.SECRET_ENV, HexFormat.of().formatHex(secret));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            log.error("cannot start worker {}: {}", id, e.getMessage());
            stop("cannot start workers", Main.EXIT_WORKERS_FAIL_TO_BOOT);
            return;
        }
        WorkerProcess w = new WorkerProcess(id, secret, p);
        slots[id - 1] = w;
        p.onExit().thenRun(() -> loop.execute(() -> exited(w)));
        loop.schedule(() -> {
            if (w.state == WorkerProcess.State.STARTING && p.isAlive()) {
                log.error("{} not ready within {} s; killing it", w, BOOT_TIMEOUT.toSeconds());
                w.process.destroyForcibly();
            }
        }, BOOT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        log.debug("spawned {}", w);
    }

    private void maybeReady(WorkerProcess w) {
        if (!w.canBeReady()) {
            return;
        }
        if (state == State.STOPPING) {
            w.state = WorkerProcess.State.DRAINING;
            w.send(MessageType.DRAIN);
            return;
        }
        w.state = WorkerProcess.State.READY;
        w.wasReady = true;
        backoff.booted();
        dispatcher.add(w);
        log.info("{} ready in {} ms", w, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - w.spawnedNanos));
        dispatchWaiting();
        if (!announcedReady && dispatcher.size() == slots.length) {
            announcedReady = true;
            log.info("ready: {} workers serving on {}", slots.length, acceptor.localAddress());
        }
    }

    /** Stops using a worker: no more connections, its sockets closed, its unacknowledged connections re-sent. */
    private void retire(WorkerProcess w) {
        if (w.state == WorkerProcess.State.EXITED) {
            return;
        }
        w.state = WorkerProcess.State.EXITED;
        dispatcher.remove(w);
        w.closeChannels();
        List<FileDescriptor> orphans = w.takeUnacked();
        if (!orphans.isEmpty()) {
            log.info("{} left {} connection(s) unacknowledged; handing them to other workers", w, orphans.size());
            orphans.forEach(this::dispatch);
            flushAll();
        }
    }

    // ---- connections --------------------------------------------------------------------------------------------

    private void dispatch(FileDescriptor fd) {
        WorkerProcess w = dispatcher.next();
        if (w != null) {
            w.handOff(fd);
            return;
        }
        if (state == State.STOPPING) {
            // no worker will ever take it: say so rather than drop it silently
            log.warn("closing a connection accepted during shutdown: no worker is taking connections");
            WorkerProcess.closeQuietly(fd);
            return;
        }
        waiting.add(fd);
        if (waiting.size() >= MAX_WAITING && !acceptor.paused()) {
            log.warn("{} connections wait for a ready worker; pausing accept (the kernel backlog holds the rest)",
                    waiting.size());
            acceptor.pause();
        }
    }

    private void dispatchWaiting() {
        WorkerProcess w;
        while (!waiting.isEmpty() && (w = dispatcher.next()) != null) {
            w.handOff(waiting.poll());
        }
        flushAll();
        if (acceptor.paused() && waiting.size() < MAX_WAITING / 2 && state == State.RUNNING) {
            log.info("accepting again");
            acceptor.resume();
        }
    }

    private void flushAll() {
        for (WorkerProcess w : slots) {
            if (w != null && w.state != WorkerProcess.State.EXITED) {
                w.flush();
            }
        }
    }

    // ---- shutdown -----------------------------------------------------------------------------------------------

    private void stop(String why, int code) {
        if (state == State.STOPPING) {
            return;
        }
        state = State.STOPPING;
        exitCode = code;
        acceptor.close();
        int live = 0;
        for (WorkerProcess w : slots) {
            if (w != null && w.state != WorkerProcess.State.EXITED) {
                live++;
                dispatcher.remove(w);
                w.state = WorkerProcess.State.DRAINING;
                w.send(MessageType.DRAIN);
            }
        }
        if (!waiting.isEmpty()) {
            log.warn("closing {} connection(s) that no worker was ready to take", waiting.size());
            waiting.forEach(WorkerProcess::closeQuietly);
            waiting.clear();
        }
        log.info("shutting down ({}): draining {} worker(s), up to {} s", why, live,
                options.shutdownTimeout.toSeconds());
        loop.schedule(() -> {
            for (WorkerProcess w : slots) {
                if (w != null && w.process.isAlive()) {
                    log.warn("{} still busy after the shutdown timeout; killing it", w);
                }
            }
            killAll();
        }, options.shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS);
        finishIfAllExited();
    }

    /** Tells every worker to exit without draining; kills those still there a moment later. */
    private void stopNow(String why) {
        log.warn("{}: stopping workers now, without waiting for in-flight requests", why);
        for (WorkerProcess w : slots) {
            if (w != null) {
                w.send(MessageType.STOP);
            }
        }
        loop.schedule(this::killAll, STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void killAll() {
        for (WorkerProcess w : slots) {
            if (w != null) {
                w.process.destroyForcibly();
            }
        }
    }

    private void finishIfAllExited() {
        for (WorkerProcess w : slots) {
            if (w != null && w.process.isAlive()) {
                return;
            }
        }
        handoff.close();
        runtimeDir.remove();
        exit.complete(exitCode);
    }

    /** Runs if the JVM exits another way (an unexpected signal): no worker and no socket file outlives us. */
    private void emergencyCleanup() {
        if (exit.isDone()) {
            return;
        }
        for (WorkerProcess w : slots) {
            if (w != null) {
                w.process.destroyForcibly();
            }
        }
        runtimeDir.remove();
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static String ownClassPath() {
        StringBuilder sb = new StringBuilder();
        for (String part : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (sb.length() > 0) {
                sb.append(File.pathSeparator);
            }
            sb.append(Path.of(part).toAbsolutePath());
        }
        return sb.toString();
    }
}
