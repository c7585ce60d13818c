package jcluster.master.upgrade;

import jcluster.master.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import jcluster.master.supervisor.Launcher;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A master upgrade, seen from the master it replaces. {@code upgrade} on the control socket (or SIGUSR2) starts a
 * new master ({@link Launcher#startMaster}: this one's command line, so the jar on disk). The new master
 * ({@link Takeover}) asks this one for the listening socket over the control socket (passed with SCM_RIGHTS, only
 * to the pid started here), starts its own workers, and once they are all READY asks this one to hand over: this
 * one then tells systemd the new main pid, stops accepting, drains its workers and exits, while the new one
 * accepts on the same socket. No connection is refused meanwhile: both accept from one kernel backlog.
 * <p>If the new master exits first, or is not serving within {@link #bound}, it is stopped (SIGTERM: it drains
 * what it started) and this one keeps serving; {@link #last} says why. Confined to the master's loop.
 */
public final class Upgrade {
    private static final Logger log = LoggerFactory.getLogger(Upgrade.class);
    /** In the new master's environment: the pid of the master it takes over from. */
    public static final String FROM = "JCLUSTER_UPGRADE_FROM";
    /** In the new master's environment: the id its first worker gets, after the old master's. */
    public static final String FIRST_ID = "JCLUSTER_UPGRADE_FIRST_ID";
    /** Variables systemd meant for this process only: a socket activation is not the new master's. */
    private static final List<String> NOT_INHERITED = List.of("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES");

    private final Clock clock;
    private final Launcher launcher;
    private final Duration bound;
    private ProcessHandle successor;
    private long startedNanos;
    private boolean handedOver;
    private String last;

    /** @param bound how long the new master has to start and have its workers READY */
    public Upgrade(Clock clock, Launcher launcher, Duration bound) {
        this.clock = clock;
        this.launcher = launcher;
        this.bound = bound;
    }

    /** What {@code upgrade} did: started, or why not. */
    public record Outcome(boolean started, String what) {
    }

    /**
     * Starts the new master, unless one is starting already.
     * @param nextWorkerId the id this master would give its next worker: the new master's first
     * @param flags the new master's flags, in place of this one's; empty for this one's
     */
    public Outcome start(int nextWorkerId, List<String> flags) {
        if (successor != null) {
            return new Outcome(false, "an upgrade is in progress already: pid " + successor.pid() + " is starting");
        }
        Map<String, String> env = new HashMap<>();
        NOT_INHERITED.forEach(name -> env.put(name, null));
        env.put(FROM, Long.toString(ProcessHandle.current().pid()));
        env.put(FIRST_ID, Integer.toString(nextWorkerId));
        try {
            successor = launcher.startMaster(env, flags);
        } catch (IOException e) {
            last = "failed: cannot start a new master: " + e.getMessage();
            log.error("upgrade {}", last);
            return new Outcome(false, last);
        }
        startedNanos = clock.nanoTime();
        ProcessHandle p = successor;
        p.onExit().thenRun(() -> clock.execute(() -> exited(p)));
        last = null;
        log.info("upgrade: started a new master, pid {}", p.pid());
        return new Outcome(true, "new master pid " + p.pid() + " starting; it takes over once its workers are "
                + "ready ('status' then shows its pid)");
    }

    /** The process asking is the new master this one started, and has not been handed over to yet. */
    public boolean isSuccessor(long pid) {
        return successor != null && !handedOver && successor.pid() == pid && successor.isAlive();
    }

    /** The new master serves from now: it is no longer watched, and outlives this one. */
    public void handedOver() {
        handedOver = true;
        last = "handed over to pid " + successor.pid();
    }

    /** The pid this master handed over to, or -1: it must outlive this one, whatever this one's exit. */
    public long successorPid() {
        return handedOver ? successor.pid() : -1;
    }

    /** Periodic: a new master not serving within the bound is stopped. */
    public void check(long now) {
        if (successor != null && !handedOver && now - startedNanos > bound.toNanos() && successor.isAlive()) {
            log.error("upgrade: the new master (pid {}) is not serving after {} s; stopping it, still serving",
                    successor.pid(), bound.toSeconds());
            last = "failed: the new master (pid " + successor.pid() + ") was not serving within " + bound.toSeconds()
                    + " s";
            successor.destroy();
        }
    }

    /** This master stops before the new one took over: so does the new one. */
    public void abandon() {
        if (successor != null && !handedOver && successor.isAlive()) {
            log.info("upgrade: stopping the new master (pid {}) too", successor.pid());
            successor.destroy();
        }
    }

    private void exited(ProcessHandle p) {
        if (p != successor || handedOver) {
            return;
        }
        if (last == null) {
            // not this master's child: its exit code is not this master's to read, its own lines say why
            last = "failed: the new master (pid " + p.pid() + ") exited before it was serving; see its lines above";
            log.error("upgrade {}; this master (pid {}) keeps serving", last, ProcessHandle.current().pid());
        }
        successor = null;
    }

    /** The upgrade in progress or the last one, for {@code status}; null if there was none. */
    public String last() {
        if (successor != null && !handedOver) {
            return "to pid " + successor.pid() + ": starting for "
                    + Duration.ofNanos(clock.nanoTime() - startedNanos).toSeconds() + " s";
        }
        return last;
    }
}
