package jcluster.master;

import io.netty.channel.unix.FileDescriptor;
import jcluster.common.ExitCodes;
import jcluster.master.handoff.Handoffs;
import jcluster.master.handoff.Listener;
import jcluster.master.ops.ControlAnswers;
import jcluster.master.supervisor.Launcher;
import jcluster.master.systemd.ServiceManager;
import jcluster.master.upgrade.Takeover;
import jcluster.master.upgrade.Upgrade;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * This master among masters, for the arbiter: the upgrade it starts (the old master's side, {@link Upgrade}) and
 * the one that started it (the new master's side, {@link Takeover}). Only the master that serves the port accepts,
 * holds the control socket, the admin port and the pid file, and speaks for the service to systemd; an upgrade
 * moves all of that from the old master to the new one at one moment, the handover, once every worker of the new
 * one is READY. Confined to the master's loop.
 */
final class Succession implements ControlAnswers.Upgrades {
    private static final Logger log = LoggerFactory.getLogger(Succession.class);
    /** On top of two boot timeouts, for a new master's JVM to start. */
    static final Duration UPGRADE_SLACK = Duration.ofSeconds(30);

    private final Clock clock;
    private final Listener listener;
    private final Handoffs handoffs;
    private final ServiceManager systemd;
    private final Upgrade upgrade;
    private final Runnable announceReady;
    private final BiConsumer<String, Integer> drain;
    private final BooleanSupplier running;
    private final IntSupplier nextWorkerId;
    private final CompletableFuture<Void> serving = new CompletableFuture<>();
    private final CompletableFuture<Long> handedOver = new CompletableFuture<>();
    /** Set while this master, started by an upgrade, has not taken over yet. */
    private Takeover takeover;

    /**
     * @param announceReady says the master is ready (log, systemd)
     * @param drain the arbiter's drain: close the listener, drain the workers, exit with the code
     * @param running the arbiter runs (neither in its drain delay nor stopping)
     * @param nextWorkerId the id the arbiter gives its next worker
     */
    Succession(MasterOptions options, Clock clock, Launcher launcher, Listener listener, Handoffs handoffs,
               ServiceManager systemd, Takeover takeover, Runnable announceReady, BiConsumer<String, Integer> drain,
               BooleanSupplier running, IntSupplier nextWorkerId) {
        this.nextWorkerId = nextWorkerId;
        this.clock = clock;
        this.listener = listener;
        this.handoffs = handoffs;
        this.systemd = systemd;
        this.takeover = takeover;
        this.announceReady = announceReady;
        this.drain = drain;
        this.running = running;
        this.upgrade = new Upgrade(clock, launcher, options.bootTimeout.multipliedBy(2).plus(UPGRADE_SLACK));
    }

    /**
     * The arbiter starts: true if this master accepts from now; false for the new master of an upgrade, which
     * accepts only once the old one stops (until then the old one's workers serve).
     */
    boolean startsServing() {
        if (takeover == null) {
            serving.complete(null);
        }
        return takeover == null;
    }

    /** Completes on the loop once this master serves the port: it then holds the control socket and pid file. */
    CompletableFuture<Void> serving() {
        return serving;
    }

    /** Completes on the loop, with the new master's pid, once this one handed over to it. */
    CompletableFuture<Long> handedOver() {
        return handedOver;
    }

    /** Every wanted worker is READY, for the first time: ready; or, in an upgrade, ask the old master to hand over. */
    void ready(int workers) {
        if (takeover == null) {
            announceReady.run();
            return;
        }
        log.info("upgrade: {} worker(s) ready; asking the old master (pid {}) to hand over", workers, takeover.from());
        takeover.handOver(clock, this::tookOver);
    }

    /** The old master answered: null once it stopped accepting, else why not. */
    private void tookOver(String refused) {
        if (!running.getAsBoolean()) {
            return;
        }
        if (refused != null) {
            log.error("upgrade: {}; stopping this master, the old one keeps serving", refused);
            drain.accept("upgrade refused", ExitCodes.FAILURE);
            return;
        }
        log.info("upgrade: took over from the old master (pid {})", takeover.from());
        takeover = null;
        systemd.tookOver();
        handoffs.release();
        serving.complete(null);
        announceReady.run();
    }

    // ---- the old master's side ----------------------------------------------------------------------------------

    @Override
    public Upgrade.Outcome upgrade(List<String> flags) {
        if (!running.getAsBoolean()) {
            return new Upgrade.Outcome(false, "shutting down: no upgrade");
        }
        if (takeover != null) {
            return new Upgrade.Outcome(false, "this master is itself taking over from pid " + takeover.from());
        }
        return upgrade.start(nextWorkerId.getAsInt(), flags);
    }

    /** The upgrade signal: as the command, its refusal logged. */
    void upgrade(String signal) {
        Upgrade.Outcome u = upgrade(List.of());
        if (!u.started()) {
            log.warn("{}: no upgrade: {}", signal, u.what());
        }
    }

    @Override
    public FileDescriptor listenerFor(long pid) {
        if (!upgrade.isSuccessor(pid)) {
            log.warn("refused the listening socket to pid {}: not a new master this one started", pid);
            return null;
        }
        // a copy of the int: the master keeps its own socket open
        return new FileDescriptor(listener.fd());
    }

    @Override
    public String handOver(long pid) {
        if (!upgrade.isSuccessor(pid) || !running.getAsBoolean()) {
            return "pid " + pid + " is not a new master this one (pid " + ProcessHandle.current().pid()
                    + ") is upgrading to" + (running.getAsBoolean() ? "" : "; this one is shutting down");
        }
        upgrade.handedOver();
        systemd.handedOver(pid);
        handedOver.complete(pid);
        drain.accept("upgraded: pid " + pid + " serves from now", ExitCodes.OK);
        return null;
    }

    /** The pid this master handed over to, or -1: that process outlives this one. */
    long successorPid() {
        return upgrade.successorPid();
    }

    void check(long now) {
        upgrade.check(now);
    }

    /** The arbiter drains: a new master not yet serving stops too. */
    void stopping() {
        upgrade.abandon();
    }

    /** The upgrade in progress or the last one, for {@code status}; null if none. */
    String upgradeStatus() {
        return takeover != null ? "from pid " + takeover.from() + ": starting" : upgrade.last();
    }
}
