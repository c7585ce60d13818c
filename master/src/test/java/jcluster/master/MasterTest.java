package jcluster.master;

import jcluster.common.ExitCodes;
import jcluster.common.Frame;
import jcluster.common.MessageType;
import jcluster.master.handoff.Handoffs;
import jcluster.master.handoff.Listener;
import jcluster.master.ops.Status;
import jcluster.master.supervisor.RollingReload;
import jcluster.master.systemd.ServiceManager;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The arbiter's event core with fake workers and fake time: every transition and timeout of the worker state
 * machine, reloads, recycling, crash loops and stops, each in milliseconds. The process tests prove the same
 * behaviours end to end.
 */
class MasterTest {
    private final FakeClock clock = new FakeClock();
    private final FakeWorkers launcher = new FakeWorkers();
    private final FakeListener listener = new FakeListener();
    private Master master;
    /** What the master told systemd, a datagram each. */
    private final List<String> notified = new java.util.ArrayList<>();
    /** The watchdog interval systemd asks for; null for none. */
    private Duration watchdog;

    private static final class FakeListener implements Listener {
        boolean paused;
        boolean closed;

        @Override
        public void pause() {
            paused = true;
        }

        @Override
        public void resume() {
            paused = false;
        }

        @Override
        public boolean paused() {
            return paused;
        }

        @Override
        public String localAddress() {
            return "127.0.0.1:8080";
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public int fd() {
            return 42;
        }
    }

    private Handoffs handoffs;

    /** A master with these flags (the restart delay short unless given), its first workers started. */
    private Master start(String... flags) {
        return start(null, flags);
    }

    private Master start(java.util.function.Supplier<String> appProblem, String... flags) {
        MasterOptions options = new MasterOptions();
        new CommandLine(options).parseArgs(flags);
        handoffs = Handoffs.of(options, clock, id -> null);
        master = new Master(options, clock, launcher, listener, handoffs,
                appProblem != null ? appProblem : () -> null, ServiceManager.to(notified::add, watchdog, options), null);
        master.start(java.nio.file.Path.of("/run/test"), List.of());
        clock.runPending();
        return master;
    }

    /** Lets {@code d} pass in 100 ms steps, every live worker but the {@code hung} ones beating every 500 ms. */
    private void run(Duration d, Integer... hung) {
        Set<Integer> stuck = Set.of(hung);
        for (long t = 0; t < d.toMillis(); t += 100) {
            if (t % 500 == 0) {
                for (Status.Worker w : master.status().workers()) {
                    if (!stuck.contains(w.id()) && !w.state().equals("STARTING")) {
                        launcher.beat(master, w.id(), 0);
                    }
                }
            }
            clock.advance(Duration.ofMillis(100));
        }
    }

    /** "id:STATE:generation" of every live worker. */
    private String table() {
        return master.status().workers().stream().map(w -> w.id() + ":" + w.state() + ":" + w.generation())
                .collect(Collectors.joining(" "));
    }

    private void readyAll() {
        for (Status.Worker w : master.status().workers()) {
            if (w.state().equals("STARTING")) {
                launcher.ready(master, w.id());
            }
        }
        clock.runPending();
    }

    /** Worker {@code id}'s process exits with {@code code}. */
    private void exit(int id, int code) {
        launcher.byId.get(id).exit(code);
        clock.runPending();
    }

    /** The control socket and the admin port answer from the moment they are bound, before the loop starts. */
    @Test
    void statusAnswersBeforeTheMasterStarts() {
        MasterOptions options = new MasterOptions();
        new CommandLine(options).parseArgs("--workers=3");
        Master m = new Master(options, clock, launcher, listener, Handoffs.of(options, clock, id -> null), () -> null,
                ServiceManager.to(notified::add, null, options), null);
        Status s = m.status();
        assertEquals(3, s.desired());
        assertEquals(List.of(), s.workers());
        assertEquals("127.0.0.1:8080", s.address());
    }

    @Test
    void startsTheWantedWorkersAndAnnouncesReadyOnceAllAre() {
        start("--workers=2");
        assertEquals("1:STARTING:1 2:STARTING:1", table());
        launcher.ready(master, 1);
        assertEquals(0, launcher.archivesPrepared, "not all ready yet");
        launcher.ready(master, 2);
        assertEquals("1:READY:1 2:READY:1", table());
        assertEquals(1, launcher.archivesPrepared, "the class-data archive is made once the workers serve");
    }

    @Test
    void aLateHeartbeatMakesAWorkerSuspectAndItsReturnMakesItReadyAgain() {
        start("--workers=2");
        readyAll();
        run(Duration.ofSeconds(2), 2);
        assertEquals("1:READY:1 2:SUSPECT:1", table());
        assertEquals(2, launcher.started.size(), "a suspect worker is not replaced");
        launcher.beat(master, 2, 0);
        assertEquals("1:READY:1 2:READY:1", table());
    }

    @Test
    void aWorkerPastTheWorkerTimeoutGetsSigquitThenSigkillAndIsReplacedWithoutARestartCounted() {
        start("--workers=1", "--worker-timeout=3s");
        readyAll();
        run(Duration.ofMillis(3400), 1);
        FakeWorkers.Fake hung = launcher.byId.get(1);
        assertEquals(1, hung.dumps, "a thread dump first");
        assertFalse(hung.killed, "it has a moment to write it");
        assertEquals(1, master.status().timeouts());
        launcher.beat(master, 1, 0);
        assertEquals("1:SUSPECT:1", table(), "a worker that timed out is replaced whatever it does now");
        run(Duration.ofMillis(1200), 1);
        assertTrue(hung.killed);
        assertEquals("2:STARTING:1", table());
        assertEquals(0, master.status().restarts(), "the master's decision, not a crash");
    }

    @Test
    void aWorkerNotReadyWithinTheBootTimeoutIsKilledAndCountsAsACrash() {
        start("--workers=1", "--boot-timeout=2s", "--restart-delay=100ms");
        run(Duration.ofMillis(2200));
        assertTrue(launcher.byId.get(1).killed);
        run(Duration.ofMillis(300));
        assertEquals(1, master.status().restarts());
        assertEquals("2:STARTING:1", table());
        assertEquals(1, master.status().workers().get(0).restarts(), "its replacement inherits the count");
    }

    /** A reload hands idle connections back to the workers that stay; a shutdown has none to give them to. */
    @Test
    void aReloadDrainsWithAHandBackAShutdownWithout() {
        start("--workers=1");
        readyAll();
        master.reload();
        launcher.ready(master, 2);
        assertEquals(List.of(MessageType.HAND_BACK), launcher.byId.get(1).received());
        master.onSignal("TERM");
        assertEquals(List.of(MessageType.DRAIN), launcher.byId.get(2).received());
    }

    @Test
    void aDrainingWorkerPastTheDrainTimeoutIsKilled() {
        start("--workers=2", "--drain-timeout=5s");
        readyAll();
        master.scale(1);
        assertEquals(List.of(MessageType.HAND_BACK), launcher.byId.get(2).received(),
                "the newest goes first, its idle connections back to the one that stays");
        assertEquals("1:READY:1 2:DRAINING:1", table());
        run(Duration.ofMillis(4900));
        assertFalse(launcher.byId.get(2).killed);
        run(Duration.ofMillis(300));
        assertTrue(launcher.byId.get(2).killed);
        assertEquals("1:READY:1", table());
        assertEquals(0, master.status().restarts());
    }

    @Test
    void aReloadReplacesTheWorkersOneAtATimeNeverBelowTheWantedCount() {
        start("--workers=2");
        readyAll();
        assertTrue(master.reload().started());
        assertEquals("1:READY:1 2:READY:1 3:STARTING:2", table(), "one new worker at a time");
        launcher.ready(master, 3);
        assertEquals("1:DRAINING:1 2:READY:1 3:READY:2 4:STARTING:2", table(), "the oldest goes once one is READY");
        exit(1, 0);
        launcher.ready(master, 4);
        exit(2, 0);
        assertEquals("3:READY:2 4:READY:2", table());
        assertFalse(master.status().reloading());
        assertEquals("generation 2 complete", master.status().lastReload());
        assertEquals(0, master.status().restarts());
    }

    @Test
    void aReloadAskedForDuringOneIsQueuedAndStartsWhenItCompletes() {
        start("--workers=1");
        readyAll();
        master.reload();
        RollingReload.Outcome queued = master.reload();
        assertTrue(queued.started());
        assertEquals("reload queued: it starts once generation 2 is complete", queued.what());
        launcher.ready(master, 2);
        exit(1, 0);
        assertEquals(3, master.status().generation(), "the queued reload started");
        assertEquals("2:READY:2 3:STARTING:3", table());
        launcher.ready(master, 3);
        exit(2, 0);
        assertEquals("3:READY:3", table());
        assertEquals("generation 3 complete", master.status().lastReload());
    }

    /** reload --wait: each who waits is told once, when the reload it asked for has ended. */
    @Test
    void whoeverWaitsOnAReloadIsToldOnceWhenItCompletesAndAQueuedOnesWaiterWhenThatOneDoes() {
        start("--workers=1");
        readyAll();
        List<String> first = new java.util.ArrayList<>();
        List<String> second = new java.util.ArrayList<>();
        assertEquals("reloading to generation 2", master.reload(e -> first.add(e.complete() + " " + e.how())).what());
        master.reload(e -> second.add(e.complete() + " " + e.how()));
        assertEquals(List.of(), first, "not before the new worker is READY");
        launcher.ready(master, 2);
        // complete once generation 2 serves alone: the old worker drains
        assertEquals(List.of("true generation 2 complete"), first);
        assertEquals(List.of(), second, "the queued reload has only begun");
        exit(1, 0);
        launcher.ready(master, 3);
        assertEquals(List.of("true generation 2 complete"), first);
        assertEquals(List.of("true generation 3 complete"), second);
    }

    @Test
    void whoeverWaitsOnAnAbortedRefusedOrStoppedReloadIsToldItDidNotComplete() {
        String[] problem = {null};
        start(() -> problem[0], "--workers=1");
        readyAll();
        List<String> told = new java.util.ArrayList<>();
        master.reload(e -> told.add(e.complete() + " " + e.how()));
        master.reload(e -> told.add(e.complete() + " " + e.how()));
        launcher.byId.get(2).lastLines = List.of("Exception in thread main");
        exit(2, 1);
        assertEquals(2, told.size(), String.valueOf(told));
        assertTrue(told.get(0).startsWith("false generation 2 aborted: worker 2"), told.get(0));
        assertTrue(told.get(1).startsWith("false generation 2 aborted: worker 2")
                && told.get(1).endsWith("; the reload queued behind it does not start"), told.get(1));

        told.clear();
        problem[0] = "app.jar is not a jar";
        assertFalse(master.reload(e -> told.add(e.complete() + " " + e.how())).started());
        assertEquals(List.of("false reload refused, generation 1 keeps serving: cannot load the app: app.jar is not "
                + "a jar"), told);

        told.clear();
        problem[0] = null;
        master.reload(e -> told.add(e.complete() + " " + e.how()));
        master.stop();
        assertEquals(List.of("false generation 3 not complete: the master is shutting down (stop through the control "
                + "socket)"), told);
    }

    @Test
    void aReloadWhoseNewWorkerDiesBeforeReadyIsAbortedAndTheOldWorkersStay() {
        start("--workers=2");
        readyAll();
        master.reload();
        launcher.byId.get(3).lastLines = List.of("Exception in thread main");
        exit(3, 1);
        assertEquals("1:READY:1 2:READY:1", table());
        assertEquals(1, master.status().generation());
        assertFalse(master.status().reloading());
        assertTrue(master.status().lastReload().startsWith("generation 2 aborted: worker 3"),
                master.status().lastReload());
        run(Duration.ofSeconds(2));
        assertEquals(3, launcher.started.size(), "nothing more is replaced until the next reload");
        assertEquals(0, master.status().restarts());
    }

    @Test
    void aReloadOfAnAppThatCannotLoadIsRefusedAndNothingIsReplaced() {
        String[] problem = {null};
        start(() -> problem[0], "--workers=1");
        readyAll();
        problem[0] = "app.jar is not a jar";
        RollingReload.Outcome r = master.reload();
        assertFalse(r.started());
        assertEquals("reload refused, generation 1 keeps serving: cannot load the app: app.jar is not a jar",
                r.what());
        assertEquals("1:READY:1", table());
        assertEquals("refused: app.jar is not a jar", master.status().lastReload());
    }

    @Test
    void aWorkerThatRetiresItselfLeavesDispatchAtOnceAndDrainsOnceItsReplacementIsReady() {
        start("--workers=2");
        readyAll();
        master.frame(master.byId(1), Frame.of(MessageType.RETIRE));
        assertEquals("1:READY:1 2:READY:1 3:STARTING:1", table(), "its replacement first");
        assertEquals(1, master.status().recycled());
        assertEquals(1, dispatchable(), "no new connection for worker 1");
        master.frame(master.byId(1), Frame.of(MessageType.RETIRE));
        assertEquals(3, launcher.started.size(), "a second RETIRE changes nothing");
        assertEquals(1, master.status().recycled());
        launcher.ready(master, 3);
        assertEquals("1:DRAINING:1 2:READY:1 3:READY:1", table());
        exit(1, 0);
        assertEquals("2:READY:1 3:READY:1", table());
        assertEquals(0, master.status().restarts(), "a retire is no crash");
    }

    /** READY workers the dispatcher would give a connection to now. */
    private int dispatchable() {
        return handoffs.dispatcher().size();
    }

    @Test
    void workersPastMaxRequestsAreRecycledOneAtATime() {
        start("--workers=2", "--max-requests=100");
        readyAll();
        launcher.beat(master, 1, 150);
        launcher.beat(master, 2, 150);
        assertEquals("1:READY:1 2:READY:1 3:STARTING:1", table(), "one at a time: its replacement first");
        assertEquals(1, master.status().recycled());
        launcher.ready(master, 3);
        assertEquals("1:DRAINING:1 2:READY:1 3:READY:1", table());
        launcher.beat(master, 2, 160);
        assertEquals(3, launcher.started.size(), "the next waits until the first one's process is gone");
        exit(1, 0);
        launcher.beat(master, 2, 170);
        assertEquals("2:READY:1 3:READY:1 4:STARTING:1", table());
        assertEquals(2, master.status().recycled());
    }

    @Test
    void noRecyclingDuringAReload() {
        start("--workers=1", "--max-requests=100");
        readyAll();
        master.reload();
        launcher.beat(master, 1, 500);
        assertEquals(0, master.status().recycled());
        assertEquals("1:READY:1 2:STARTING:2", table());
    }

    @Test
    void workersThatKeepDyingBeforeReadyEndInACrashLoopExit3() {
        start("--workers=1", "--max-restarts=3", "--restart-delay=10ms");
        for (int id = 1; id <= 3; id++) {
            exit(id, 1);
            run(Duration.ofMillis(200));
        }
        assertTrue(master.exit().isDone(), "gave up after 3 unstable deaths in a row");
        assertEquals(ExitCodes.CRASH_LOOP, master.exit().join());
        assertEquals(3, launcher.started.size());
        assertTrue(listener.closed);
    }

    @Test
    void aStableWorkersDeathIsRespawnedAfterTheDelayAndResetsTheCount() {
        start("--workers=1", "--max-restarts=2", "--restart-delay=100ms", "--min-uptime=1s");
        readyAll();
        run(Duration.ofSeconds(2));
        exit(1, 137);
        assertEquals("", table(), "not at once: after the delay");
        run(Duration.ofMillis(200));
        assertEquals("2:STARTING:1", table());
        readyAll();
        run(Duration.ofSeconds(2));
        exit(2, 137);
        run(Duration.ofMillis(200));
        assertFalse(master.exit().isDone(), "two stable deaths are not a crash loop");
        assertEquals(2, master.status().restarts());
    }

    @Test
    void aWorkerThatCannotLoadTheAppStopsTheMasterWithExit4() {
        start("--workers=2");
        exit(1, ExitCodes.APP_LOAD_FAILED);
        assertEquals("2:DRAINING:1", table(), "the master stops at once");
        exit(2, ExitCodes.APP_LOAD_FAILED);
        assertEquals(ExitCodes.APP_LOAD_FAILED, master.exit().join());
        assertEquals(2, launcher.started.size(), "never respawned");
    }

    @Test
    void aWorkerThatCannotBeStartedStopsTheMaster() {
        launcher.failNext = true;
        start("--workers=1");
        assertEquals(ExitCodes.CRASH_LOOP, master.exit().join());
    }

    @Test
    void scalingDuringAReloadEndsWithTheNewCountAllOfTheNewGeneration() {
        start("--workers=1");
        readyAll();
        master.reload();
        master.scale(3);
        for (int i = 0; i < 6 && !table().matches("(\\d+:READY:2 ?){3}"); i++) {
            readyAll();
            master.status().workers().stream().filter(w -> w.state().equals("DRAINING"))
                    .forEach(w -> exit(w.id(), 0));
        }
        assertTrue(table().matches("(\\d+:READY:2 ?){3}"), table());
        assertFalse(master.status().reloading());
    }

    @Test
    void aStopDuringAReloadDrainsEveryWorkerStartsNoneAndExits0() {
        start("--workers=2");
        readyAll();
        master.reload();
        assertEquals("stopping", master.stop());
        assertTrue(listener.closed);
        assertEquals("1:DRAINING:1 2:DRAINING:1 3:DRAINING:2", table());
        assertFalse(master.reload().started(), "no reload while stopping");
        for (int id = 1; id <= 3; id++) {
            assertFalse(master.exit().isDone());
            exit(id, 0);
        }
        assertEquals(ExitCodes.OK, master.exit().join());
        assertEquals(3, launcher.started.size());
    }

    @Test
    void aDrainDelayKeepsServingThenDrains() {
        start("--workers=1", "--drain-delay=2s");
        readyAll();
        assertEquals("stopping: serving 2000 ms more (--drain-delay), then draining", master.stop());
        assertTrue(master.status().draining(), "readiness turns 503 at once");
        run(Duration.ofMillis(1900));
        assertEquals("1:READY:1", table());
        assertFalse(listener.closed, "still accepting");
        run(Duration.ofMillis(200));
        assertEquals("1:DRAINING:1", table());
        assertTrue(listener.closed);
    }

    @Test
    void aSecondSigtermStopsTheWorkersAtOnceAndAKilledWorkerMakesItExit5() {
        start("--workers=2");
        readyAll();
        master.onSignal("TERM");
        master.onSignal("TERM");
        for (int id = 1; id <= 2; id++) {
            assertEquals(List.of(MessageType.DRAIN, MessageType.STOP), launcher.byId.get(id).received());
        }
        exit(1, 0);
        run(Duration.ofMillis(1100), 2);
        assertTrue(launcher.byId.get(2).killed, "killed after the stop grace");
        assertEquals(ExitCodes.FORCED_STOP, master.exit().join());
    }

    @Test
    void aWorkerThatSaysItDrainsOnItsOwnIsReplacedAtOnceWithoutARestart() {
        start("--workers=1");
        readyAll();
        master.frame(master.byId(1), jcluster.common.Frame.leaving(15));
        assertEquals("1:DRAINING:1 2:STARTING:1", table());
        exit(1, 0);
        assertEquals(0, master.status().restarts());
    }

    @Test
    void strayAndControlSignals() {
        start("--workers=1");
        readyAll();
        master.onSignal("TTIN");
        assertEquals(2, master.status().desired());
        master.onSignal("TTOU");
        master.onSignal("TTOU");
        assertEquals(1, master.status().desired(), "never below 1");
        for (String s : Arrays.asList("USR1", "ALRM", "PWR")) {
            master.onSignal(s);
        }
        assertFalse(master.exit().isDone());
        assertEquals(1, master.status().generation());
        assertEquals(List.of(), launcher.masters, "no upgrade");
        master.onSignal("USR2");
        assertEquals(1, launcher.masters.size(), "SIGUSR2 upgrades");
    }

    @Test
    void anUpgradeHandsOverOnlyToTheNewMasterItStartedThenDrainsAndExits() {
        start("--workers=2");
        readyAll();
        assertTrue(master.succession().upgrade(List.of()).started());
        FakeWorkers.FakeMaster next = launcher.masters.get(0);
        Map<String, String> env = launcher.masterEnvironments.get(0);
        assertEquals(Long.toString(ProcessHandle.current().pid()), env.get("JCLUSTER_UPGRADE_FROM"));
        assertEquals("3", env.get("JCLUSTER_UPGRADE_FIRST_ID"), "its workers' ids follow this one's");
        assertTrue(env.containsKey("LISTEN_FDS") && env.get("LISTEN_FDS") == null, "no socket activation for it");
        assertFalse(master.succession().upgrade(List.of()).started(), "one upgrade at a time");
        assertEquals("to pid 200001: starting for 0 s", master.status().upgrade());

        assertNull(master.succession().listenerFor(4242), "the listening socket only for the new master");
        assertEquals(42, master.succession().listenerFor(next.pid()).intValue());
        assertNotNull(master.succession().handOver(4242));
        assertFalse(listener.closed);

        assertNull(master.succession().handOver(next.pid()));
        assertEquals(List.of("MAINPID=200001\nSTATUS=upgraded: pid 200001 serves from now; pid "
                + ProcessHandle.current().pid() + " drains"), told("MAINPID="));
        assertTrue(listener.closed, "the old master stops accepting");
        assertTrue(master.status().draining());
        assertEquals(200_001, master.succession().successorPid(), "the new master outlives this one");
        for (FakeWorkers.Fake f : launcher.started) {
            assertEquals(List.of(MessageType.DRAIN), f.received());
            f.exit(0);
        }
        clock.runPending();
        assertEquals(0, master.exit().join());
        assertFalse(next.terminated);
        assertEquals(List.of(), told("STOPPING=1"), "the service is not stopping: systemd hears nothing more");
    }

    @Test
    void aNewMasterThatExitsOrHangsBeforeTakingOverLeavesThisOneServing() {
        start("--workers=1", "--boot-timeout=10s");
        readyAll();
        master.succession().upgrade(List.of());
        launcher.masters.get(0).exit();
        clock.runPending();
        assertEquals("failed: the new master (pid 200001) exited before it was serving; see its lines above",
                master.status().upgrade());
        assertFalse(listener.closed);
        assertNull(master.succession().listenerFor(200_001), "a dead new master gets nothing");

        assertTrue(master.succession().upgrade(List.of()).started(), "another upgrade may start");
        clock.advance(Duration.ofSeconds(49));
        assertFalse(launcher.masters.get(1).terminated);
        clock.advance(Duration.ofSeconds(2));
        assertTrue(launcher.masters.get(1).terminated, "not serving within two boot timeouts plus 30 s");
        clock.runPending();
        assertEquals("failed: the new master (pid 200002) was not serving within 50 s", master.status().upgrade());

        master.succession().upgrade(List.of());
        master.onSignal("TERM");
        assertTrue(launcher.masters.get(2).terminated, "a stop stops the new master too");
        assertFalse(master.succession().upgrade(List.of()).started());
    }

    /** The messages told to systemd whose first line starts with {@code key}, in order. */
    private List<String> told(String key) {
        return notified.stream().filter(m -> m.startsWith(key)).toList();
    }

    @Test
    void systemdHearsStartingReadyReloadingReadyAndStoppingInThatOrder() {
        start("--workers=2", "--boot-timeout=20s", "--shutdown-timeout=5s");
        assertEquals(List.of("STATUS=starting 2 worker(s)\nEXTEND_TIMEOUT_USEC=30000000"), notified,
                "as long as a worker's boot may take, and some slack");
        launcher.ready(master, 1);
        assertEquals(List.of(), told("READY=1"), "not before every worker is READY");
        launcher.ready(master, 2);
        assertEquals(List.of("READY=1\nSTATUS=2 worker(s) serving on 127.0.0.1:8080"), told("READY=1"));
        assertEquals(List.of("FDSTORE=1\nFDNAME=http\n(with fd 42)"), told("FDSTORE=1"),
                "the listening socket, into systemd's fd store, once serving");
        master.reload();
        String reloading = told("RELOADING=1").get(0);
        assertTrue(reloading.matches("RELOADING=1\nMONOTONIC_USEC=\\d+\nSTATUS=reloading: generation 2 replaces the "
                + "workers one at a time\nEXTEND_TIMEOUT_USEC=60000000"), reloading);
        launcher.ready(master, 3);
        exit(1, 0);
        launcher.ready(master, 4);
        exit(2, 0);
        assertEquals("READY=1\nSTATUS=last reload: generation 2 complete", told("READY=1").get(1));
        master.stop();
        assertEquals(List.of("STOPPING=1\nSTATUS=shutting down (stop through the control socket)\n"
                + "EXTEND_TIMEOUT_USEC=15000000"), told("STOPPING=1"));
        String order = notified.stream().map(m -> m.substring(0, m.indexOf('='))).collect(Collectors.joining(" "));
        assertEquals("STATUS READY FDSTORE RELOADING READY STOPPING", order);
    }

    @Test
    void aRefusedOrAbortedReloadStillEndsWithReady() {
        String[] problem = {null};
        start(() -> problem[0], "--workers=1");
        readyAll();
        problem[0] = "app.jar is not a jar";
        master.reload();
        assertTrue(notified.get(notified.size() - 2).startsWith("RELOADING=1\nMONOTONIC_USEC="));
        assertEquals("READY=1\nSTATUS=last reload: refused: app.jar is not a jar", notified.get(notified.size() - 1));
        problem[0] = null;
        master.reload();
        exit(2, 1);
        assertTrue(notified.get(notified.size() - 1).startsWith("READY=1\nSTATUS=last reload: generation 2 aborted: "),
                notified.get(notified.size() - 1));
    }

    @Test
    void theWatchdogIsPingedFromTheArbitersLoopAtTheIntervalAndAtOnceWhenReady() {
        watchdog = Duration.ofMillis(500);
        start("--workers=1");
        run(Duration.ofMillis(2000));
        assertEquals(4, told("WATCHDOG=1").size(), "every 500 ms");
        readyAll();
        assertEquals(5, told("WATCHDOG=1").size(), "at once after READY");
        assertEquals("WATCHDOG=1", notified.get(notified.size() - 1));
    }

    @Test
    void withoutAWatchdogThereAreNoPings() {
        start("--workers=1");
        readyAll();
        run(Duration.ofSeconds(2));
        assertEquals(List.of(), told("WATCHDOG=1"));
    }
}
