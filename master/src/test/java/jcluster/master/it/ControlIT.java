package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The control socket and the subcommands that use it, against a running master. */
@Timeout(120)
class ControlIT {

    static CliIT.Result cli(String... args) throws Exception {
        return CliIT.run(args);
    }

    @Test
    void statusListsEveryWorker() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            Http.get(c.port, "/");
            CliIT.Result r = cli("status", "--runtime-dir=" + c.runtimeDir);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("master pid " + c.pid()), r.out());
            for (String column : new String[] {"id", "pid", "gen", "state", "uptime", "conns", "requests", "rss",
                    "cpu%"}) {
                assertTrue(r.out().contains(column), column + " in " + r.out());
            }
            for (long pid : c.workerPids()) {
                assertTrue(r.out().contains(" " + pid + " "), pid + " in " + r.out());
            }
            assertEquals(2, r.out().lines().filter(l -> l.contains(" ready ")).count(), r.out());
            CliIT.Result json = cli("status", "--json", "--runtime-dir=" + c.runtimeDir);
            assertTrue(json.out().startsWith("{\"pid\":" + c.pid()), json.out());
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

    @Test
    void theControlSocketIsPrivate() throws Exception {
        try (Cluster c = Cluster.start("--workers=1")) {
            Path sock = c.runtimeDir.resolve("control.sock");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(c.runtimeDir)));
        }
    }

    @Test
    void reloadScaleDumpAndStop() throws Exception {
        Path pidFile = Files.createTempFile("jcluster", ".pid");
        Files.delete(pidFile);
        try (Cluster c = Cluster.start("--workers=1", "--pid-file=" + pidFile)) {
            assertEquals(Long.toString(c.pid()), Files.readString(pidFile).trim());
            String by = "--pid-file=" + pidFile;
            List<Long> before = c.workerPids();

            CliIT.Result reload = cli("reload", by);
            assertEquals(0, reload.code(), reload.err());
            c.awaitLog("reload complete", Duration.ofSeconds(30));
            Cluster.await(() -> c.workerPids().size() == 1 && !c.workerPids().equals(before),
                    Duration.ofSeconds(10), () -> "not reloaded");

            assertEquals(0, cli("scale", "3", by).code());
            Cluster.await(() -> c.workerPids().size() == 3, Duration.ofSeconds(20), () -> "not scaled to 3");
            CliIT.Result bad = cli("scale", "0", by);
            assertEquals(1, bad.code());
            assertTrue(bad.err().startsWith("master: "), bad.err());

            String status = cli("status", by).out();
            String id = status.lines().filter(l -> l.contains(" ready ")).findFirst().orElseThrow().split("\\s+")[0];
            assertEquals(0, cli("dump", id, by).code());
            c.awaitLog("Full thread dump", Duration.ofSeconds(5));
            assertEquals(1, cli("dump", "999", by).code());

            assertEquals(0, cli("stop", by).code());
            assertEquals(0, c.awaitExit(Duration.ofSeconds(20)));
            assertFalse(Files.exists(pidFile), "pid file removed at exit");
        } finally {
            Files.deleteIfExists(pidFile);
        }
    }

    /** The answer and exit code of reload say what happened: started, with its generation, or refused, and why. */
    @Test
    void reloadSaysWhetherItStartedOrWasRefused() throws Exception {
        Path dir = Files.createTempDirectory("jcluster-app");
        Path jar = Files.copy(Cluster.EXAMPLE_JAR, dir.resolve("app.jar"));
        try (Cluster c = Cluster.start("--workers=1", "--app-jar=" + jar)) {
            c.expectErrors();
            String by = "--runtime-dir=" + c.runtimeDir;
            CliIT.Result ok = cli("reload", by);
            assertEquals(0, ok.code(), ok.err());
            assertEquals("reloading to generation 2\n", ok.out());
            Cluster.await(() -> !c.status().contains("\"reloading\":true"), Duration.ofSeconds(30), c::status);
            List<Long> serving = c.awaitReadyWorkers(1, Duration.ofSeconds(10));
            // a broken jar renamed into place, as a botched deploy would
            Path broken = Files.writeString(dir.resolve("broken.jar"), "not a jar");
            Files.move(broken, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            CliIT.Result refused = cli("reload", by);
            CliIT.assertOneLineError(refused, 1, "reload refused", "generation 2 keeps serving", "is not a jar");
            assertEquals(2, Cluster.field(c.status(), "generation"));
            assertEquals(serving, c.awaitReadyWorkers(1, Duration.ofSeconds(5)), "the workers serving stay");
        } finally {
            Files.deleteIfExists(jar);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void aCommandWithNoServerSaysSo() throws Exception {
        CliIT.Result r = cli("status", "--runtime-dir=/nonexistent/jcluster");
        CliIT.assertOneLineError(r, 1, "no server answers", "--runtime-dir");
    }
}
