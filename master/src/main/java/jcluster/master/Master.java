package jcluster.master;

import io.netty.channel.Channel;
import io.netty.channel.unix.FileDescriptor;
import jcluster.common.ExitCodes;
import jcluster.common.Frame;
import jcluster.common.MessageType;
import jcluster.common.Signals;
import jcluster.master.handoff.HandoffServer;
import jcluster.master.handoff.Handoffs;
import jcluster.master.handoff.Listener;
import jcluster.master.ops.ControlAnswers;
import jcluster.master.ops.Status;
import jcluster.master.supervisor.Launcher;
import jcluster.master.supervisor.Orphans;
import jcluster.master.supervisor.RollingReload;
import jcluster.master.supervisor.WorkerDeath;
import jcluster.master.supervisor.WorkerPlanner;
import jcluster.master.supervisor.WorkerProcess;
import jcluster.master.supervisor.WorkerTable;
import jcluster.master.supervisor.WorkerWatchdog;
import jcluster.master.systemd.ServiceManager;
import jcluster.master.upgrade.Takeover;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The arbiter: owns the worker table, the server's state and its exit code. Everything here runs on one thread,
 * the master's event loop (its {@link Clock}): frames from workers, process exits, signals, control commands and the
 * periodic check are all events posted to it, so nothing is shared and nothing is locked. After each event,
 * {@link #manageWorkers} brings the table towards the wanted count and generation. Its parts: {@link Handoffs}
 * (connections), {@link RollingReload}, {@link WorkerWatchdog} (timeouts), {@link Recycler}, {@link RestartPolicy},
 * {@link WorkerPlanner}; {@link MasterServer} opens and closes what it runs on.
 * <ul>
 *   <li>RUNNING: accept; hand each connection to the next READY worker; respawn dead workers; reload; scale.</li>
 *   <li>RUNNING → LAME_DUCK: SIGTERM, SIGINT or {@code stop} with a --drain-delay. Readiness turns 503 at once; the
 *   listener keeps accepting and the workers keep serving (and are respawned) until the delay ends or another
 *   such signal comes.</li>
 *   <li>RUNNING or LAME_DUCK → STOPPING: the same without a delay (exit 0), or a crash loop (exit 3) or an app that
 *   cannot load (exit 4). The listener closes, workers drain; past the shutdown timeout they are killed. Another
 *   SIGTERM or SIGINT stops them at once.</li>
 *   <li>STOPPING → done: every worker process has exited. A worker that did not drain cleanly (killed, or it
 *   reported requests cut) makes a clean stop's exit code 5.</li>
 * </ul>
 */
final class Master implements HandoffServer.Workers, ControlAnswers.Operations {
    private static final Logger log = LoggerFactory.getLogger(Master.class);
    /** How long a worker told to STOP has before it is killed. */
    static final Duration STOP_GRACE = Duration.ofSeconds(1);
    static final Duration CHECK_INTERVAL = Duration.ofMillis(100);

    private enum State { RUNNING, LAME_DUCK, STOPPING }

    private final MasterOptions options;
    private final Clock clock;
    private final Launcher launcher;
    private final WorkerTable workers;
    private final Handoffs handoffs;
    private final RollingReload reload;
    private final WorkerWatchdog watchdog;
    private final ServiceManager systemd;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final Succession succession;
    private final long startedNanos;
    private final Listener listener;
    private final jcluster.master.messages.MessageRouter messages = new jcluster.master.messages.MessageRouter();
    private State state = State.RUNNING;
    private int exitCode = ExitCodes.OK;
    private int desired;
    private boolean announcedReady;
    /** Cancels the end of the drain delay, while in LAME_DUCK. */
    private Runnable drainDelayEnd;

    /**
     * @param handoffs where the listener sends accepted connections
     * @param appProblem why the app on disk cannot be loaded now, or null: asked before each reload
     * @param takeover the upgrade that started this master, or null
     */
    Master(MasterOptions options, Clock clock, Launcher launcher, Listener listener, Handoffs handoffs,
           Supplier<String> appProblem, ServiceManager systemd, Takeover takeover) {
        this.systemd = systemd;
        this.options = options;
        this.listener = listener;
        this.clock = clock;
        this.launcher = launcher;
        this.startedNanos = clock.nanoTime();
        this.desired = options.workers;
        this.handoffs = handoffs;
        this.reload = new RollingReload(appProblem, systemd);
        this.watchdog = WorkerWatchdog.of(options);
        this.workers = WorkerTable.of(options, clock, launcher, handoffs, this::exited);
        this.succession = new Succession(options, clock, launcher, listener, handoffs, systemd, takeover,
                this::announceReady, this::beginDrain, () -> state == State.RUNNING, workers::nextId);
        if (takeover != null) {
            workers.startIdsAt(takeover.firstWorkerId());
        }
    }

    /**
     * Starts the workers and the periodic check; on the loop. Completes {@link #exit} once done.
     * @param orphans workers a dead master left serving: adopted, and only what is missing is started
     */
    void start(Path runtimeDir, List<Orphans.Orphan> orphans) {
        workers.adopt(orphans, reload);
        handoffs.takeFrom(listener, workers.all(), succession.startsServing());
        clock.every(this::check, CHECK_INTERVAL);
        systemd.starting(desired);
        if (systemd.watchdogInterval() != null) {
            clock.every(systemd::watchdog, systemd.watchdogInterval());
        }
        manageWorkers();
        if (options.proxyProtocol && handoffs.dispatcher().keyed()) {
            log.warn("--dispatch=sticky with --proxy-protocol hashes the load balancer's address, not the client's "
                    + "(the client's is in a header the master never reads): every connection from one balancer "
                    + "goes to one worker; let the balancer keep clients sticky and dispatch by round-robin here");
        }
        log.info("listening on {} (backlog {}), runtime dir {}, {} worker(s): pids {}", listener.localAddress(),
                options.backlog, runtimeDir, workers.all().size(), workers.all().stream().map(WorkerProcess::pid)
                        .toList());
    }

    /** The exit code, once every worker has exited after a stop. */
    CompletableFuture<Integer> exit() {
        return exit;
    }

    /** This master among masters: serving the port, or the old or the new one of an upgrade. */
    Succession succession() {
        return succession;
    }

    // ---- events -------------------------------------------------------------------------------------------------

    void onSignal(String name) {
        switch (name) {
            // graceful stop (after --drain-delay); during the delay, drain now; while draining, stop at once
            case "TERM", "INT" -> {
                switch (state) {
                    case RUNNING -> stop("SIG" + name, ExitCodes.OK);
                    case LAME_DUCK -> beginDrain("SIG" + name + " again, during the drain delay", ExitCodes.OK);
                    case STOPPING -> stopNow("SIG" + name + " again");
                }
            }
            // rolling reload: replace every worker, one at a time
            case "HUP" -> reload();
            // one worker more
            case "TTIN" -> scale(desired + 1);
            // one worker less
            case "TTOU" -> scale(desired - 1);
            // nginx's "reopen logs": the workers open the access log's path again
            case "USR1" -> reopenLogs("SIGUSR1");
            // nginx's and gunicorn's "upgrade the master"
            case "USR2" -> succession.upgrade("SIGUSR2");
            // any other signal that would end the JVM: a stray kill must not take the server down
            default -> log.warn("ignoring SIG{}: it means nothing to the master", name);
        }
    }

    @Override
    public Status status() {
        long now = clock.nanoTime();
        List<WorkerProcess> live = workers.live();
        return new Status(ProcessHandle.current().pid(), Main.version(), (now - startedNanos) / 1_000_000,
                options.appName(), listener.localAddress(), desired, reload.generation(), reload.reloading(),
                state != State.RUNNING, handoffs.accepted(), handoffs.handedOff(), handoffs.redispatched(), handoffs.handedBack(),
                workers.restartCount(), workers.recycled(), watchdog.timeouts(), workers.requestsServed(),
                messages.routed(), messages.dropped(),
                reload.last(), succession.upgradeStatus(), live.stream().map(w -> w.status(now)).toList());
    }

    @Override
    public WorkerProcess byId(int id) {
        return workers.byId(id);
    }

    @Override
    public void attached(WorkerProcess w, Frame.ChannelKind kind, Channel ch) {
        if (!w.attach(kind, ch)) {
            broken(w, "opened a second " + kind + " socket");
            return;
        }
        maybeReady(w);
    }

    @Override
    public void frame(WorkerProcess w, Frame f) {
        switch (f.type()) {
            // the worker's HTTP stack is up and answered its self-probe
            case READY -> {
                w.sentReady();
                maybeReady(w);
            }
            // it holds these connections now: close our copies
            case ACK -> {
                if (!handoffs.acknowledged(w, f.ackCount())) {
                    broken(w, "acknowledged " + f.ackCount() + " connections with " + w.unacked() + " outstanding");
                }
            }
            // heartbeat from its event loop; back in time, unless it already timed out
            case STATS -> {
                w.heartbeat(f.stats());
                // recycling replaces like a reload, so never during one
                if (state == State.RUNNING && !reload.reloading() && workers.recycleIfDue(w)) {
                    manageWorkers();
                }
                if (w.answersAgain()) {
                    log.info("{} answers again; giving it connections", w);
                    handoffs.dispatchWaiting();
                }
            }
            // drained; its exit follows
            case BYE -> log.info("{} drained", w);
            // its app asked to retire it: out of dispatch now, replaced, then drained
            case RETIRE -> {
                if (state == State.RUNNING && workers.retireItself(w)) {
                    manageWorkers();
                }
            }
            // an app's message to other workers: routed by its target, never read
            case MESSAGE -> {
                if (messages.route(w, f, workers.all()) < 0) {
                    log.debug("{} sent a message to worker {}, which is not live: dropped", w,
                            jcluster.common.Message.peerOf(f));
                }
            }
            // it drains on its own (a signal sent to it): expected, and capacity is restored at once
            case LEAVING -> {
                if (w.state() != WorkerProcess.State.DRAINING && w.live()) {
                    log.info("{} drains on its own ({}); starting its replacement", w, f.leavingSignal() == 0
                            ? "it was draining when its master died" : Signals.name(f.leavingSignal()));
                    w.draining();
                    manageWorkers();
                }
            }
            default -> broken(w, "sent " + f.type() + ", which only the master sends");
        }
    }

    @Override
    public void broken(WorkerProcess w, String why) {
        if (!w.live()) {
            return;
        }
        if (!w.exitExpected()) {
            log.warn("{} lost: {}; killing it", w, why);
            w.killAsFailed();
        }
        // a worker on its way out closes its sockets as it exits; its exit is what counts
        handoffs.orphaned(w, w.retire());
    }

    @Override
    public void handedBack(WorkerProcess w, FileDescriptor fd) {
        handoffs.handedBack(fd);
    }

    /** The process is gone (its output relayed to the end). */
    private void exited(WorkerProcess w) {
        boolean failedReload = reload.failsReload(w);
        handoffs.orphaned(w, w.retire());
        workers.remove(w);
        if (state == State.STOPPING) {
            if (!WorkerDeath.stoppedCleanly(w) && exitCode == ExitCodes.OK) {
                // killed past the shutdown timeout or told to STOP, with requests in flight: the stop dropped work
                exitCode = ExitCodes.FORCED_STOP;
            }
            finishIfAllExited();
            return;
        }
        switch (WorkerDeath.judge(w, failedReload)) {
            case EXPECTED -> { }
            // respawning cannot fix the app: halt, as gunicorn does on APP_LOAD_ERROR
            case APP_LOAD_FAILED -> {
                stop("the app failed to load", ExitCodes.APP_LOAD_FAILED);
                return;
            }
            case RELOAD_FAILED -> reload.abort(w + " " + WorkerDeath.how(w) + " before it was ready", workers.all());
            case CRASH -> {
                Duration delay = workers.died(w, desired);
                WorkerDeath.crashed(w, delay, workers.unstableInARow(), options.minUptime);
                if (delay == null) {
                    stop("crash loop", ExitCodes.CRASH_LOOP);
                    return;
                }
            }
        }
        manageWorkers();
    }

    /** Periodic: the timeouts, and connections waiting for a worker. */
    private void check() {
        long now = clock.nanoTime();
        handoffs.tick(now);
        succession.check(now);
        if (watchdog.check(workers.all(), now, state == State.STOPPING)) {
            manageWorkers();
        }
    }

    // ---- workers ------------------------------------------------------------------------------------------------

    /** Starts and drains workers until the table matches the wanted count and generation. */
    private void manageWorkers() {
        if (state == State.STOPPING) {
            return;
        }
        try {
            handoffs.dispatcher().slots(desired);
            workers.reconcile(desired, reload, this::manageWorkers);
        } catch (IOException e) {
            log.error("cannot start {}", e.getMessage());
            stop("cannot start workers", ExitCodes.CRASH_LOOP);
            return;
        }
        if (reload.completeIf(workers.all())) {
            reload();
        }
    }

    private void maybeReady(WorkerProcess w) {
        if (!w.becomeReady()) {
            return;
        }
        log.info("{} ready in {} ms", w, (clock.nanoTime() - w.spawnedNanos()) / 1_000_000);
        handoffs.dispatchWaiting();
        if (!announcedReady && handoffs.dispatcher().size() >= desired) {
            announcedReady = true;
            // at once; or, for the new master of an upgrade, once the old one handed over
            succession.ready(handoffs.dispatcher().size());
        }
        manageWorkers();
    }

    private void announceReady() {
        log.info("ready: {} workers serving on {}", handoffs.dispatcher().size(), listener.localAddress());
        systemd.ready(handoffs.dispatcher().size(), listener.localAddress(), listener.fd());
        launcher.prepareArchive();
    }


    /** A rolling reload, as SIGHUP. */
    RollingReload.Outcome reload() {
        return reload(null);
    }

    @Override
    public RollingReload.Outcome reload(java.util.function.Consumer<RollingReload.Ending> ended) {
        if (state != State.RUNNING) {
            return new RollingReload.Outcome(false, "shutting down: no reload");
        }
        RollingReload.Outcome r = reload.request(() -> desired,
                () -> options.configSource == null ? null : reconfigure(), ended);
        if (r.started()) {
            manageWorkers();
        }
        return r;
    }

    /**
     * Reads the --config file again, as a reload does: the worker flags it changed take effect with this reload,
     * {@code workers} as a scale; what else changed needs an upgrade, and the log says which. A file that no longer
     * holds (bad syntax, a bad value, an app that cannot load) refuses the reload, and nothing changes.
     * @return why the reload is refused, or null
     */
    private String reconfigure() {
        MasterOptions fresh;
        try {
            fresh = Main.reread(options.configSource);
            if (!fresh.workerJvmOpts.equals(options.workerJvmOpts)) {
                String refused = jcluster.master.supervisor.WorkerJvm.refusal(
                        jcluster.master.supervisor.WorkerJvm.split(fresh.workerJvmOpts));
                if (refused != null) {
                    throw new Main.Refused("--worker-jvm-opts: the JVM refuses them: " + refused);
                }
            }
        } catch (Main.Refused e) {
            return e.getMessage();
        }
        List<Reconfiguration.Change> changes = Reconfiguration.diff(options, fresh);
        List<Reconfiguration.Change> now = changes.stream().filter(Reconfiguration.Change::applied).toList();
        List<Reconfiguration.Change> later = changes.stream().filter(c -> !c.applied()).toList();
        Reconfiguration.apply(changes, options);
        if (now.stream().anyMatch(c -> c.flag().equals("--worker-jvm-opts"))) {
            launcher.jvmOptionsChanged();
        }
        if (now.stream().anyMatch(c -> c.flag().equals("--workers"))) {
            desired = fresh.workers;
        }
        log.info("{} read again: {}{}", options.configSource.file(), now.isEmpty() ? "no change for the workers"
                : "with this reload " + now.stream().map(Object::toString).collect(Collectors.joining(", ")),
                later.isEmpty() ? "" : "; needs an upgrade (master.jar upgrade) to change: "
                        + later.stream().map(Object::toString).collect(Collectors.joining(", ")));
        return null;
    }

    @Override
    public String send(int target, String topic, byte[] data) {
        int queued = messages.route(null, new jcluster.common.Message(target, topic, data).frame(), workers.all());
        if (queued < 0) {
            return null;
        }
        return "queued for " + queued + " worker(s)";
    }

    @Override
    public String reopenLogs(String why) {
        int told = 0;
        for (WorkerProcess w : workers.all()) {
            if (w.live()) {
                w.send(MessageType.REOPEN_LOGS);
                told++;
            }
        }
        String what = options.accessLog == null ? "no access log: nothing to reopen (the server's own lines go to "
                + "stderr)" : "-".equals(options.accessLog) ? "the access log is stdout: nothing to reopen"
                : told + " worker(s) reopen " + options.accessLog;
        log.info("{}: {}", why, what);
        return what;
    }

    @Override
    public void scale(int n) {
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

    // ---- shutdown -----------------------------------------------------------------------------------------------

    @Override
    public String stop() {
        if (state != State.RUNNING) {
            return "already stopping";
        }
        stop("stop through the control socket", ExitCodes.OK);
        return state == State.LAME_DUCK ? "stopping: serving " + options.drainDelay.toMillis()
                + " ms more (--drain-delay), then draining" : "stopping";
    }

    /**
     * Stops the server: after --drain-delay for a clean stop (a signal, the stop command), at once for a failure (a
     * crash loop, an app that cannot load).
     */
    private void stop(String why, int code) {
        if (state == State.STOPPING) {
            return;
        }
        if (state == State.RUNNING) {
            systemd.stopping(why);
        }
        reload.stopping(why);
        if (state == State.LAME_DUCK || code != ExitCodes.OK || options.drainDelay.isZero()) {
            beginDrain(why, code);
            return;
        }
        state = State.LAME_DUCK;
        log.info("shutting down ({}): readiness answers 503 from now; serving {} ms more (--drain-delay), then "
                + "draining", why, options.drainDelay.toMillis());
        drainDelayEnd = clock.schedule(() -> beginDrain(why + ", after the drain delay", ExitCodes.OK),
                options.drainDelay);
    }

    /** Closes the listener and drains every worker; the master exits once they all have. */
    private void beginDrain(String why, int code) {
        if (state == State.STOPPING) {
            return;
        }
        if (drainDelayEnd != null) {
            drainDelayEnd.run();
        }
        state = State.STOPPING;
        exitCode = code;
        succession.stopping();
        listener.close();
        handoffs.stop();
        int live = 0;
        for (WorkerProcess w : workers.all()) {
            if (w.live()) {
                live++;
                if (w.state() != WorkerProcess.State.DRAINING) {
                    workers.drain(w, why, MessageType.DRAIN);
                } else {
                    // already draining (reload, scale-down): the shutdown timeout applies from now
                    w.restartDrainClock();
                }
            }
        }
        log.info("shutting down ({}): draining {} worker(s), up to {} ms", why, live,
                options.shutdownTimeout.toMillis());
        finishIfAllExited();
    }

    /** Tells every worker to exit without draining; kills those still there a moment later. */
    private void stopNow(String why) {
        log.warn("{}: stopping workers now, without waiting for in-flight requests", why);
        workers.all().forEach(w -> w.send(MessageType.STOP));
        clock.schedule(() -> List.copyOf(workers.all()).forEach(WorkerProcess::kill), STOP_GRACE);
    }

    private void finishIfAllExited() {
        if (workers.isEmpty()) {
            exit.complete(exitCode);
        }
    }
}
