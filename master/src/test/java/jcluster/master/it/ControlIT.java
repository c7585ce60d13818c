package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The control socket and the subcommands that use it, against a running master. */
@Timeout(120)
class ControlIT {

    static CliIT.Result cli(String... args) throws Exception {
        return CliIT.run(args);
    }

    @Test
    void statusListsEveryWorkerOnAPrivateSocket() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            Path sock = c.runtimeDir.resolve("control.sock");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(c.runtimeDir)));
            Http.get(c.port, "/");
            CliIT.Result r = cli("status", "--runtime-dir=" + c.runtimeDir);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().startsWith("master pid " + c.pid() + " on 0.0.0.0:" + c.port + ", up "), r.out());
            assertTrue(r.out().contains(", jcluster 0.1.0-SNAPSHOT, app: built-in\n"), r.out());
            for (String column : new String[] {"id", "pid", "gen", "state", "uptime", "restarts", "conns", "requests",
                    "rss", "cpu%"}) {
                assertTrue(r.out().contains(column), column + " in " + r.out());
            }
            for (long pid : c.workerPids()) {
                assertTrue(r.out().contains(" " + pid + " "), pid + " in " + r.out());
            }
            assertEquals(2, r.out().lines().filter(l -> l.contains(" ready ")).count(), r.out());
            CliIT.Result json = cli("status", "--json", "--runtime-dir=" + c.runtimeDir);
            assertTrue(json.out().startsWith("{\"pid\":" + c.pid() + ",\"version\":\"0.1.0-SNAPSHOT\",\"uptimeMs\":"),
                    json.out());
            assertTrue(json.out().contains("\"app\":\"built-in\""), json.out());
            assertTrue(Cluster.field(json.out(), "uptimeMs") > 0);
            assertEquals(2, json.out().split("\"restarts\":0").length - 2, "per worker, after the master's own");
            // a request whose body is still arriving is in flight, and the heartbeat says so
            try (Http h = new Http(c.port)) {
                h.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
                Cluster.await(() -> {
                    try {
                        return cli("status", "--json", "--runtime-dir=" + c.runtimeDir).out()
                                .contains("\"inFlight\":1");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, Duration.ofSeconds(5), () -> "no in-flight request in the status");
                h.send("defghij");
                assertEquals("abcdefghij", h.read(false).text());
            }
        }
    }

    /** A master found by its pid file, as the CLI's --pid-file does; the file is removed with the test. */
    private interface ByPidFile {
        void run(Cluster c, String by) throws Exception;
    }

    private static void withPidFile(String flags, ByPidFile test) throws Exception {
        Path pidFile = TestFiles.file("jcluster", ".pid");
        Files.delete(pidFile);
        try (Cluster c = Cluster.start(flags, "--pid-file=" + pidFile)) {
            assertEquals(Long.toString(c.pid()), Files.readString(pidFile).trim());
            test.run(c, "--pid-file=" + pidFile);
        } finally {
            Files.deleteIfExists(pidFile);
        }
    }

    @Test
    void scaleSetsTheWorkerCountAndRefusesZero() throws Exception {
        withPidFile("--workers=1", (c, by) -> {
            assertEquals(0, cli("scale", "3", by).code());
            c.awaitReadyWorkers(3, Duration.ofSeconds(20));
            assertEquals(3, Cluster.field(c.status(), "desired"));
            CliIT.assertOneLineError(cli("scale", "0", by), 2, "between 1 and 1024");
            assertEquals(3, Cluster.field(c.status(), "desired"));
        });
    }

    @Test
    void dumpWritesAWorkersThreadDumpToTheLogAndReloadReplacesIt() throws Exception {
        withPidFile("--workers=1", (c, by) -> {
            String status = cli("status", by).out();
            String id = status.lines().filter(l -> l.contains(" ready ")).findFirst().orElseThrow().split("\\s+")[0];
            assertEquals(0, cli("dump", id, by).code());
            // the dump itself is what the user asked for, and it goes to the log
            c.awaitLog("Full thread dump", Duration.ofSeconds(5));
            CliIT.Result none = cli("dump", "999", by);
            assertEquals(1, none.code());
            assertTrue(none.err().contains("no live worker 999"), none.err());
            // and a reload through the pid file replaces the worker
            List<Long> before = c.workerPids();
            CliIT.Result reload = cli("reload", by);
            assertEquals(0, reload.code(), reload.err());
            assertEquals("reloading to generation 2", reload.out().strip());
            c.awaitReloadComplete(2, Duration.ofSeconds(30));
            Cluster.await(() -> c.workerPids().size() == 1 && !c.workerPids().equals(before),
                    Duration.ofSeconds(10), () -> "not reloaded");
        });
    }

    @Test
    void stopExitsZeroAndRemovesThePidFile() throws Exception {
        Path[] pidFile = new Path[1];
        withPidFile("--workers=1", (c, by) -> {
            pidFile[0] = Path.of(by.substring("--pid-file=".length()));
            assertEquals(0, cli("stop", by).code());
            assertEquals(0, c.awaitExit(Duration.ofSeconds(20)));
            assertFalse(Files.exists(pidFile[0]), "pid file removed at exit");
        });
    }

    /**
     * The answer and exit code of reload say what happened: started, with its generation, or refused, and why; with
     * --wait, how it ended.
     */
    @Test
    void reloadSaysWhetherItStartedOrWasRefused() throws Exception {
        Path dir = TestFiles.dir("jcluster-app");
        Path jar = Files.copy(Cluster.EXAMPLE_JAR, dir.resolve("app.jar"));
        try (Cluster c = Cluster.start("--workers=1", "--app-jar=" + jar)) {
            c.expectErrors();
            String by = "--runtime-dir=" + c.runtimeDir;
            // --wait returns once generation 2 serves: no more waiting on status
            CliIT.Result ok = cli("reload", "--wait", by);
            assertEquals(0, ok.code(), ok.err());
            assertEquals("generation 2 complete\n", ok.out());
            String after = c.status();
            assertTrue(after.contains("\"reloading\":false") && after.contains("\"lastReload\":\"generation 2 "
                    + "complete\""), after);
            List<Long> serving = c.awaitReadyWorkers(1, Duration.ofSeconds(10));
            // a broken jar renamed into place, as a botched deploy would
            Path broken = Files.writeString(dir.resolve("broken.jar"), "not a jar");
            Files.move(broken, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            CliIT.Result refused = cli("reload", by);
            CliIT.assertOneLineError(refused, 1, "reload refused", "generation 2 keeps serving", "is not a jar");
            CliIT.assertOneLineError(cli("reload", "--wait", by), 1, "reload refused", "is not a jar");
            assertEquals(2, Cluster.field(c.status(), "generation"));
            assertEquals(serving, c.awaitReadyWorkers(1, Duration.ofSeconds(5)), "the workers serving stay");
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    @Test
    void aPidFileNamingARunningMasterRefusesASecondOneAndAStaleOneIsTakenOver() throws Exception {
        Path dir = TestFiles.dir("jcluster-pid");
        Path pidFile = dir.resolve("master.pid");
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(pidFile, gone.pid() + "\n");
        try (Cluster a = Cluster.start("--workers=1", "--pid-file=" + pidFile)) {
            assertEquals(Long.toString(a.pid()), Files.readString(pidFile).trim(), "a stale pid file is taken over");
            try (Cluster b = Cluster.launch("--workers=1", "--pid-file=" + pidFile)) {
                assertEquals(1, b.awaitExit(Duration.ofSeconds(20)));
                assertEquals("master: the pid file " + pidFile + " names a running master (pid " + a.pid()
                        + "); stop it first, or give this one another --pid-file", b.logText().strip());
            }
            assertEquals(Long.toString(a.pid()), Files.readString(pidFile).trim(), "and left as it was");
            assertEquals(200, Http.get(a.port, "/").status());
            a.signal("TERM");
            assertEquals(0, a.awaitExit(Duration.ofSeconds(15)));
            assertFalse(Files.exists(pidFile), "removed by its master at exit");
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    /**
     * A master run as a service user (nobody here) has its default runtime directory under that user's name. As
     * root, the commands find it by port (its listening control socket) or pid file, and the master answers root;
     * another user gets one line saying whose it is, and one that can bypass file permissions is refused by the
     * master itself, and told so. Its HOME (/nonexistent) holds no cache: one line says so and how to fix it.
     */
    @Test
    void asRootTheCommandsFindAServiceUsersMasterAndOthersAreToldWhyNot() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(CliIT.isRoot(), "needs root to run a master as nobody");
        List<String> asNobody = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups");
        List<String> asDaemon = List.of("setpriv", "--reuid=daemon", "--regid=daemon", "--clear-groups");
        Path dir = TestFiles.dir("jcluster-nobody");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path jar = Files.copy(Cluster.JAR, dir.resolve("master.jar"));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        Path pidFile = dir.resolve("master.pid");
        int port = Cluster.freePort();
        Path runtime = TestFiles.TMP.resolve("jcluster-65534-" + port);
        Map<String, String> env = new java.util.HashMap<>();
        for (String v : new String[] {"XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "RUNTIME_DIRECTORY"}) {
            env.put(v, null);
        }
        env.put("HOME", "/nonexistent");
        try (Cluster c = Cluster.startAs(asNobody, jar, port, runtime, env, "--workers=1", "--pid-file=" + pidFile,
                "--worker-jvm-opts=-XX:+UseSerialGC -Xmx64m -XX:-UsePerfData")) {
            c.awaitLog("no class-data archive for workers: cannot create the cache directory "
                    + "/nonexistent/.cache/jcluster (permission denied); workers start without one", Duration.ofSeconds(10));
            CliIT.Result byPort = cli("status", "--port=" + port);
            assertEquals(0, byPort.code(), byPort.err());
            assertTrue(byPort.out().startsWith("master pid " + c.pid() + " "), byPort.out());
            CliIT.Result byPidFile = cli("status", "--pid-file=" + pidFile);
            assertEquals(0, byPidFile.code(), byPidFile.err());
            CliIT.assertOneLineError(CliIT.run(asDaemon, jar, "status", "--port=" + port), 1,
                    "permission denied on " + runtime.resolve("control.sock"), "belongs to uid 65534",
                    "run the command as the server's user or as root");
            List<String> withOverride = new java.util.ArrayList<>(asDaemon);
            withOverride.addAll(List.of("--inh-caps=+dac_override", "--ambient-caps=+dac_override"));
            CliIT.assertOneLineError(CliIT.run(withOverride, jar, "status", "--port=" + port), 1,
                    "refused by the master (pid " + c.pid() + "): uid 1 is neither the server's user (uid 65534) "
                            + "nor root");
            assertEquals(0, cli("stop", "--port=" + port).code());
            assertEquals(0, c.awaitExit(Duration.ofSeconds(15)));
            assertFalse(Files.exists(runtime));
        } finally {
            TestFiles.deleteTree(dir);
            TestFiles.deleteTree(runtime);
        }
    }

    @Test
    void aCommandWithNoServerSaysSo() throws Exception {
        CliIT.Result r = cli("status", "--runtime-dir=/nonexistent/jcluster");
        CliIT.assertOneLineError(r, 1, "no server answers", "--runtime-dir");
        int port = Cluster.freePort();
        CliIT.assertOneLineError(cli("status", "--port=" + port), 1, "no server found for port " + port + ": looked for ",
                "jcluster-" + port, "in /proc/net/unix");
    }
}
