package jcluster.master.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** --access-log: one whole line per request across workers, reopen-logs after a rename, stdout, JSON; JSON logs. */
@Timeout(90)
class AccessLogIT {
    /** The combined format, then the request time and the worker id. */
    static final Pattern COMBINED = Pattern.compile("^(\\S+) - - \\[(\\d{2}/\\w{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2} "
            + "[+-]\\d{4})] \"(\\S+) (\\S+) (HTTP/1\\.[01])\" (\\d{3}) (\\d+) \"([^\"]*)\" \"([^\"]*)\" "
            + "rt=(\\d+\\.\\d{6}) worker=(\\d+)$");
    static final Duration WAIT = Duration.ofSeconds(20);

    Path dir;
    Path log;

    @BeforeEach
    void files() throws IOException {
        dir = TestFiles.dir("jcluster-access");
        log = dir.resolve("access.log");
    }

    @AfterEach
    void clean() {
        TestFiles.deleteTree(dir);
    }

    static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** {@code clients} threads, each {@code each} requests on connections of 1 to 20 requests; every one a 200. */
    static void load(int port, int clients, int each, String tag) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < clients; t++) {
                int client = t;
                done.add(pool.submit(() -> {
                    int n = 0;
                    while (n < each) {
                        try (Http h = new Http(port)) {
                            for (int i = 0; i < 1 + n % 20 && n < each; i++, n++) {
                                assertEquals(200, h.get("/?" + tag + "-" + client + "-" + n).status());
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void everyRequestIsOneWholeLineWhicheverWorkerServedIt() throws Exception {
        try (Cluster c = Cluster.start("--workers=2", "--access-log=" + log)) {
            int clients = 8;
            int each = 600;
            load(c.port, clients, each, "a");
            Cluster.await(() -> lines(log).size() >= clients * each, WAIT, () -> lines(log).size() + " lines");
            List<String> lines = lines(log);
            assertEquals(clients * each, lines.size(), "one line per request, none split or merged");
            Set<String> uris = new HashSet<>();
            Set<String> workers = new HashSet<>();
            for (String line : lines) {
                Matcher m = COMBINED.matcher(line);
                assertTrue(m.matches(), "a well-formed line: " + line);
                assertEquals("127.0.0.1", m.group(1));
                assertEquals("GET", m.group(3));
                assertEquals("200", m.group(6));
                assertEquals("14", m.group(7), "the body's bytes");
                assertTrue(uris.add(m.group(4)), "each request once: " + line);
                workers.add(m.group(11));
            }
            assertEquals(Set.of("1", "2"), workers, "both workers wrote to the one file");
        }
    }

    @Test
    void afterARenameAndReopenLogsNewLinesGoToTheNewFileAndNoneIsLost() throws Exception {
        try (Cluster c = Cluster.start("--workers=2", "--access-log=" + log)) {
            load(c.port, 4, 100, "before");
            Cluster.await(() -> lines(log).size() == 400, WAIT, () -> lines(log).size() + " lines");
            Path rotated = dir.resolve("access.log.1");
            Files.move(log, rotated);
            CliIT.Result r = CliIT.run("reopen-logs", "--runtime-dir=" + c.runtimeDir);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("2 worker(s) reopen"), r.out());
            // until both workers are seen writing to the new file, a line may still go to the renamed one
            int sent = 400;
            for (int i = 0; !workersIn(log).equals(Set.of("1", "2")); i++) {
                assertTrue(i < 2000, "both workers write to the new file: " + lines(log));
                assertEquals(200, Http.get(c.port, "/?between-" + i).status());
                sent++;
            }
            int settled = sent;
            Cluster.await(() -> lines(log).size() + lines(rotated).size() == settled, WAIT,
                    () -> (lines(log).size() + lines(rotated).size()) + " lines of " + settled);
            int rotatedLines = lines(rotated).size();
            load(c.port, 4, 100, "after");
            int total = sent + 400;
            Cluster.await(() -> lines(log).size() + lines(rotated).size() == total, WAIT,
                    () -> (lines(log).size() + lines(rotated).size()) + " lines of " + total);
            assertEquals(rotatedLines, lines(rotated).size(), "nothing more went to the renamed file");
            assertEquals(400, lines(log).stream().filter(l -> l.contains("/?after-")).count());
            assertTrue(lines(rotated).stream().allMatch(l -> COMBINED.matcher(l).matches()));
        }
    }

    @Test
    void theShippedLogrotateConfigRotatesAndReopensWithoutLosingALine() throws Exception {
        Path logrotate = Packages.need("logrotate", "logrotate");
        try (Cluster c = Cluster.start("--workers=2", "--access-log=" + log)) {
            load(c.port, 4, 100, "before");
            Cluster.await(() -> lines(log).size() == 400, WAIT, () -> lines(log).size() + " lines");
            String shipped = Files.readString(Path.of("../dist/logrotate/jcluster"));
            String conf = shipped.replace("/var/log/jcluster/access.log", log.toString())
                    .replace("su jcluster jcluster", "su root root")
                    .replace("create 0640 jcluster jcluster", "create 0640 root root")
                    .replace("/usr/bin/java -jar /opt/jcluster/master.jar reopen-logs "
                            + "--runtime-dir=/run/jcluster/jcluster-8080", Cluster.javaBinary() + " -jar " + Cluster.JAR
                            + " reopen-logs --runtime-dir=" + c.runtimeDir);
            assertFalse(conf.contains("jcluster jcluster") || conf.contains("/var/log/jcluster/access.log {")
                    || conf.contains("/opt/jcluster"), "the example's paths and user swapped for the test's:\n" + conf);
            Path confFile = dir.resolve("logrotate.conf");
            Files.writeString(confFile, conf);
            CliIT.Result dry = run(logrotate.toString(), "-d", "-s", dir.resolve("state").toString(),
                    confFile.toString());
            assertEquals(0, dry.code(), "logrotate -d:\n" + dry.out() + dry.err());
            assertEquals(400, lines(log).size(), "-d changed nothing");
            CliIT.Result rotate = run(logrotate.toString(), "-f", "-s", dir.resolve("state").toString(),
                    confFile.toString());
            assertEquals(0, rotate.code(), "logrotate -f:\n" + rotate.out() + rotate.err());
            Path rotated = dir.resolve("access.log.1");
            assertTrue(Files.exists(rotated), "renamed (compressed only next time: delaycompress)");
            int sent = 400;
            for (int i = 0; !workersIn(log).equals(Set.of("1", "2")); i++) {
                assertTrue(i < 2000, "both workers write to the new file");
                assertEquals(200, Http.get(c.port, "/?between-" + i).status());
                sent++;
            }
            int total = sent;
            Cluster.await(() -> lines(log).size() + lines(rotated).size() == total, WAIT,
                    () -> (lines(log).size() + lines(rotated).size()) + " lines of " + total);
        }
    }

    static CliIT.Result run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        return new CliIT.Result(p.exitValue(), out, err);
    }

    static Set<String> workersIn(Path file) {
        Set<String> ids = new HashSet<>();
        for (String l : lines(file)) {
            Matcher m = COMBINED.matcher(l);
            if (m.matches()) {
                ids.add(m.group(11));
            }
        }
        return ids;
    }

    @Test
    void onStdoutTheLinesReachTheMastersStdoutWhole() throws Exception {
        try (Cluster c = Cluster.start("--workers=2", "--access-log=-")) {
            load(c.port, 4, 50, "out");
            Cluster.await(() -> c.logText().lines().filter(l -> l.contains("/?out-")).count() == 200, WAIT,
                    c::logText);
            List<String> access = c.logText().lines().filter(l -> l.contains("/?out-")).toList();
            assertTrue(access.stream().allMatch(l -> COMBINED.matcher(l).matches()),
                    "untagged, unsplit: " + access);
        }
    }

    @Test
    void theJsonFormatHasEveryField() throws Exception {
        try (Cluster c = Cluster.start("--workers=1", "--access-log=" + log, "--access-log-format=json")) {
            try (Http h = new Http(c.port)) {
                h.send("GET /echo?x=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: a \"quoted\" agent\r\nReferer: /from\r\n\r\n");
                assertEquals(200, h.read(false).status());
            }
            Cluster.await(() -> lines(log).size() == 1, WAIT, () -> lines(log).toString());
            String line = lines(log).get(0);
            assertTrue(line.matches("\\{\"time\":\"\\d{4}-\\d\\d-\\d\\dT[^\"]+Z\",\"client\":\"127.0.0.1\","
                    + "\"method\":\"GET\",\"uri\":\"/echo\\?x=1\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
                    + "\"bytes\":\\d+,\"referer\":\"/from\",\"user_agent\":\"a \\\\\"quoted\\\\\" agent\","
                    + "\"request_time\":\\d+\\.\\d{6},\"worker\":1}"), line);
        }
    }

    @Test
    void jsonServerLogsAreOneObjectALineFromEveryProcess() throws Exception {
        try (Cluster c = Cluster.start("--workers=2", "--log-format=json")) {
            // a worker's own lines are relayed as it writes them, its "up" line just after its READY: wait for both
            c.awaitLog("\"process\":\"worker-1\"", WAIT);
            c.awaitLog("\"process\":\"worker-2\"", WAIT);
            List<String> lines = c.logText().lines().filter(l -> !l.isBlank()).toList();
            Set<String> processes = new HashSet<>();
            Pattern object = Pattern.compile("^\\{\"@timestamp\":\"[^\"]+\",\"message\":\".*\",\"logger_name\":\"[^\"]+\","
                    + "\"thread_name\":\"[^\"]+\",\"level\":\"(INFO|WARN|ERROR|DEBUG)\",\"process\":\"(master|worker-\\d+)\","
                    + "\"pid\":(\\d+)}$");
            for (String l : lines) {
                Matcher m = object.matcher(l);
                assertTrue(m.matches(), "one JSON object: " + l);
                processes.add(m.group(2));
            }
            assertEquals(Set.of("master", "worker-1", "worker-2"), processes);
        }
    }

    @Test
    void anAccessLogThatCannotBeOpenedIsOneLineAndExit2() throws Exception {
        CliIT.Result r = CliIT.run("--access-log=" + dir.resolve("no-such-dir/access.log"), "--port=1");
        CliIT.assertOneLineError(r, 2, "cannot be opened");
        CliIT.assertOneLineError(CliIT.run("--access-log-format=common"), 2, "combined or json");
        CliIT.assertOneLineError(CliIT.run("--log-format=xml"), 2, "text or json");
    }
}
