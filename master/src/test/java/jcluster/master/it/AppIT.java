package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;

import static org.junit.jupiter.api.Assertions.*;

/** Users' apps in the workers: the example app jar, failures, deploys by reload, the blocking pool. */
@Timeout(120)
class AppIT {

    @Test
    void theExampleAppServesFromEveryWorker() throws Exception {
        try (Cluster c = Cluster.start("--workers=2", "--app-jar=" + Cluster.EXAMPLE_JAR)) {
            assertTrue(c.logText().contains("serving com.example.hello.HelloApp"), c.logText());
            Set<String> seen = new HashSet<>();
            Cluster.await(() -> {
                try {
                    Http.Response r = Http.get(c.port, "/");
                    assertEquals(200, r.status());
                    assertTrue(r.text().startsWith("Hello from hello-app 1 (worker "), r.text());
                    seen.add(r.text());
                } catch (IOException e) {
                    fail(e);
                }
                return seen.size() == 2;
            }, Duration.ofSeconds(20), () -> "not every worker answered: " + seen);
            try (Http h = new Http(c.port)) {
                h.send("POST /upper HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
                assertEquals("HELLO", h.read(false).text());
            }
            assertEquals(404, Http.get(c.port, "/worker").status(), "the built-in app is not served");
        }
    }

    @Test
    void aHandlerThatThrowsCostsItsRequestA500AndTheWorkerServesOn() throws Exception {
        try (Cluster c = Cluster.start("--workers=1", "--app-jar=" + Cluster.EXAMPLE_JAR)) {
            c.expectErrors();
            List<Long> pids = c.workerPids();
            try (Http h = new Http(c.port)) {
                Http.Response boom = h.get("/boom");
                assertEquals(500, boom.status());
                assertNull(boom.header("connection"), "the connection stays open");
                assertEquals(200, h.get("/").status(), "same connection, next request");
            }
            assertEquals(200, Http.get(c.port, "/").status());
            assertEquals(pids, c.workerPids(), "the worker lives on");
            String log = c.logText();
            assertTrue(log.contains("[worker-1 pid=" + pids.get(0) + "]") && log.contains("app failed on GET /boom"),
                    log);
            assertTrue(log.contains("IllegalStateException: boom"), "the exception is logged: " + log);
        }
    }

    @Test
    void aReloadWithANewJarSwitchesEveryWorkerWithNoFailedRequest() throws Exception {
        Path dir = TestFiles.dir("jcluster-app");
        Path jar = dir.resolve("app.jar");
        Files.copy(Cluster.EXAMPLE_JAR, jar);
        try (Cluster c = Cluster.start("--workers=2", "--app-jar=" + jar)) {
            List<Long> before = c.workerPids();
            try (Load load = new Load(c.port, 6, "/version")) {
                load.awaitProgress(300);
                // deploy as users should: write the new jar beside the old one, then rename it into place
                Path next = dir.resolve("app.jar.new");
                withVersion(Cluster.EXAMPLE_JAR, next, "2");
                Files.move(next, jar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                c.signal("HUP");
                c.awaitReloadComplete(2, Duration.ofSeconds(40));
                load.awaitProgress(300);
                load.stop();
                assertEquals(List.of(), load.failures, "failed requests during the deploy");
                assertEquals(Set.of("1\n", "2\n"), load.bodies);
            }
            for (int i = 0; i < 20; i++) {
                assertEquals("2\n", Http.get(c.port, "/version").text(), "every worker runs the new jar");
            }
            // each worker replaced, and the old ones gone
            Cluster.await(() -> c.workerPids().size() == 2, Duration.ofSeconds(10), () -> "old workers linger");
            assertTrue(c.workerPids().stream().noneMatch(before::contains), c.workerPids() + " against " + before);
            assertEquals(2, Cluster.field(c.status(), "generation"));
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    @Test
    void aFileThatIsNotAJarGetsOneLineAndExit4() throws Exception {
        Path bad = TestFiles.file("jcluster-app", ".jar");
        Files.writeString(bad, "not a jar");
        Cluster c = Cluster.launch("--workers=1", "--app-jar=" + bad);
        try (c) {
            c.expectErrors();
            assertEquals(4, c.awaitExit(Duration.ofSeconds(20)));
            String out = c.logText().strip();
            assertEquals(1, out.lines().count(), out);
            assertTrue(out.startsWith("master: cannot load the app: " + bad + " is not a jar"), out);
        } finally {
            TestFiles.deleteTree(bad);
        }
    }

    @Test
    void aClassTheJarDoesNotHoldGetsOneLineAndExit4() throws Exception {
        Cluster c = Cluster.launch("--workers=1", "--app-jar=" + Cluster.EXAMPLE_JAR, "--app=com.example.Missing");
        try (c) {
            c.expectErrors();
            assertEquals(4, c.awaitExit(Duration.ofSeconds(20)));
            String out = c.logText().strip();
            assertEquals("master: cannot load the app: " + Cluster.EXAMPLE_JAR + " holds no class com.example.Missing",
                    out);
        }
    }

    @Test
    void anAppTheWorkersCannotLoadStopsTheMasterBeforeItServes() throws Exception {
        // passes the master's checks (it has a service file) but names a class that is not there
        Path jar = TestFiles.file("jcluster-app", ".jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new ZipEntry("META-INF/services/jcluster.app.Handler"));
            out.write("com.example.Gone\n".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        Cluster c = Cluster.launch("--workers=2", "--app-jar=" + jar);
        try (c) {
            c.expectErrors();
            assertEquals(4, c.awaitExit(Duration.ofSeconds(30)));
            String log = c.logText();
            assertFalse(log.contains("ready: "), "never served: " + log);
            assertEquals(1, log.lines().filter(l -> l.contains("[master pid=") && l.contains("cannot load the app: ")).count(), log);
            assertTrue(log.contains("Provider com.example.Gone not found"), log);
            assertFalse(log.contains("\tat "), "no stack trace: " + log);
            assertFalse(log.contains("respawning"), log);
        } finally {
            TestFiles.deleteTree(jar);
        }
    }

    @Test
    void aReloadToABrokenJarIsRefusedAndTheWorkersServeOn() throws Exception {
        Path dir = TestFiles.dir("jcluster-app");
        Path jar = dir.resolve("app.jar");
        Files.copy(Cluster.EXAMPLE_JAR, jar);
        try (Cluster c = Cluster.start("--workers=2", "--app-jar=" + jar)) {
            c.expectErrors();
            List<Long> pids = c.workerPids();
            Files.writeString(jar, "truncated upload");
            c.signal("HUP");
            c.awaitStatus(s -> String.valueOf(Cluster.text(s, "lastReload")).startsWith("refused: "),
                    Duration.ofSeconds(10), "the reload was not refused");
            assertEquals(pids, c.workerPids());
            assertEquals(200, Http.get(c.port, "/").status());
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    @Test
    void offloadedComputeLeavesTheEventLoopFreeForOtherRequests() throws Exception {
        try (Cluster c = Cluster.start("--workers=1")) {
            CompletableFuture<Http.Response> compute = Http.getAsync(c.port, "/compute?ms=3000&offload=1");
            // the only worker is computing (its heartbeat says so): its loop still answers
            c.awaitInFlight(1);
            for (int i = 0; i < 5; i++) {
                assertEquals("Hello, world!\n", Http.get(c.port, "/").text());
            }
            assertFalse(compute.isDone(), "answered while the computation ran");
            Http.Response r = compute.get(20, TimeUnit.SECONDS);
            assertEquals(200, r.status());
            assertTrue(r.text().startsWith("computed 3000 ms on the blocking pool"), r.text());
        }
    }

    @Test
    void aFullBlockingPoolAnswers503WithRetryAfter() throws Exception {
        try (Cluster c = Cluster.start("--workers=1", "--blocking-threads=1", "--blocking-queue=1")) {
            List<CompletableFuture<Http.Response>> busy = new java.util.ArrayList<>();
            for (int i = 0; i < 2; i++) {
                busy.add(Http.getAsync(c.port, "/compute?ms=2000&offload=1"));
                c.awaitInFlight(i + 1);
            }
            Http.Response full = Http.get(c.port, "/compute?ms=10&offload=1");
            assertEquals(503, full.status());
            assertEquals("1", full.header("retry-after"));
            assertEquals(200, Http.get(c.port, "/").status(), "the loop itself is not busy");
            for (CompletableFuture<Http.Response> f : busy) {
                assertEquals(200, f.get(20, TimeUnit.SECONDS).status(), "the running and the queued task finish");
            }
        }
    }

    /** A copy of {@code jar} whose hello.properties says {@code version}. */
    static void withVersion(Path jar, Path out, String version) throws IOException {
        try (JarInputStream in = new JarInputStream(Files.newInputStream(jar));
             JarOutputStream o = new JarOutputStream(Files.newOutputStream(out), in.getManifest())) {
            JarEntry e;
            while ((e = in.getNextJarEntry()) != null) {
                o.putNextEntry(new ZipEntry(e.getName()));
                if (e.getName().equals("hello.properties")) {
                    o.write(("version=" + version + "\n").getBytes(StandardCharsets.UTF_8));
                } else {
                    in.transferTo(o);
                }
                o.closeEntry();
            }
        }
    }
}
