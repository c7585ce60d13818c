package jcluster.master.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** --config FILE (TOML) and --check-config: the same configuration as flags, errors with file and line, reload. */
@Timeout(120)
class ConfigIT {
    Path dir;

    @BeforeEach
    void files() throws IOException {
        dir = TestFiles.dir("jcluster-config");
    }

    @AfterEach
    void clean() {
        TestFiles.deleteTree(dir);
    }

    Path write(String name, String toml) throws IOException {
        return Files.writeString(dir.resolve(name), toml);
    }

    /** A value other than its default for every flag there is (the test checks that none is missing). */
    Map<String, String> everyFlag() throws IOException {
        Path www = Files.createDirectories(dir.resolve("www"));
        Map<String, String> v = new LinkedHashMap<>();
        v.put("workers", "3");
        v.put("host", "\"127.0.0.1\"");
        v.put("port", "18123");
        v.put("backlog", "512");
        v.put("sched", "\"other\"");
        v.put("dispatch", "\"least-connections\"");
        v.put("handoff-timeout", "\"40ms\"");
        v.put("max-requests-per-connection", "7");
        v.put("max-connection-age", "\"1m\"");
        v.put("slow-start", "\"2s\"");
        v.put("runtime-dir", "\"" + dir.resolve("run") + "\"");
        v.put("worker-threads", "2");
        v.put("app-jar", "\"" + Cluster.EXAMPLE_JAR + "\"");
        v.put("app", "\"com.example.hello.HelloApp\"");
        v.put("static", "\"" + www + "\"");
        v.put("blocking-threads", "8");
        v.put("blocking-queue", "10");
        v.put("max-body", "\"2m\"");
        v.put("keepalive-timeout", "\"6s\"");
        v.put("header-timeout", "\"7s\"");
        v.put("shutdown-timeout", "\"8s\"");
        v.put("drain-delay", "\"1s\"");
        v.put("drain-timeout", "\"9s\"");
        v.put("boot-timeout", "\"11s\"");
        v.put("orphan-timeout", "\"12s\"");
        v.put("worker-timeout", "\"13s\"");
        v.put("restart-delay", "\"200ms\"");
        v.put("max-restarts", "6");
        v.put("min-uptime", "\"2s\"");
        v.put("max-requests", "1000");
        v.put("max-requests-jitter", "10");
        v.put("max-memory", "\"300m\"");
        v.put("max-heap-after-gc", "90");
        v.put("admin-port", "19999");
        v.put("admin-host", "\"127.0.0.1\"");
        v.put("pid-file", "\"" + dir.resolve("master.pid") + "\"");
        v.put("allow-root", "true");
        v.put("worker-rlimit-nofile", "1000");
        v.put("access-log", "\"" + dir.resolve("access.log") + "\"");
        v.put("access-log-format", "\"json\"");
        v.put("log-format", "\"json\"");
        v.put("proxy-protocol", "true");
        v.put("proxy-from", "\"10.0.0.0/8\"");
        v.put("compress", "true");
        v.put("compress-level", "5");
        v.put("compress-min-length", "\"1k\"");
        v.put("max-ws-frame", "\"256k\"");
        v.put("ws-idle-timeout", "\"90s\"");
        v.put("ws-drain-grace", "\"2s\"");
        v.put("warm-up", "\"2s\"");
        v.put("warm-up-path", "\"/ready\"");
        v.put("worker-jvm-opts", "\"-XX:+UseSerialGC -Xmx64m\"");
        if (Cluster.ROOT) {
            v.put("user", "\"nobody\"");
            v.put("group", "\"nogroup\"");
        }
        return v;
    }

    /** The printed configuration without its comments: what it says, not where from. */
    static List<String> settings(String checkOutput) {
        return checkOutput.lines().filter(l -> !l.startsWith("#")).map(l -> l.replaceAll("\\s+# .*$", "").strip())
                .toList();
    }

    @Test
    void everyFlagThroughTheFileGivesTheSameConfigurationAsOnTheCommandLine() throws Exception {
        Map<String, String> flags = everyFlag();
        Path file = write("all.toml", flags.entrySet().stream().map(e -> e.getKey() + " = " + e.getValue())
                .collect(Collectors.joining("\n", "# every flag\n", "\n")));
        CliIT.Result fromFile = CliIT.run("--check-config", "--config=" + file);
        assertEquals(0, fromFile.code(), fromFile.err());
        assertTrue(fromFile.err().startsWith("master: the configuration is valid"), fromFile.err());
        List<String> args = new ArrayList<>(List.of("-t"));
        flags.forEach((k, v) -> {
            String value = v.replaceAll("^\"|\"$", "");
            args.add(v.equals("true") ? "--" + k : "--" + k + "=" + value);
        });
        CliIT.Result fromFlags = CliIT.run(args.toArray(String[]::new));
        assertEquals(0, fromFlags.code(), fromFlags.err());
        assertEquals(settings(fromFlags.out()), settings(fromFile.out()));
        // every key printed was set by the file: no flag is left out of this test, nor of the file's keys
        Set<String> printed = settings(fromFile.out()).stream().map(l -> l.split(" = ")[0])
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(flags.keySet()), printed, "a flag the test does not set");
        for (String key : flags.keySet()) {
            if (key.equals("allow-root") && Cluster.ROOT) {
                continue; // the test's own --allow-root, given as root to every master it runs, comes first
            }
            assertTrue(fromFile.out().lines().anyMatch(l -> l.startsWith(key + " = ") && l.endsWith("# " + file + ":"
                    + (new ArrayList<>(flags.keySet()).indexOf(key) + 2))), key + " from its line:\n" + fromFile.out());
        }
    }

    @Test
    void theCommandLineWinsOverTheFile() throws Exception {
        Path file = write("c.toml", "workers = 3\ncompress = true\n");
        CliIT.Result r = CliIT.run("-t", "--config=" + file, "--workers=1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("workers = 1\\s+# command line")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("compress = true\\s+# " + file + ":2")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("port = 8080\\s+# default")), r.out());
    }

    @Test
    void eachErrorNamesTheFileTheLineAndTheKeyAndExits2() throws Exception {
        String[][] cases = {
                {"workers = 2\nwrokers = 3\n", ":2: unknown key 'wrokers'"},
                {"port = 1\nworkers = \"two\"\n", ":2: Invalid value for option '--workers': 'two' is not an int"},
                {"# first\nworkers = 0\n", ":2: --workers must be between 1 and 1024, got 0"},
                {"keepalive-timeout = \"soon\"\n", ":1: Invalid value for option '--keepalive-timeout'"},
                {"compress = \"yes\"\n", ":1: compress: 'yes' is not true or false"},
                {"workers = 2\nport =\n", ":2:7: not TOML: "},
                {"workers = 2\nworkers = 3\n", ":3:1: not TOML: Duplicate key"},
                {"[server]\nport = 80\n", ":1: unknown key 'server'"},
                {"proxy-from = [\"10.0.0.0/8\"]\n", ":1: proxy-from: a array is no flag's value"},
        };
        List<String[]> runs = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < cases.length; i++) {
            Path file = write("bad" + i + ".toml", cases[i][0]);
            for (String check : new String[] {"--check-config", null}) {
                List<String> args = new ArrayList<>(List.of("--config=" + file, "--port=" + Cluster.freePort()));
                if (check != null) {
                    args.add(check);
                }
                // a key the command line does not override, which the cases' --port would: not in those cases
                if (cases[i][0].contains("port =")) {
                    args.remove(1);
                }
                runs.add(args.toArray(String[]::new));
                expected.add(file + cases[i][1]);
            }
        }
        List<CliIT.Result> results = CliIT.runAll(runs);
        for (int i = 0; i < runs.size(); i++) {
            CliIT.assertOneLineError(results.get(i), 2, expected.get(i));
        }
        CliIT.assertOneLineError(CliIT.run("-t", "--config=" + dir.resolve("none.toml")), 2,
                "--config " + dir.resolve("none.toml") + ": no such file");
    }

    @Test
    void aReloadReadsTheFileAgainAndSaysWhatChangedAndWhatNeedsAnUpgrade() throws Exception {
        Path file = write("live.toml", "workers = 1\nkeepalive-timeout = \"5s\"\n");
        try (Cluster c = Cluster.start("--config=" + file)) {
            Http.Response plain = gzipPost(c.port);
            assertNull(plain.header("content-encoding"));
            Files.writeString(file, "workers = 2\nkeepalive-timeout = \"5s\"\ncompress = true\nbacklog = 77\n");
            CliIT.Result r = CliIT.run("reload", "--runtime-dir=" + c.runtimeDir);
            assertEquals(0, r.code(), r.err());
            c.awaitReloadComplete(2, Duration.ofSeconds(60));
            c.awaitReadyWorkers(2, Duration.ofSeconds(30));
            c.awaitLog(file + " read again: with this reload workers 1 -> 2, compress false -> true; needs an "
                    + "upgrade (master.jar upgrade) to change: backlog 1024 -> 77", Duration.ofSeconds(10));
            assertEquals("gzip", gzipPost(c.port).header("content-encoding"),
                    "the new workers compress");

            // a file that no longer holds refuses the reload; the workers serving stay
            c.expectErrors();
            Files.writeString(file, "workers = 2\nkeepalive-timeout = \"later\"\n");
            CliIT.Result refused = CliIT.run("reload", "--runtime-dir=" + c.runtimeDir);
            assertEquals(1, refused.code(), refused.out());
            assertTrue(refused.err().contains(file + ":2: Invalid value for option '--keepalive-timeout'"),
                    refused.err());
            assertEquals("gzip", gzipPost(c.port).header("content-encoding"));
        }
    }

    /** A text body worth compressing, to a client that takes gzip. */
    static Http.Response gzipPost(int port) throws IOException {
        String body = CompressionIT.TEXT;
        try (Http h = new Http(port)) {
            h.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/html\r\nAccept-Encoding: gzip\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body);
            return h.read(false);
        }
    }
}
