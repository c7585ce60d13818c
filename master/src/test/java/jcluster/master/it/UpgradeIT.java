package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A master upgrade ({@code upgrade} or SIGUSR2): a new master takes the listening socket and, once its workers are
 * ready, the old one drains and exits; no connection is refused or fails meanwhile. A new master that cannot start
 * leaves the old one serving.
 */
@Timeout(120)
class UpgradeIT {

    @Test
    void anUpgradeUnderLoadFailsNoRequestAndLeavesOnlyTheNewMasterAndItsWorkers() throws Exception {
        Path pidFile = TestFiles.file("jcluster-upgrade", ".pid");
        Files.delete(pidFile);
        long newMaster = -1;
        try (Cluster c = Cluster.start("--workers=2", "--pid-file=" + pidFile)) {
            List<Long> oldWorkers = c.workerPids();
            assertEquals(2, oldWorkers.size());
            try (Load load = new Load(c.port, 4)) {
                load.awaitProgress(200);
                CliResult r = cli(c, "upgrade");
                assertEquals(0, r.code, r.out);
                assertTrue(r.out.startsWith("new master pid "), r.out);
                newMaster = Long.parseLong(r.out.split(" ")[3]);
                long expected = newMaster;
                String status = awaitStatus(c, s -> Cluster.field(s, "pid") == expected
                        && Cluster.states(s).equals(List.of("READY", "READY")), "the new master did not take over");
                // the new master's workers continue the old one's ids
                assertTrue(status.contains("\"id\":3,") && status.contains("\"id\":4,"), status);
                assertEquals(0, c.awaitExit(Duration.ofSeconds(30)), "the old master's exit code");
                for (long w : oldWorkers) {
                    Cluster.await(() -> ProcessHandle.of(w).map(p -> !p.isAlive()).orElse(true),
                            Duration.ofSeconds(10), () -> "old worker " + w + " still running");
                }
                load.awaitProgress(300);
                load.stop();
                assertEquals(List.of(), load.failures, "requests failed during the upgrade");
                assertTrue(load.pids.stream().anyMatch(p -> !oldWorkers.contains(p)), "the new workers served: "
                        + load.pids);
            }
            assertEquals(newMaster + "", Files.readString(pidFile, StandardCharsets.US_ASCII).strip(),
                    "the pid file names the new master");
            assertTrue(ProcessHandle.of(newMaster).map(ProcessHandle::isAlive).orElse(false));
            List<Long> newWorkers = ProcessHandle.of(newMaster).orElseThrow().children().map(ProcessHandle::pid)
                    .toList();
            Cluster.stopMaster(newMaster);
            for (long w : newWorkers) {
                Cluster.await(() -> ProcessHandle.of(w).map(p -> !p.isAlive()).orElse(true),
                        Duration.ofSeconds(10), () -> "new worker " + w + " still running");
            }
            assertFalse(Files.exists(pidFile), "the new master removed its pid file");
            assertFalse(Files.exists(c.runtimeDir), "the new master removed the runtime directory");
        } finally {
            Cluster.killTree(newMaster);
            Files.deleteIfExists(pidFile);
        }
    }

    @Test
    void aNewMasterThatCannotStartLeavesTheOldOneServingAndSaysWhy() throws Exception {
        Path jar = TestFiles.file("jcluster-upgrade-app", ".jar");
        Files.copy(Cluster.EXAMPLE_JAR, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (Cluster c = Cluster.start("--workers=1", "--app-jar=" + jar)) {
            c.expectErrors();
            List<Long> workers = c.workerPids();
            Files.writeString(jar, "not a jar");
            c.signal("USR2");
            String status = awaitStatus(c, s -> String.valueOf(Cluster.text(s, "upgrade")).startsWith("failed: "),
                    "the upgrade did not fail");
            String why = Cluster.text(status, "upgrade");
            assertTrue(why.contains("exited before it was serving"), why);
            long failed = Long.parseLong(why.replaceAll(".*\\(pid (\\d+)\\).*", "$1"));
            assertFalse(ProcessHandle.of(failed).map(ProcessHandle::isAlive).orElse(false), "the new master is gone");
            assertEquals(c.pid(), Cluster.field(status, "pid"));
            assertEquals(workers, c.workerPids(), "the old workers serve on");
            try (Http h = new Http(c.port)) {
                assertEquals(200, h.get("/").status());
            }
            assertTrue(c.logText().contains("cannot load the app"), "the new master said why:\n" + c.logText());
        } finally {
            Files.deleteIfExists(jar);
        }
    }

    /** New flags after --: all of them, in place of the running master's; flags that do not fit leave it serving. */
    @Test
    void anUpgradeWithNewFlagsRunsTheNewMasterWithThem() throws Exception {
        long newMaster = -1;
        try (Cluster c = Cluster.start("--workers=2")) {
            c.expectErrors();
            // without its --port the new master would listen on 8080's socket: it refuses the inherited one
            List<String> wrongFlags = new java.util.ArrayList<>(List.of("upgrade", "--", "--workers=1"));
            wrongFlags.addAll(Cluster.asRoot());
            CliResult wrong = cli(c, wrongFlags.toArray(String[]::new));
            assertEquals(0, wrong.code, wrong.out);
            awaitStatus(c, s -> String.valueOf(Cluster.text(s, "upgrade")).startsWith("failed: "),
                    "a new master on another port took over");
            assertEquals(c.pid(), Cluster.field(c.status(), "pid"));
            List<String> flags = new java.util.ArrayList<>(List.of("upgrade", "--", "--port=" + c.port,
                    "--runtime-dir=" + c.runtimeDir, "--workers=1"));
            flags.addAll(Cluster.asRoot());
            CliResult r = cli(c, flags.toArray(String[]::new));
            assertEquals(0, r.code, r.out);
            newMaster = Long.parseLong(r.out.split(" ")[3]);
            long expected = newMaster;
            String status = awaitStatus(c, s -> Cluster.field(s, "pid") == expected
                    && Cluster.states(s).equals(List.of("READY")), "the new master did not take over");
            assertEquals(1, Cluster.field(status, "desired"), "its --workers=1");
            assertEquals(0, c.awaitExit(Duration.ofSeconds(30)));
            Cluster.stopMaster(newMaster);
        } finally {
            Cluster.killTree(newMaster);
        }
    }

    @Test
    void aSecondUpgradeWhileOneIsStartingIsRefused() throws Exception {
        long newMaster = -1;
        try (Cluster c = Cluster.start("--workers=1")) {
            CliResult first = cli(c, "upgrade");
            assertEquals(0, first.code, first.out);
            newMaster = Long.parseLong(first.out.split(" ")[3]);
            CliResult second = cli(c, "upgrade");
            if (second.code == 0) {
                // the first one was quicker than this test: it took over, and the second starts from the new one
                newMaster = Long.parseLong(second.out.split(" ")[3]);
            } else {
                assertEquals(1, second.code, second.out);
                assertTrue(second.out.contains("an upgrade is in progress already"), second.out);
            }
            long expected = newMaster;
            awaitStatus(c, s -> Cluster.field(s, "pid") == expected, "the new master did not take over");
            assertEquals(0, c.awaitExit(Duration.ofSeconds(30)));
            Cluster.stopMaster(newMaster);
        } finally {
            Cluster.killTree(newMaster);
        }
    }

    record CliResult(int code, String out) {
    }

    /** A control command through the CLI, as a user runs it. */
    private static CliResult cli(Cluster c, String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of(Cluster.javaBinary(), "-jar", Cluster.JAR.toString(),
                args[0], "--runtime-dir=" + c.runtimeDir));
        // after the command and its own options: what follows a -- is the new master's
        cmd.addAll(List.of(args).subList(1, args.length));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new CliResult(p.exitValue(), out);
    }

    /** The status once it satisfies the condition, from whichever master holds the control socket. */
    private static String awaitStatus(Cluster c, java.util.function.Predicate<String> condition, String what) {
        String[] last = {""};
        Cluster.await(() -> {
            String s = c.statusIfUp();
            if (s == null) {
                return false;
            }
            last[0] = s;
            return condition.test(s);
        }, Duration.ofSeconds(60), () -> what + "; status: " + last[0] + "\nlog:\n" + c.logText());
        return last[0];
    }
}
