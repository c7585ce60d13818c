package jcluster.master.supervisor;

import jcluster.common.MessageType;
import jcluster.master.Clock;
import jcluster.master.MasterOptions;
import jcluster.master.handoff.HandoffLedger;
import jcluster.master.handoff.HandoffServer;
import jcluster.master.handoff.Handoffs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The master's workers, live and exiting, and how new ones are started: ids, generations, the restart counts a
 * replacement inherits, the respawn delay after an unexpected death ({@link RestartPolicy}), and each worker's
 * request limit ({@link Recycler}). Confined to the master's loop.
 */
public final class WorkerTable {
    private static final Logger log = LoggerFactory.getLogger(WorkerTable.class);
    private final List<WorkerProcess> workers = new ArrayList<>();
    private final Clock clock;
    private final Launcher launcher;
    private final Handoffs handoffs;
    private final RestartPolicy restarts;
    private final Recycler recycler;
    private final Consumer<WorkerProcess> exited;
    /**
     * The restart counts that the next workers spawned inherit: a worker that dies unexpectedly passes its count
     * plus one to its replacement, so {@code status} shows restarts per worker as pm2 does.
     */
    private final ArrayDeque<Integer> inheritedRestarts = new ArrayDeque<>();
    private int nextId = 1;
    /** How many ids in a row another master may hold. */
    private static final int MAX_TAKEN_IDS = 10_000;
    private long noSpawnBeforeNanos;
    /** A reconcile is already scheduled for the end of the respawn delay. */
    private boolean spawnScheduled;
    private long restartCount;
    private long recycled;
    /** Requests served by workers that have exited, by their last heartbeat: keeps the total monotonic. */
    private long retiredRequests;

    /** @param exited what to do on the loop once a worker's process is gone */
    public WorkerTable(Clock clock, Launcher launcher, Handoffs handoffs, Consumer<WorkerProcess> exited,
                RestartPolicy restarts, Recycler recycler) {
        this.clock = clock;
        this.launcher = launcher;
        this.handoffs = handoffs;
        this.restarts = restarts;
        this.recycler = recycler;
        this.exited = exited;
    }

    /** The table as the flags set it: the restart policy and the recycling limits. */
    public static WorkerTable of(MasterOptions options, Clock clock, Launcher launcher, Handoffs handoffs,
                                 Consumer<WorkerProcess> exited) {
        return new WorkerTable(clock, launcher, handoffs, exited,
                new RestartPolicy(options.restartDelay, options.maxRestarts, options.minUptime),
                new Recycler(options.maxRequests, options.maxRequestsJitter, options.maxMemory,
                        options.maxHeapAfterGc));
    }

    /** The id the next worker gets. */
    public int nextId() {
        return nextId;
    }

    /** Ids from {@code id} on: a new master of an upgrade continues after the old one's. */
    public void startIdsAt(int id) {
        nextId = id;
    }

    /** Every worker whose process has not exited yet, in the order they were started. */
    public List<WorkerProcess> all() {
        return workers;
    }

    public List<WorkerProcess> live() {
        return workers.stream().filter(WorkerProcess::live).toList();
    }

    public boolean isEmpty() {
        return workers.isEmpty();
    }

    /** The live worker with this id, or null. */
    public WorkerProcess byId(int id) {
        for (WorkerProcess w : workers) {
            if (w.id == id && w.live()) {
                return w;
            }
        }
        return null;
    }

    boolean anyRecycling() {
        return workers.stream().anyMatch(WorkerProcess::recycling);
    }

    /**
     * Starts and drains workers until the table matches the wanted count and generation ({@link WorkerPlanner}).
     * During a respawn delay nothing starts; {@code again} runs once at its end.
     * @throws IOException a worker could not be started
     */
    public void reconcile(int desired, RollingReload reload, Runnable again) throws IOException {
        int generation = reload.generation();
        WorkerPlanner.Plan plan = WorkerPlanner.plan(workers.stream().map(WorkerProcess::view).toList(), desired,
                generation);
        if (plan.spawn() > 0 || !plan.drain().isEmpty()) {
            log.debug("plan for {} worker(s) of generation {}{}: start {}, drain {}", desired, generation,
                    reload.reloading() ? " (reloading)" : "", plan.spawn(), plan.drain());
        }
        for (int id : plan.drain()) {
            WorkerProcess w = byId(id);
            // its idle keep-alive connections come back to be served by the workers that stay
            drain(w, w.recycling() ? "recycled" : w.generation < generation ? "replaced by generation " + generation
                    : "scaling down", MessageType.HAND_BACK);
        }
        if (plan.spawn() > 0) {
            long wait = noSpawnBeforeNanos - clock.nanoTime();
            if (wait <= 0) {
                for (int i = 0; i < plan.spawn(); i++) {
                    spawn(reload.newest());
                }
            } else if (!spawnScheduled) {
                // every heartbeat reconciles meanwhile: one wake-up at the end of the delay is enough
                spawnScheduled = true;
                clock.schedule(() -> {
                    spawnScheduled = false;
                    again.run();
                }, Duration.ofNanos(wait));
            }
        }
    }

    /**
     * Takes in the workers a dead master left, before any is started: each is STARTING until it connects again and
     * says READY (or LEAVING, if it was draining), as a new worker would, and the boot timeout applies. Ids go on
     * after the highest adopted; their generation is the wanted one.
     */
    public void adopt(List<Orphans.Orphan> orphans, RollingReload reload) {
        for (Orphans.Orphan o : orphans) {
            try {
                adopt(o);
                reload.continueFrom(o.generation());
            } catch (IOException e) {
                log.warn("cannot adopt worker {} (pid {}) a dead master left: {}", o.id(), o.pid(), e.getMessage());
            }
        }
        if (!workers.isEmpty()) {
            log.info("adopting {} worker(s) a dead master left serving: pids {}", workers.size(),
                    workers.stream().map(WorkerProcess::pid).toList());
        }
    }

    private void adopt(Orphans.Orphan o) throws IOException {
        ProcessHandle handle = ProcessHandle.of(o.pid()).orElseThrow(() -> new IOException("pid " + o.pid()
                + " is gone"));
        WorkerProcess w = new WorkerProcess(o.id(), o.generation(), 0, recycler.maxRequestsForNewWorker(), o.secret(),
                new AdoptedProcess(handle), handoffs.adoptedLedger(o.claims()), clock, handoffs.dispatcher());
        workers.add(w);
        nextId = Math.max(nextId, o.id() + 1);
        w.process.exited().thenRun(() -> clock.execute(() -> exited.accept(w)));
    }

    /**
     * Tells a worker to drain: no more connections for it, and its exit is expected.
     * @param order DRAIN (its idle connections close: a shutdown) or HAND_BACK (they come back to other workers)
     */
    public void drain(WorkerProcess w, String why, MessageType order) {
        log.info("draining {}: {}", w, why);
        w.draining();
        w.send(order);
    }

    /**
     * Starts a worker of this generation, its claim slots made first and freed if it cannot start.
     * @throws IOException naming the worker and why it could not start
     */
    private WorkerProcess spawn(int generation) throws IOException {
        int id = nextId++;
        Integer inherited = inheritedRestarts.poll();
        byte[] secret = HandoffServer.newSecret();
        HandoffLedger ledger = null;
        WorkerProcess w;
        try {
            // the ids of the other master in an upgrade (it shares the runtime directory) are skipped
            for (int tries = 0; ledger == null; tries++) {
                try {
                    ledger = handoffs.newLedger(id);
                } catch (FileAlreadyExistsException e) {
                    if (tries == MAX_TAKEN_IDS) {
                        throw e;
                    }
                    id = nextId++;
                }
            }
            w = new WorkerProcess(id, generation, inherited == null ? 0 : inherited,
                    recycler.maxRequestsForNewWorker(), secret, launcher.start(id, generation, secret, ledger.claimsFile()),
                    ledger, clock, handoffs.dispatcher());
        } catch (IOException | RuntimeException e) {
            if (ledger != null) {
                ledger.release();
            }
            throw new IOException("worker " + id + ": " + e.getMessage(), e);
        }
        workers.add(w);
        w.process.exited().thenRun(() -> clock.execute(() -> exited.accept(w)));
        log.debug("spawned {}", w);
        return w;
    }

    /** Its process is gone: out of the table, its claim slots freed, its requests kept in the total. */
    public void remove(WorkerProcess w) {
        workers.remove(w);
        w.ledger.release();
        retiredRequests += w.requestsServed();
    }

    /**
     * An unexpected death: counted, its replacement inherits its restarts, and the next spawn waits.
     * @param desired the wanted workers: no more restart counts are kept than places to inherit them
     * @return the respawn delay, or null for a crash loop (give up)
     */
    public Duration died(WorkerProcess w, int desired) {
        Duration delay = restarts.died(w.wasReady(), Duration.ofNanos(w.uptimeNanos(clock.nanoTime())));
        if (delay == null) {
            return null;
        }
        restartCount++;
        inheritedRestarts.add(w.restarts + 1);
        while (inheritedRestarts.size() > desired) {
            inheritedRestarts.poll();
        }
        noSpawnBeforeNanos = clock.nanoTime() + delay.toNanos();
        return delay;
    }

    public int unstableInARow() {
        return restarts.unstableInARow();
    }

    public long restartCount() {
        return restartCount;
    }

    /** Requests served by every worker so far, as of their last heartbeats. */
    public long requestsServed() {
        return retiredRequests + live().stream().mapToLong(WorkerProcess::requestsServed).sum();
    }

    /**
     * Recycles a worker past a limit: a fresh worker is started, and this one drained once that one is READY, as
     * in a reload. One at a time, and only a READY one: capacity never drops. A recycle lasts until the old worker's
     * process is gone from the table, not just until its sockets close: otherwise the next one starts while that JVM
     * is still exiting, and there are two extra processes.
     * @return true if it is now to be replaced
     */
    public boolean recycleIfDue(WorkerProcess w) {
        String why = w.state() != WorkerProcess.State.READY || anyRecycling() ? null
                : recycler.why(w.stats(), w.maxRequests);
        if (why == null) {
            return false;
        }
        log.info("recycling {}: {}", w, why);
        w.recycle();
        recycled++;
        return true;
    }

    public long recycled() {
        return recycled;
    }

    /**
     * A worker asked to retire (its app, or an Error that escaped it): no new connection from now, a replacement
     * starts, and it drains once that one is READY, as in a recycle, so the count of READY workers never dips.
     * @return false if it is already on its way out, or already being replaced (a recycle, an earlier RETIRE):
     *         then it only leaves dispatch
     */
    public boolean retireItself(WorkerProcess w) {
        if (!w.live() || w.state() == WorkerProcess.State.DRAINING || w.exitExpected()) {
            return false;
        }
        boolean replacing = w.recycling();
        w.retireItself();
        if (replacing) {
            return false;
        }
        log.info("{} retires itself (its reason is in its log); starting its replacement", w);
        recycled++;
        return true;
    }
}
