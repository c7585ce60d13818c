package jcluster.master;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import jcluster.common.ClaimSlots;
import jcluster.common.Frame;
import jcluster.common.MessageType;
import jcluster.common.Signals;
import jcluster.worker.WorkerMain;
import jnr.constants.platform.Signal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The arbiter: owns the worker table, the connections not yet handed off, and the exit code. Everything here runs
 * on one thread, the master's event loop: accepts, frames from workers, process exits, signals and the periodic
 * check are all events posted to it, so nothing is shared and nothing is locked. After each event,
 * {@link #manageWorkers} brings the table towards the wanted count and generation.
 * <ul>
 *   <li>RUNNING: accept; hand each connection to the next READY worker; respawn dead workers; reload; scale.</li>
 *   <li>RUNNING → LAME_DUCK: SIGTERM, SIGINT or {@code stop} with a --drain-delay. Readiness turns 503 at once; the
 *   listener keeps accepting and the workers keep serving (and are respawned) until the delay ends or another
 *   such signal comes.</li>
 *   <li>RUNNING or LAME_DUCK → STOPPING: the same without a delay (exit 0), or a crash loop (exit 3) or an app that
 *   cannot load (exit 4). The listener closes, workers drain; past the shutdown timeout they are killed. Another
 *   SIGTERM or SIGINT stops them at once.</li>
 *   <li>STOPPING → done: every worker process has exited; the runtime directory is removed. A worker that did not
 *   drain cleanly (killed, or it reported requests cut) makes a clean stop's exit code 5.</li>
 * </ul>
 */
final class Master implements Acceptor.Sink, HandoffServer.Workers {
    private static final Logger log = LoggerFactory.getLogger(Master.class);
    /** How long a worker told to STOP has before it is killed. */
    static final Duration STOP_GRACE = Duration.ofSeconds(1);
    /** How long after SIGQUIT a hung worker has to write its thread dump before it is killed. */
    static final Duration DUMP_GRACE = Duration.ofSeconds(1);
    /** Workers send a heartbeat every 500 ms; one missing for this long makes the worker SUSPECT. */
    static final Duration HEARTBEAT_LATE = Duration.ofMillis(1500);
    private static final long CHECK_INTERVAL_MILLIS = 100;
    private static final long REVOKE_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How often DEBUG accounts for dispatch: a line a second, never one per connection. */
    private static final long DEBUG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private enum State { RUNNING, LAME_DUCK, STOPPING }

    private final MasterOptions options;
    private final List<WorkerProcess> workers = new ArrayList<>();
    private final Dispatcher<WorkerProcess> dispatcher;
    private final RestartPolicy restarts;
    /** Accepted connections no worker could take yet (at most one accept burst: accepting pauses meanwhile). */
    private final ArrayDeque<FileDescriptor> waiting = new ArrayDeque<>();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final long startedNanos = System.nanoTime();
    /** What the workers serve, as status names it: the app jar, the --app class, or the built-in app. */
    private final String appName;
    /**
     * The restart counts that the next workers spawned inherit: a worker that dies unexpectedly passes its count
     * plus one to its replacement, so {@code status} shows restarts per worker as pm2 does.
     */
    private final ArrayDeque<Integer> inheritedRestarts = new ArrayDeque<>();
    private EventLoopGroup group;
    private EventLoop loop;
    private Acceptor acceptor;
    private RuntimeDir runtimeDir;
    private HandoffServer handoff;
    private ControlServer control;
    private AdminServer admin;
    private WorkerLauncher launcher;
    private PidFile pidFile;
    private State state = State.RUNNING;
    private int exitCode = Main.EXIT_OK;
    private int desired;
    /** Workers of an older generation than this are replaced by a reload in progress. */
    private int generation = 1;
    /** The generation new workers are labelled with: the latest reload's. */
    private int newestGeneration = 1;
    private int nextId = 1;
    private long noSpawnBeforeNanos;
    /** A manageWorkers is already scheduled for the end of the respawn delay. */
    private boolean spawnScheduled;
    private boolean reloading;
    private boolean reloadQueued;
    /** How the last reload ended, for status: "generation N complete" or "generation N aborted: why". */
    private String lastReload;
    private boolean announcedReady;
    /** The end of the drain delay, while in LAME_DUCK. */
    private ScheduledFuture<?> drainDelayEnd;
    /** The orderly exit ran to its end; read by the shutdown hook's thread. */
    private volatile boolean cleanedUp;
    private long accepted;
    private long handedOff;
    private long redispatched;
    private long revokedSinceLog;
    private long lastRevokeLogNanos = System.nanoTime() - REVOKE_LOG_INTERVAL_NANOS;
    private long restartCount;
    private long recycled;
    private long timeouts;
    /** Requests served by workers that have exited, by their last heartbeat: keeps the total monotonic. */
    private long retiredRequests;
    private long acknowledged;
    private long ackFrames;
    /** The counters as of the last DEBUG account, and when it was, to report what changed since. */
    private Counts countsAtAccount = new Counts(0, 0, 0, 0, 0);
    private long accountNanos = System.nanoTime();

    private record Counts(long accepted, long handedOff, long acknowledged, long ackFrames, long redispatched) {
    }

    Master(MasterOptions options) {
        this.options = options;
        this.appName = options.appJar != null ? options.appJar.toAbsolutePath().toString()
                : options.appClass != null ? options.appClass : "built-in";
        this.desired = options.workers;
        this.restarts = new RestartPolicy(options.restartDelay, options.maxRestarts, options.minUptime);
        this.dispatcher = new Dispatcher<>(Dispatcher.Policy.of(options.dispatch), ClaimSlots.SLOTS,
                options.handoffTimeout.toNanos(), HEARTBEAT_LATE.toNanos(), options.slowStart.toNanos());
    }

    int run() {
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("master-loop"), EpollIoHandler.newFactory());
        loop = group.next();
        try {
            pidFile = options.pidFile == null ? null : PidFile.check(options.pidFile);
            acceptor = Acceptor.bind(loop, options.host, options.port, options.backlog, this);
            Path dir = options.runtimeDir != null ? options.runtimeDir : RuntimeDir.defaultFor(options.port);
            runtimeDir = RuntimeDir.prepare(dir);
            handoff = HandoffServer.bind(loop, runtimeDir.handoffSocket(), this);
            control = ControlServer.bind(loop, runtimeDir.controlSocket(), this::command);
            if (options.adminPort != 0) {
                admin = AdminServer.bind(loop, options.adminHost, options.adminPort, this::status);
            }
            if (pidFile != null) {
                pidFile.write();
            }
        } catch (StartupException e) {
            if (admin != null) {
                admin.close();
            }
            if (handoff != null) {
                handoff.close();
            }
            if (control != null) {
                control.close();
            }
            if (acceptor != null) {
                acceptor.close();
            }
            if (runtimeDir != null) {
                runtimeDir.remove();
            }
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
        // Everything runs on this one thread: if it ever ends before the master is done (an Error, a jar
        // overwritten in place under the running JVM), exit non-zero so a supervisor restarts the server, instead
        // of lingering with the port and no arbiter. The shutdown hook still kills the workers.
        loop.terminationFuture().addListener(f -> {
            if (exit.complete(Main.EXIT_FAILURE)) {
                System.err.println("master: the event loop thread ended unexpectedly (" + f.cause() + "); exiting");
            }
        });
        launcher = new WorkerLauncher(options, runtimeDir);
        Runtime.getRuntime().addShutdownHook(new Thread(this::emergencyCleanup, "master-exit"));
        Signals.install(loop, this::onSignal);
        loop.execute(() -> {
            manageWorkers();
            log.info("listening on {} (backlog {}), runtime dir {}, {} worker(s): pids {}",
                    acceptor.localAddress(), options.backlog, runtimeDir.path(), workers.size(),
                    workers.stream().map(WorkerProcess::pid).toList());
        });
        loop.scheduleAtFixedRate(this::checkWorkers, CHECK_INTERVAL_MILLIS, CHECK_INTERVAL_MILLIS,
                TimeUnit.MILLISECONDS);
        if (!options.handoffTimeout.isZero()) {
            // a revoked connection waits at most the timeout plus a quarter of it
            long tick = Math.max(1_000_000, options.handoffTimeout.toNanos() / 4);
            loop.scheduleAtFixedRate(this::revokeStaleHandoffs, tick, tick, TimeUnit.NANOSECONDS);
        }
        int code = exit.join();
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        log.info("exiting with code {}", code);
        return code;
    }

    // ---- events -------------------------------------------------------------------------------------------------

    private void onSignal(String name) {
        switch (name) {
            // graceful stop (after --drain-delay); during the delay, drain now; while draining, stop at once
            case "TERM", "INT" -> {
                switch (state) {
                    case RUNNING -> stop("SIG" + name, Main.EXIT_OK);
                    case LAME_DUCK -> beginDrain("SIG" + name + " again, during the drain delay", Main.EXIT_OK);
                    case STOPPING -> stopNow("SIG" + name + " again");
                }
            }
            // rolling reload: replace every worker, one at a time
            case "HUP" -> reload();
            // one worker more
            case "TTIN" -> scale(desired + 1);
            // one worker less
            case "TTOU" -> scale(desired - 1);
            // nginx's "reopen logs": every line goes to stderr, there is no file to reopen
            case "USR1" -> log.info("SIGUSR1 (reopen logs): nothing to reopen, the master and its workers log to "
                    + "stderr; ignored");
            // gunicorn's and nginx's "upgrade the master": not in this version
            case "USR2" -> log.info("SIGUSR2 (upgrade the master): not supported by this version; SIGHUP reloads "
                    + "the workers from the jar on disk; ignored");
            // any other signal that would end the JVM: a stray kill must not take the server down
            default -> log.warn("ignoring SIG{}: it means nothing to the master", name);
        }
    }

    @Override
    public void accepted(FileDescriptor fd) {
        accepted++;
        dispatch(fd);
    }

    /** A line from the control socket; the answer's first line is "ok…", "error: …" or "usage: …". */
    private String command(String line) {
        String[] words = line.split("\\s+");
        switch (words[0]) {
            // the pm2-style table
            case "status" -> {
                return "ok\n" + status().table();
            }
            // the same, for programs
            case "status-json" -> {
                return "ok\n" + status().json();
            }
            // rolling reload, as SIGHUP
            case "reload" -> {
                Reload r = reload();
                return (r.started() ? "ok: " : "error: ") + r.what();
            }
            // set the number of workers
            case "scale" -> {
                int n;
                try {
                    n = Integer.parseInt(words.length == 2 ? words[1] : "");
                } catch (NumberFormatException e) {
                    return "usage: scale takes a number of workers, like 'scale 4'";
                }
                if (n < 1 || n > ControlCommands.MAX_WORKERS) {
                    return "usage: the number of workers must be between 1 and " + ControlCommands.MAX_WORKERS;
                }
                scale(n);
                return "ok: scaling to " + n + " worker(s)";
            }
            // a thread dump of one worker, into the log
            case "dump" -> {
                if (words.length != 2 || !words[1].matches("\\d{1,9}")) {
                    return "usage: dump takes a worker id, like 'dump 3'; see 'status' for ids";
                }
                WorkerProcess w = byId(Integer.parseInt(words[1]));
                if (w == null) {
                    return "error: no live worker " + words[1] + "; see 'status' for ids";
                }
                Posix.signal(w.pid(), Signal.SIGQUIT);
                log.info("thread dump of {} requested through the control socket", w);
                return "ok: " + w + " writes a thread dump to the log";
            }
            // graceful stop, as SIGTERM
            case "stop" -> {
                if (state != State.RUNNING) {
                    return "ok: already stopping";
                }
                stop("stop through the control socket", Main.EXIT_OK);
                return state == State.LAME_DUCK ? "ok: stopping: serving " + options.drainDelay.toMillis()
                        + " ms more (--drain-delay), then draining" : "ok: stopping";
            }
            default -> {
                return "usage: unknown command '" + words[0] + "'; commands: status, status-json, reload, scale N, "
                        + "dump ID, stop";
            }
        }
    }

    Status status() {
        return new Status(ProcessHandle.current().pid(), Main.version(), (System.nanoTime() - startedNanos) / 1_000_000,
                appName, acceptor.localAddress(), desired, generation, reloading, state != State.RUNNING, accepted, handedOff, redispatched, restartCount, recycled, timeouts,
                retiredRequests + workers.stream().filter(w -> w.state != WorkerProcess.State.EXITED)
                        .mapToLong(w -> w.stats == null ? 0 : w.stats.requestsServed()).sum(), lastReload,
                workers.stream().filter(w -> w.state != WorkerProcess.State.EXITED).map(WorkerProcess::status)
                        .toList());
    }

    @Override
    public void burstDone() {
        flushAll();
    }

    @Override
    public WorkerProcess byId(int id) {
        for (WorkerProcess w : workers) {
            if (w.id == id && w.state != WorkerProcess.State.EXITED) {
                return w;
            }
        }
        return null;
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
                // told to drain before it could hear us: it drains as soon as it can
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
            // the worker's HTTP stack is up and answered its self-probe
            case READY -> {
                w.sentReady = true;
                w.lastHeartbeatNanos = System.nanoTime();
                maybeReady(w);
            }
            // it holds these connections now: close our copies
            case ACK -> {
                acknowledged += f.ackCount();
                ackFrames++;
                if (!w.acknowledge(f.ackCount())) {
                    broken(w, "acknowledged " + f.ackCount() + " connections with " + w.unacked()
                            + " outstanding");
                } else if (!waiting.isEmpty()) {
                    dispatchWaiting();
                }
            }
            // heartbeat from its event loop
            case STATS -> {
                w.heartbeat(f.stats());
                maybeRecycle(w);
                // back in time, unless it already timed out: then it is replaced whatever it does now
                if (w.state == WorkerProcess.State.SUSPECT && w.dumpRequestedNanos == 0) {
                    log.info("{} answers again; giving it connections", w);
                    w.state = WorkerProcess.State.READY;
                    dispatcher.add(w);
                    dispatchWaiting();
                }
            }
            // drained; its exit follows
            case BYE -> log.info("{} drained", w);
            // it drains on its own (a signal sent to it): expected, and capacity is restored at once
            case LEAVING -> {
                if (w.state != WorkerProcess.State.DRAINING && w.state != WorkerProcess.State.EXITED) {
                    log.info("{} drains on its own ({}); starting its replacement", w, Signals.name(f.leavingSignal()));
                    draining(w);
                    manageWorkers();
                }
            }
            default -> broken(w, "sent " + f.type() + ", which only the master sends");
        }
    }

    @Override
    public void broken(WorkerProcess w, String why) {
        if (w.state == WorkerProcess.State.EXITED) {
            return;
        }
        if (w.state == WorkerProcess.State.DRAINING || w.retiring) {
            // a worker on its way out closes its sockets as it exits; its exit is what counts
            retire(w);
            return;
        }
        log.warn("{} lost: {}; killing it", w, why);
        retire(w);
        w.process.destroyForcibly();
    }

    /** The process is gone (its output relayed to the end). */
    private void exited(WorkerProcess w) {
        int code = w.process.exitValue();
        boolean expected = w.retiring || w.state == WorkerProcess.State.DRAINING || state == State.STOPPING;
        boolean failedReload = reloading && !w.wasReady && w.generation == newestGeneration;
        retire(w);
        workers.remove(w);
        w.releaseClaims();
        retiredRequests += w.stats == null ? 0 : w.stats.requestsServed();
        String how = code > 128 ? "was killed by signal " + (code - 128) : "exited with code " + code;
        if (state == State.STOPPING) {
            if (code == Main.EXIT_OK) {
                log.info("{} {}", w, how);
            } else {
                // killed past the shutdown timeout or told to STOP, with requests in flight: the stop dropped work
                log.warn("{} {}{}", w, how, code == WorkerMain.EXIT_REQUESTS_CUT ? " (requests in flight were cut)"
                        : "");
                if (exitCode == Main.EXIT_OK) {
                    exitCode = Main.EXIT_FORCED_STOP;
                }
            }
            finishIfAllExited();
            return;
        }
        if (expected) {
            log.info("{} {}", w, how);
        } else if (code == WorkerMain.EXIT_APP_LOAD_FAILED && !failedReload) {
            // respawning cannot fix the app: halt, as gunicorn does on APP_LOAD_ERROR
            log.error("cannot load the app: {}; stopping", appLoadError(w));
            stop("the app failed to load", Main.EXIT_APP_LOAD_FAILED);
            return;
        } else if (failedReload) {
            log.error("{} {} before it was ready; reload to generation {} aborted, the workers serving now stay{}",
                    w, how, newestGeneration, followingLines(w));
            logLastLines(w, true);
            lastReload = "generation " + newestGeneration + " aborted: " + w + " " + how + " before it was ready";
            abortReload();
        } else {
            Duration uptime = Duration.ofNanos(System.nanoTime() - (w.wasReady ? w.readyNanos : w.spawnedNanos));
            Duration delay = restarts.died(w.wasReady, uptime);
            if (delay == null) {
                log.error("{} {}; {} unstable worker deaths in a row (before READY or within {} ms of it): "
                        + "giving up{}", w, how, restarts.unstableInARow(), options.minUptime.toMillis(),
                        followingLines(w));
                logLastLines(w, true);
                stop("crash loop", Main.EXIT_WORKERS_FAIL_TO_BOOT);
                return;
            }
            log.warn("{} {}; respawning in {} ms{}", w, how, delay.toMillis(), followingLines(w));
            logLastLines(w, false);
            restartCount++;
            inheritedRestarts.add(w.restarts + 1);
            while (inheritedRestarts.size() > desired) {
                inheritedRestarts.poll();
            }
            noSpawnBeforeNanos = System.nanoTime() + delay.toNanos();
        }
        manageWorkers();
    }

    /** Periodic: late heartbeats, boot and drain timeouts. */
    private void checkWorkers() {
        if (!waiting.isEmpty()) {
            // a worker may have become able to take connections without an event saying so (time passed)
            dispatchWaiting();
        }
        long now = System.nanoTime();
        if (log.isDebugEnabled() && now - accountNanos >= DEBUG_INTERVAL_NANOS) {
            debugAccount(now);
        }
        for (WorkerProcess w : List.copyOf(workers)) {
            switch (w.state) {
                case STARTING -> {
                    if (!w.killed && now - w.spawnedNanos > options.bootTimeout.toNanos()) {
                        // its last output is logged with its death
                        log.error("{} not ready within {} ms; killing it", w, options.bootTimeout.toMillis());
                        // not kill(): this death is the worker's failure, counted as such
                        w.killed = true;
                        w.process.destroyForcibly();
                    }
                }
                case READY -> {
                    if (now - w.lastHeartbeatNanos > HEARTBEAT_LATE.toNanos()) {
                        log.warn("{} missed its heartbeat for {} ms; no new connections for it", w,
                                (now - w.lastHeartbeatNanos) / 1_000_000);
                        w.state = WorkerProcess.State.SUSPECT;
                        dispatcher.remove(w);
                        manageWorkers();
                    }
                }
                case SUSPECT -> {
                    if (w.dumpRequestedNanos == 0 && now - w.lastHeartbeatNanos > options.workerTimeout.toNanos()) {
                        log.error("{} timed out: no heartbeat for {} ms; asking for a thread dump (SIGQUIT), then "
                                + "replacing it", w, (now - w.lastHeartbeatNanos) / 1_000_000);
                        w.dumpRequestedNanos = now;
                        w.retiring = true;
                        timeouts++;
                        Posix.signal(w.pid(), Signal.SIGQUIT);
                    } else if (!w.killed && w.dumpRequestedNanos != 0
                            && now - w.dumpRequestedNanos > DUMP_GRACE.toNanos()) {
                        kill(w);
                    }
                }
                case DRAINING -> {
                    long limit = (state == State.STOPPING ? options.shutdownTimeout : options.drainTimeout).toNanos();
                    if (!w.killed && now - w.drainStartedNanos > limit && w.process.isAlive()) {
                        log.warn("{} still busy {} ms after it was told to drain; killing it", w, limit / 1_000_000);
                        kill(w);
                    }
                }
                case EXITED -> { }
            }
        }
    }

    /** DEBUG: what dispatch did since the last account, when it did anything. */
    private void debugAccount(long now) {
        Counts was = countsAtAccount;
        Counts is = new Counts(accepted, handedOff, acknowledged, ackFrames, redispatched);
        if (!is.equals(was) || !waiting.isEmpty()) {
            StringBuilder perWorker = new StringBuilder();
            for (WorkerProcess w : workers) {
                long n = w.takeSentSinceAccount();
                if (n > 0) {
                    perWorker.append(perWorker.length() == 0 ? "" : ", ").append("worker ").append(w.id).append(": ")
                            .append(n);
                }
            }
            log.debug("last {} ms: {} accepted, {} handed off ({}), {} acknowledged in {} frame(s), {} re-dispatched, "
                    + "{} waiting for a worker{}", (now - accountNanos) / 1_000_000, is.accepted - was.accepted,
                    is.handedOff - was.handedOff, perWorker.length() == 0 ? "none" : perWorker,
                    is.acknowledged - was.acknowledged, is.ackFrames - was.ackFrames,
                    is.redispatched - was.redispatched, waiting.size(), acceptor.paused() ? ", accepting paused" : "");
        }
        countsAtAccount = is;
        accountNanos = now;
    }

    // ---- workers ------------------------------------------------------------------------------------------------

    /** Starts and drains workers until the table matches the wanted count and generation. */
    private void manageWorkers() {
        if (state == State.STOPPING) {
            return;
        }
        WorkerPlanner.Plan plan = WorkerPlanner.plan(workers.stream().map(WorkerProcess::view).toList(), desired,
                generation);
        if (plan.spawn() > 0 || !plan.drain().isEmpty()) {
            log.debug("plan for {} worker(s) of generation {}{}: start {}, drain {}", desired, generation,
                    reloading ? " (reloading)" : "", plan.spawn(), plan.drain());
        }
        for (int id : plan.drain()) {
            WorkerProcess w = byId(id);
            drain(w, w.recycle != null ? "recycled" : w.generation < generation ? "replaced by generation "
                    + generation : "scaling down");
        }
        if (plan.spawn() > 0) {
            long wait = noSpawnBeforeNanos - System.nanoTime();
            if (wait > 0) {
                // every heartbeat calls us meanwhile: one wake-up at the end of the delay is enough
                if (!spawnScheduled) {
                    spawnScheduled = true;
                    loop.schedule(() -> {
                        spawnScheduled = false;
                        manageWorkers();
                    }, wait, TimeUnit.NANOSECONDS);
                }
            } else {
                for (int i = 0; i < plan.spawn(); i++) {
                    spawn();
                }
            }
        }
        if (reloading && workers.stream().noneMatch(w -> w.generation < generation
                && WorkerPlanner.active(w.state)) && workers.stream().allMatch(w -> w.generation < generation
                || w.state != WorkerProcess.State.STARTING)) {
            reloading = false;
            log.info("reload complete: generation {} serving", generation);
            lastReload = "generation " + generation + " complete";
            if (reloadQueued) {
                reloadQueued = false;
                reload();
            }
        }
    }

    private void spawn() {
        int id = nextId++;
        WorkerProcess w;
        try {
            Integer restarts = inheritedRestarts.poll();
            w = launcher.start(id, newestGeneration, restarts == null ? 0 : restarts);
        } catch (IOException e) {
            log.error("cannot start worker {}: {}", id, e.getMessage());
            stop("cannot start workers", Main.EXIT_WORKERS_FAIL_TO_BOOT);
            return;
        }
        if (options.maxRequests > 0) {
            w.maxRequests = options.maxRequests + (options.maxRequestsJitter > 0
                    ? java.util.concurrent.ThreadLocalRandom.current().nextLong(options.maxRequestsJitter + 1) : 0);
        }
        workers.add(w);
        w.process.onExit().thenRun(() -> {
            // everything the worker wrote before it died is in the log before its death is
            w.output.awaitEnd(1, TimeUnit.SECONDS);
            loop.execute(() -> exited(w));
        });
        log.debug("spawned {}", w);
    }

    private void maybeReady(WorkerProcess w) {
        if (!w.canBeReady()) {
            return;
        }
        w.state = WorkerProcess.State.READY;
        w.wasReady = true;
        w.readyNanos = System.nanoTime();
        dispatcher.add(w);
        log.info("{} ready in {} ms", w, (w.readyNanos - w.spawnedNanos) / 1_000_000);
        dispatchWaiting();
        if (!announcedReady && dispatcher.size() >= desired) {
            announcedReady = true;
            log.info("ready: {} workers serving on {}", dispatcher.size(), acceptor.localAddress());
            launcher.prepareArchive();
        }
        manageWorkers();
    }

    /**
     * Recycles a worker past a limit: a fresh worker is started, and this one drained once that one is READY, as
     * in a reload. One at a time, never during a reload: capacity never drops.
     */
    private void maybeRecycle(WorkerProcess w) {
        // a recycle lasts until the old worker's process is gone from the table, not just until its sockets close:
        // otherwise the next one starts while that JVM is still exiting, and there are two extra processes
        if (state != State.RUNNING || reloading || w.state != WorkerProcess.State.READY || w.recycle != null
                || workers.stream().anyMatch(o -> o.recycle != null)) {
            return;
        }
        String why = null;
        if (w.maxRequests > 0 && w.stats.requestsServed() >= w.maxRequests) {
            why = "served " + w.stats.requestsServed() + " requests (--max-requests)";
        } else if (options.maxMemory > 0 && w.stats.rssBytes() > options.maxMemory) {
            why = "RSS " + Status.bytes(w.stats.rssBytes()) + " over --max-memory " + Status.bytes(options.maxMemory);
        } else if (options.maxHeapAfterGc > 0 && w.stats.heapAfterGcPercent() >= options.maxHeapAfterGc) {
            why = "heap " + w.stats.heapAfterGcPercent() + "% full after GC (--max-heap-after-gc)";
        }
        if (why != null) {
            log.info("recycling {}: {}", w, why);
            w.recycle = why;
            recycled++;
            manageWorkers();
        }
    }

    private void drain(WorkerProcess w, String why) {
        log.info("draining {}: {}", w, why);
        draining(w);
        w.send(MessageType.DRAIN);
    }

    /** The worker drains (told to, or on its own): no more connections, and its exit is expected. */
    private void draining(WorkerProcess w) {
        w.retiring = true;
        w.state = WorkerProcess.State.DRAINING;
        w.drainStartedNanos = System.nanoTime();
        dispatcher.remove(w);
    }


    private void kill(WorkerProcess w) {
        w.retiring = true;
        w.killed = true;
        w.process.destroyForcibly();
    }

    /** What a reload request came to: started (or queued), or refused, and in words. */
    record Reload(boolean started, String what) {
    }

    private Reload reload() {
        if (state != State.RUNNING) {
            return new Reload(false, "shutting down: no reload");
        }
        if (reloading) {
            reloadQueued = true;
            log.info("reload requested during a reload: queued until generation {} is complete", generation);
            return new Reload(true, "reload queued: it starts once generation " + generation + " is complete");
        }
        String app = AppCheck.problem(options.appJar, options.appClass);
        if (app != null) {
            log.error("reload refused, the workers serving now stay: cannot load the app: {}", app);
            lastReload = "refused: " + app;
            reloadQueued = false;
            return new Reload(false, "reload refused, generation " + generation + " keeps serving: cannot load the "
                    + "app: " + app);
        }
        reloading = true;
        generation = ++newestGeneration;
        log.info("reloading: generation {} replaces the running workers one at a time", generation);
        manageWorkers();
        return new Reload(true, "reloading to generation " + generation);
    }

    /**
     * A new worker failed to start during a reload: every worker serving now stays (old and new generation alike),
     * and nothing more is replaced until the next reload.
     */
    private void abortReload() {
        reloading = false;
        reloadQueued = false;
        generation = workers.stream().filter(w -> WorkerPlanner.active(w.state)).mapToInt(w -> w.generation).min()
                .orElse(newestGeneration);
    }

    private void scale(int n) {
        if (state != State.RUNNING) {
            return;
        }
        if (n < 1) {
            log.warn("not scaling below 1 worker");
            return;
        }
        log.info("scaling from {} to {} worker(s)", desired, n);
        desired = n;
        manageWorkers();
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
            redispatched += orphans.size();
            waiting.addAll(orphans);
            dispatchWaiting();
        }
    }

    /** The reason a worker gave for {@link WorkerMain#EXIT_APP_LOAD_FAILED}, from its last output. */
    private static String appLoadError(WorkerProcess w) {
        List<String> tail = w.output.tail();
        for (int i = tail.size() - 1; i >= 0; i--) {
            int at = tail.get(i).indexOf(WorkerMain.APP_LOAD_FAILED);
            if (at >= 0) {
                return tail.get(i).substring(at + WorkerMain.APP_LOAD_FAILED.length());
            }
        }
        return w + " exited with code " + WorkerMain.EXIT_APP_LOAD_FAILED;
    }

    /** The end of a line that {@link #logLastLines} follows. */
    private static String followingLines(WorkerProcess w) {
        int n = w.output.tail().size();
        return n == 0 ? "" : "; its last " + n + " line(s) of output follow";
    }

    /** A dead worker's last output, each line a log line of its own: tagged, and never glued to another. */
    private static void logLastLines(WorkerProcess w, boolean error) {
        for (String line : w.output.tail()) {
            if (error) {
                log.error("worker {} output: {}", w.id, line);
            } else {
                log.warn("worker {} output: {}", w.id, line);
            }
        }
    }

    // ---- connections --------------------------------------------------------------------------------------------

    private void dispatch(FileDescriptor fd) {
        WorkerProcess w = waiting.isEmpty() ? dispatcher.next(System.nanoTime()) : null;
        if (w != null) {
            handedOff++;
            w.handOff(fd);
            return;
        }
        if (state == State.STOPPING) {
            // no worker will ever take it: say so rather than drop it silently
            log.warn("closing a connection accepted during shutdown: no worker is taking connections");
            WorkerProcess.closeQuietly(fd);
            return;
        }
        // Backpressure: no worker can take a connection now (none READY, or each stalled or at its cap of
        // unacknowledged handoffs). Hold this one and leave the rest in the kernel backlog until one can.
        waiting.add(fd);
        if (!acceptor.paused()) {
            log.debug("no worker can take a connection now; pausing accept");
            acceptor.pause();
        }
    }

    /** Hands the held connections to workers that can take them now; accepts again once none is left. */
    private void dispatchWaiting() {
        WorkerProcess w;
        long now = System.nanoTime();
        while (!waiting.isEmpty() && (w = dispatcher.next(now)) != null) {
            handedOff++;
            w.handOff(waiting.poll());
        }
        flushAll();
        if (state == State.STOPPING && !waiting.isEmpty()) {
            log.warn("closing {} connection(s) that no worker can take: shutting down", waiting.size());
            waiting.forEach(WorkerProcess::closeQuietly);
            waiting.clear();
        }
        if (acceptor.paused() && waiting.isEmpty() && state == State.RUNNING) {
            log.debug("accepting again");
            acceptor.resume();
        }
    }

    /**
     * Periodic, with --handoff-timeout: connections a worker has not picked up in time (its loop is busy or
     * stopped) are taken back, through the claim slots, and given to other workers; the dispatcher gives the slow
     * worker nothing more until it acknowledges.
     */
    private void revokeStaleHandoffs() {
        long now = System.nanoTime();
        long timeout = options.handoffTimeout.toNanos();
        boolean any = false;
        for (WorkerProcess w : workers) {
            if (w.state == WorkerProcess.State.EXITED) {
                continue;
            }
            List<FileDescriptor> back = w.revokeStale(now, timeout);
            if (!back.isEmpty()) {
                // on an overloaded machine this can happen often: one line a second says how often
                revokedSinceLog += back.size();
                if (now - lastRevokeLogNanos >= REVOKE_LOG_INTERVAL_NANOS) {
                    log.info("{} did not pick up {} connection(s) within {} ms; handing them to other workers{}", w,
                            back.size(), options.handoffTimeout.toMillis(), revokedSinceLog > back.size()
                                    ? " (" + revokedSinceLog + " taken back since the last such line)" : "");
                    lastRevokeLogNanos = now;
                    revokedSinceLog = 0;
                }
                redispatched += back.size();
                waiting.addAll(back);
                any = true;
            }
        }
        if (any) {
            dispatchWaiting();
        }
    }

    private void flushAll() {
        for (WorkerProcess w : workers) {
            if (w.state != WorkerProcess.State.EXITED) {
                w.flush();
            }
        }
    }

    // ---- shutdown -----------------------------------------------------------------------------------------------

    /**
     * Stops the server: after --drain-delay for a clean stop (a signal, the stop command), at once for a failure (a
     * crash loop, an app that cannot load).
     */
    private void stop(String why, int code) {
        if (state == State.STOPPING) {
            return;
        }
        if (state == State.LAME_DUCK || code != Main.EXIT_OK || options.drainDelay.isZero()) {
            beginDrain(why, code);
            return;
        }
        state = State.LAME_DUCK;
        log.info("shutting down ({}): readiness answers 503 from now; serving {} ms more (--drain-delay), then "
                + "draining", why, options.drainDelay.toMillis());
        drainDelayEnd = loop.schedule(() -> beginDrain(why + ", after the drain delay", Main.EXIT_OK),
                options.drainDelay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Closes the listener and drains every worker; the master exits once they all have. */
    private void beginDrain(String why, int code) {
        if (state == State.STOPPING) {
            return;
        }
        if (drainDelayEnd != null) {
            drainDelayEnd.cancel(false);
        }
        state = State.STOPPING;
        exitCode = code;
        acceptor.close();
        int live = 0;
        for (WorkerProcess w : workers) {
            if (w.state != WorkerProcess.State.EXITED) {
                live++;
                if (w.state != WorkerProcess.State.DRAINING) {
                    drain(w, why);
                } else {
                    // already draining (reload, scale-down): the shutdown timeout applies from now
                    w.drainStartedNanos = System.nanoTime();
                }
            }
        }
        if (!waiting.isEmpty()) {
            log.warn("closing {} connection(s) that no worker was ready to take", waiting.size());
            waiting.forEach(WorkerProcess::closeQuietly);
            waiting.clear();
        }
        log.info("shutting down ({}): draining {} worker(s), up to {} ms", why, live,
                options.shutdownTimeout.toMillis());
        finishIfAllExited();
    }

    /** Tells every worker to exit without draining; kills those still there a moment later. */
    private void stopNow(String why) {
        log.warn("{}: stopping workers now, without waiting for in-flight requests", why);
        for (WorkerProcess w : workers) {
            w.send(MessageType.STOP);
        }
        loop.schedule(() -> List.copyOf(workers).forEach(this::kill), STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void finishIfAllExited() {
        if (!workers.isEmpty()) {
            return;
        }
        launcher.close();
        handoff.close();
        control.close();
        if (admin != null) {
            admin.close();
        }
        runtimeDir.remove();
        removePidFile();
        cleanedUp = true;
        exit.complete(exitCode);
    }

    /** Runs if the JVM exits another way (an unexpected signal): no worker and no socket file outlives us. */
    private void emergencyCleanup() {
        if (cleanedUp) {
            return;
        }
        for (WorkerProcess w : List.copyOf(workers)) {
            w.process.destroyForcibly();
        }
        if (launcher != null) {
            launcher.close();
        }
        runtimeDir.remove();
        removePidFile();
    }

    private void removePidFile() {
        if (pidFile != null) {
            pidFile.remove();
        }
    }
}
