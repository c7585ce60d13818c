package jcluster.master.supervisor;

import jcluster.master.supervisor.WorkerPlanner.Plan;
import jcluster.master.supervisor.WorkerPlanner.Worker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static jcluster.master.supervisor.WorkerProcess.State.*;
import static org.junit.jupiter.api.Assertions.*;

@Timeout(5)
class WorkerPlannerTest {

    private static Plan plan(int desired, int generation, Worker... live) {
        return WorkerPlanner.plan(List.of(live), desired, generation);
    }

    private static Worker w(int id, int gen, WorkerProcess.State s) {
        return new Worker(id, gen, s);
    }

    @Test
    void startUpSpawnsEveryMissingWorkerAtOnce() {
        assertEquals(new Plan(4, List.of()), plan(4, 1));
        assertEquals(new Plan(2, List.of()), plan(4, 1, w(1, 1, READY), w(2, 1, STARTING)));
    }

    @Test
    void aDeadWorkerIsReplacedButDrainingAndExitedOnesDoNotCount() {
        assertEquals(new Plan(1, List.of()), plan(2, 1, w(1, 1, READY), w(2, 1, DRAINING), w(3, 1, EXITED)));
        assertEquals(new Plan(0, List.of()), plan(2, 1, w(1, 1, READY), w(2, 1, SUSPECT)));
    }

    @Test
    void reloadReplacesOneWorkerAtATimeAndDrainsOnlyOnceTheNewOneIsReady() {
        // HUP: generation 2 wanted, nothing new yet: start one
        assertEquals(new Plan(1, List.of()), plan(2, 2, w(1, 1, READY), w(2, 1, READY)));
        // it is starting: wait, drain nothing
        assertEquals(new Plan(0, List.of()), plan(2, 2, w(1, 1, READY), w(2, 1, READY), w(3, 2, STARTING)));
        // it is ready: drain the oldest old one, start the next new one (still one starting at a time)
        assertEquals(new Plan(1, List.of(1)), plan(2, 2, w(1, 1, READY), w(2, 1, READY), w(3, 2, READY)));
        // one old left, one new ready: start the second new one
        assertEquals(new Plan(0, List.of()),
                plan(2, 2, w(1, 1, DRAINING), w(2, 1, READY), w(3, 2, READY), w(4, 2, STARTING)));
        assertEquals(new Plan(0, List.of(2)),
                plan(2, 2, w(1, 1, DRAINING), w(2, 1, READY), w(3, 2, READY), w(4, 2, READY)));
        // done
        assertEquals(new Plan(0, List.of()), plan(2, 2, w(2, 1, DRAINING), w(3, 2, READY), w(4, 2, READY)));
    }

    @Test
    void aSuspectNewWorkerDoesNotReplaceAnOldOne() {
        // nothing old is drained for it; another new one starts instead
        assertEquals(new Plan(1, List.of()), plan(2, 2, w(1, 1, READY), w(2, 1, READY), w(3, 2, SUSPECT)));
    }

    @Test
    void scaleDownDrainsTheNewestAndStartingOnesFirst() {
        assertEquals(new Plan(0, List.of(3)), plan(2, 1, w(1, 1, READY), w(2, 1, READY), w(3, 1, READY)));
        assertEquals(new Plan(0, List.of(2, 4)),
                plan(2, 1, w(1, 1, READY), w(2, 1, STARTING), w(3, 1, READY), w(4, 1, READY)));
    }

    @Test
    void scaleDownDuringAReloadDrainsOldWorkersFirst() {
        assertEquals(new Plan(1, List.of(1)), plan(1, 2, w(1, 1, READY), w(2, 1, READY)));
    }

    @Test
    void aRecycledWorkerIsReplacedBeforeItIsDrained() {
        Worker recycled = new Worker(1, 1, READY, true);
        assertEquals(new Plan(1, List.of()), plan(2, 1, recycled, w(2, 1, READY)));
        assertEquals(new Plan(0, List.of()), plan(2, 1, recycled, w(2, 1, READY), w(3, 1, STARTING)));
        assertEquals(new Plan(0, List.of(1)), plan(2, 1, recycled, w(2, 1, READY), w(3, 1, READY)));
    }

    @Test
    void workersOfANewerGenerationCountAsCurrentAfterAnAbortedReload() {
        // reload to 3 aborted half-way: the wanted generation drops back to 2, both kinds serve on
        assertEquals(new Plan(0, List.of()), plan(2, 2, w(2, 2, READY), w(5, 3, READY)));
    }
}
