package jcluster.master.supervisor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Decides which workers to start and which to drain, from the live workers, the wanted count and the current
 * generation; pure, so every case is unit-tested.
 * <ul>
 *   <li>Start: as many current-generation workers as are missing; during a rolling reload (older generations still
 *   serving) one at a time.</li>
 *   <li>Reload: an old-generation worker is drained only once a new one is READY to take its share, oldest
 *   first, so capacity never drops below the wanted count. A worker marked for replacement (recycling) is
 *   treated the same way.</li>
 *   <li>Scale down: the newest workers go first, those still starting before those serving.</li>
 * </ul>
 */
public final class WorkerPlanner {
    /** @param replace to be replaced like an old generation (recycling: max requests, memory) */
    record Worker(int id, int generation, WorkerProcess.State state, boolean replace) {
        Worker(int id, int generation, WorkerProcess.State state) {
            this(id, generation, state, false);
        }
    }

    record Plan(int spawn, List<Integer> drain) {
    }

    private WorkerPlanner() {
    }

    static boolean active(WorkerProcess.State s) {
        return s == WorkerProcess.State.STARTING || s == WorkerProcess.State.READY
                || s == WorkerProcess.State.SUSPECT;
    }

    private static boolean outdated(Worker w, int generation) {
        return w.generation() < generation || w.replace();
    }

    static Plan plan(List<Worker> live, int desired, int generation) {
        List<Worker> current = live.stream().filter(w -> !outdated(w, generation) && active(w.state())).toList();
        List<Worker> old = live.stream().filter(w -> outdated(w, generation) && active(w.state()))
                .sorted(Comparator.comparingInt(Worker::id)).toList();
        int spawn = 0;
        List<Integer> drain = new ArrayList<>();
        int missing = desired - current.size();
        if (missing > 0) {
            boolean starting = current.stream().anyMatch(w -> w.state() == WorkerProcess.State.STARTING);
            spawn = old.isEmpty() ? missing : (starting ? 0 : 1);
        }
        if (!old.isEmpty()) {
            long ready = current.stream().filter(w -> w.state() == WorkerProcess.State.READY).count();
            long excess = ready + old.size() - desired;
            for (int i = 0; i < excess && i < old.size(); i++) {
                drain.add(old.get(i).id());
            }
        } else if (current.size() > desired) {
            current.stream()
                    .sorted(Comparator.comparing((Worker w) -> w.state() != WorkerProcess.State.STARTING)
                            .thenComparing(Comparator.comparingInt(Worker::id).reversed()))
                    .limit(current.size() - desired)
                    .forEach(w -> drain.add(w.id()));
        }
        return new Plan(spawn, drain);
    }
}
