package jcluster.master.supervisor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Generations and the rolling reload between them. A reload makes a new generation the wanted one; the
 * {@link WorkerPlanner} then replaces the older workers one at a time, each drained only once a new one is READY.
 * A reload asked for during one is queued (one at most) and starts when this one completes; one whose new worker
 * dies before READY is aborted: every worker serving stays, and nothing more is replaced until the next reload. An
 * app that cannot be loaded, or a --config file that no longer holds, is refused before anything is replaced.
 * Whoever asked for a reload may wait for its end ({@code reload --wait}, systemd's {@code ExecReload=}): it is told
 * once, when the reload completes, aborts, is refused or is cut short by a stop. Confined to the master's loop.
 */
public final class RollingReload {
    private static final Logger log = LoggerFactory.getLogger(RollingReload.class);

    /** Who is told when a reload starts, ends (complete or aborted) or is refused: the service manager. */
    public interface Observer {
        Observer NONE = new Observer() {
            @Override
            public void reloading(int generation, int workers) {
            }

            @Override
            public void reloadEnded(String how) {
            }

            @Override
            public void reloadRefused(String why) {
            }
        };

        /** Generation {@code generation} replaces {@code workers} workers, one at a time. */
        void reloading(int generation, int workers);

        /** "generation N complete" or "generation N aborted: why". */
        void reloadEnded(String how);

        void reloadRefused(String why);
    }

    /** What a reload request came to: started (or queued), or refused, and in words. */
    public record Outcome(boolean started, String what) {
    }

    /** How a reload someone waits on ended: complete, or not (aborted, refused, cut short), and in words. */
    public record Ending(boolean complete, String how) {
    }

    /** Why the app on disk cannot be loaded now, or null. */
    private final Supplier<String> appProblem;
    private final Observer observer;
    /** Workers of an older generation than this are replaced by a reload in progress. */
    private int generation = 1;
    /** The generation new workers are labelled with: the latest reload's. */
    private int newest = 1;
    private boolean reloading;
    private boolean queued;
    /** How the last reload ended, for status: "generation N complete" or "generation N aborted: why". */
    private String last;
    /** Waiting for the end of the reload in progress, and of the one queued behind it. */
    private List<Consumer<Ending>> waiting = new ArrayList<>();
    private List<Consumer<Ending>> waitingQueued = new ArrayList<>();

    public RollingReload(Supplier<String> appProblem, Observer observer) {
        this.appProblem = appProblem;
        this.observer = observer;
    }

    /** Adopted workers of this generation serve: it is the wanted one, not one to replace. */
    public void continueFrom(int adopted) {
        generation = Math.max(generation, adopted);
        newest = Math.max(newest, adopted);
    }

    /** The wanted generation: older workers are replaced. */
    public int generation() {
        return generation;
    }

    /** The generation of the workers started from now on. */
    int newest() {
        return newest;
    }

    public boolean reloading() {
        return reloading;
    }

    public String last() {
        return last;
    }

    /**
     * A reload is asked for (SIGHUP, the reload command); the caller then brings the table towards it. During a
     * reload it is queued, and checked only when it starts.
     * @param workers how many workers it replaces (asked once the --config file is read)
     * @param configProblem reads the --config file again and takes what changed: why it no longer holds, or null
     * @param ended told how this reload ends, or null for no one
     */
    public Outcome request(IntSupplier workers, Supplier<String> configProblem, Consumer<Ending> ended) {
        if (reloading) {
            queued = true;
            if (ended != null) {
                waitingQueued.add(ended);
            }
            log.info("reload requested during a reload: queued until generation {} is complete", generation);
            return new Outcome(true, "reload queued: it starts once generation " + generation + " is complete");
        }
        // the queued reload starting now takes those waiting for it along
        List<Consumer<Ending>> these = waitingQueued;
        waitingQueued = new ArrayList<>();
        if (ended != null) {
            these.add(ended);
        }
        String config = configProblem.get();
        String problem = config != null ? config : appProblem.get();
        if (problem != null) {
            String why = config != null ? config : "cannot load the app: " + problem;
            log.error("reload refused, the workers serving now stay: {}", why);
            last = "refused: " + problem;
            queued = false;
            observer.reloadRefused(last);
            Outcome refused = new Outcome(false, "reload refused, generation " + generation + " keeps serving: " + why);
            tell(these, new Ending(false, refused.what()));
            return refused;
        }
        reloading = true;
        generation = ++newest;
        waiting = these;
        log.info("reloading: generation {} replaces the running workers one at a time", generation);
        observer.reloading(generation, workers.getAsInt());
        return new Outcome(true, "reloading to generation " + generation);
    }

    /** This worker's death before READY fails the reload in progress: it was one of the new generation. */
    public boolean failsReload(WorkerProcess w) {
        return reloading && !w.wasReady() && w.generation == newest;
    }

    /**
     * A new worker failed to start: every worker serving now stays (old and new generation alike), and nothing more
     * is replaced until the next reload.
     */
    public void abort(String why, List<WorkerProcess> workers) {
        last = "generation " + newest + " aborted: " + why;
        reloading = false;
        queued = false;
        generation = workers.stream().filter(WorkerProcess::active).mapToInt(w -> w.generation).min().orElse(newest);
        observer.reloadEnded(last);
        tell(waiting, new Ending(false, last));
        tell(waitingQueued, new Ending(false, last + "; the reload queued behind it does not start"));
    }

    /** The master stops: whoever waits on a reload is told it will not end. */
    public void stopping(String why) {
        String how = "the master is shutting down (" + why + ")";
        tell(waiting, new Ending(false, (reloading ? "generation " + newest + " not complete: " : "") + how));
        tell(waitingQueued, new Ending(false, "the queued reload does not start: " + how));
    }

    private void tell(List<Consumer<Ending>> whom, Ending ending) {
        List<Consumer<Ending>> now = List.copyOf(whom);
        whom.clear();
        now.forEach(w -> w.accept(ending));
    }

    /**
     * Called after the table changed: the reload is complete once no older worker is active and no new one is still
     * starting.
     * @return true if a reload was queued behind it and should start now
     */
    public boolean completeIf(List<WorkerProcess> workers) {
        if (!reloading || workers.stream().anyMatch(w -> w.generation < generation && w.active())
                || workers.stream().anyMatch(w -> w.generation >= generation
                && w.state() == WorkerProcess.State.STARTING)) {
            return false;
        }
        reloading = false;
        log.info("reload complete: generation {} serving", generation);
        last = "generation " + generation + " complete";
        observer.reloadEnded(last);
        tell(waiting, new Ending(true, last));
        boolean next = queued;
        queued = false;
        return next;
    }
}
