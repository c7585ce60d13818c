package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** What a user sees for bad flags and unusable resources: one line naming the problem, the right exit code. */
@Timeout(60)
class CliIT {
    record Result(int code, String out, String err) {
    }

    static Result run(List<String> prefix, Path jar, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Cluster.javaBinary());
        if (!prefix.isEmpty()) {
            // as another user: no /tmp/hsperfdata_USER left behind by its JVM
            cmd.add("-XX:-UsePerfData");
        }
        cmd.addAll(List.of("-jar", jar.toString()));
        cmd.addAll(List.of(args));
        boolean startsAMaster = args.length > 0 && args[0].startsWith("-")
                && !List.of("--help", "-h", "--version", "-V").contains(args[0]);
        if (prefix.isEmpty() && startsAMaster) {
            cmd.addAll(Cluster.asRoot(args));
        }
        Path out = TestFiles.file("cli", ".out");
        Path err = TestFiles.file("cli", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("XDG_CACHE_HOME", TestFiles.CACHE.toString());
        Process p = pb.start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("master.jar " + String.join(" ", args) + " did not exit");
        }
        Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    static Result run(String... args) throws IOException, InterruptedException {
        return run(List.of(), Cluster.JAR, args);
    }

    /**
     * Each argument list run as {@link #run(String...)} would, two JVMs at a time (a JVM's start is mostly one core's
     * work): the results in the same order.
     */
    static List<Result> runAll(List<String[]> invocations) throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<java.util.concurrent.Future<Result>> running = new ArrayList<>();
            for (String[] args : invocations) {
                running.add(pool.submit(() -> run(args)));
            }
            List<Result> results = new ArrayList<>();
            for (java.util.concurrent.Future<Result> r : running) {
                try {
                    results.add(r.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof Error error) {
                        throw error;
                    }
                    throw e;
                }
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Exactly one line on stderr, containing every fragment, no stack trace, this exit code. */
    static void assertOneLineError(Result r, int code, String... fragments) {
        assertEquals(code, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), "one line on stderr: " + r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
        assertTrue(r.err().startsWith("master: "), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "'" + f + "' in: " + r.err());
        }
    }

    @Test
    void unknownFlag() throws Exception {
        assertOneLineError(run("--wrokers=2"), 2, "--wrokers");
    }

    @Test
    void nonNumericWorkers() throws Exception {
        assertOneLineError(run("--workers=two"), 2, "--workers", "two");
    }

    @Test
    void outOfRangeWorkersAndPort() throws Exception {
        assertOneLineError(run("--workers=0"), 2, "--workers", "between 1 and");
        assertOneLineError(run("--port=70000"), 2, "--port", "between 1 and 65535");
        assertOneLineError(run("--port=-1"), 2, "--port");
        assertOneLineError(run("--port=http"), 2, "--port", "http");
    }

    @Test
    void badSizeAndDuration() throws Exception {
        assertOneLineError(run("--max-body=lots"), 2, "--max-body", "lots");
        assertOneLineError(run("--shutdown-timeout=soon"), 2, "--shutdown-timeout", "soon");
    }

    @Test
    void portInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("0.0.0.0"))) {
            Result r = run("--workers=1", "--port=" + taken.getLocalPort());
            assertOneLineError(r, 1, "address already in use", "--port");
        }
    }

    static boolean isRoot() throws IOException {
        return "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).trim());
    }

    @Test
    void privilegedPortAsAnOrdinaryUser() throws Exception {
        // As root the bind would succeed: run the same jar as 'nobody' (setpriv is in util-linux), from a copy
        // that user can read wherever the checkout lives.
        boolean root = isRoot();
        List<String> prefix = root ? List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
                : List.of();
        Path dir = TestFiles.dir("cli-priv");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path jar = Files.copy(Cluster.JAR, dir.resolve("master.jar"));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        try {
            Result r = run(prefix, jar, "--workers=1", "--port=81", "--runtime-dir=" + dir.resolve("run"));
            assertOneLineError(r, 1, "permission denied", "--port");
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    @Test
    void unusableRuntimeDirectory() throws Exception {
        Path file = TestFiles.file("not-a-dir", "");
        try {
            Result r = run("--workers=1", "--port=" + Cluster.freePort(), "--runtime-dir=" + file.resolve("run"));
            assertOneLineError(r, 1, "runtime directory", "--runtime-dir");
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void helpListsEveryFlagWithItsDefault() throws Exception {
        Result r = run("--help");
        assertEquals(0, r.code());
        for (String flag : new String[] {"--workers", "--host", "--port", "--backlog", "--runtime-dir",
                "--worker-threads", "--max-body", "--keepalive-timeout", "--header-timeout", "--shutdown-timeout",
                "--worker-jvm-opts", "--drain-timeout", "--boot-timeout", "--worker-timeout", "--restart-delay",
                "--max-restarts", "--min-uptime", "--max-requests", "--max-requests-jitter", "--max-memory",
                "--max-heap-after-gc", "--admin-port", "--admin-host", "--pid-file", "--app-jar", "--app",
                "--static", "--blocking-threads", "--blocking-queue", "--dispatch", "--handoff-timeout", "--drain-delay", "--help",
                "--version"}) {
            assertTrue(r.out().contains(flag), flag + " in --help:\n" + r.out());
        }
        // and every flag --help lists has its row in README's table
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("../README.md"));
        // the options picocli lists, one to a line (not what their descriptions mention, a JVM option say)
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^ {2,6}(?:-\\w, )?(--[a-z][a-z-]+)")
                .matcher(r.out());
        while (m.find()) {
            assertTrue(readme.contains("`" + m.group(1)), m.group(1) + " is not in README's flags table");
        }
        assertTrue(r.out().contains("default: 8080"), r.out());
        // the default JVM options are shown whole: a flag broken across lines ("-XX: +UseSerialGC") is wrong copied
        for (String opt : "-XX:+UseSerialGC -Xms16m -Xmn8m -Xmx256m -XX:+ExitOnOutOfMemoryError".split(" ")) {
            assertTrue(r.out().contains(opt), opt + " whole in --help:\n" + r.out());
        }
        assertFalse(r.out().matches("(?s).*-XX:\\s.*"), r.out());
        assertFalse(r.err().contains("WARN"), "help renders cleanly: " + r.err());
        for (String sub : new String[] {"status", "reload", "scale", "dump", "stop"}) {
            CliIT.Result h = run(sub, "--help");
            assertEquals(0, h.code(), sub + ": " + h.err());
            assertFalse(h.err().contains("WARN"), sub + " help renders cleanly: " + h.err());
        }
    }

    @Test
    void badValuesAreUsageErrorsOfOneLine() throws Exception {
        // each case: the arguments, then what its one line says
        String[][][] cases = {
                {{"--host=999.1.1.1"}, {"--host 999.1.1.1 is neither an IP address nor a name"}},
                {{"--admin-port=" + Cluster.freePort(), "--admin-host=1.2.3.999"}, {"--admin-host 1.2.3.999"}},
                {{"--worker-jvm-opts=-Xbogus"}, {"--worker-jvm-opts: the JVM refuses them: Unrecognized option: -Xbogus"}},
                {{"--worker-jvm-opts=-XX:+NoSuchJvmFlag"}, {"Unrecognized VM option 'NoSuchJvmFlag'"}},
                {{"--drain-delay=soon"}, {"--drain-delay", "soon"}},
                {{"scale", "0"}, {"between 1 and 1024", "scale --help"}},
                {{"scale", "abc"}, {"'abc'"}},
                {{"dump", "abc"}, {"'abc'"}},
                {{"reload", "--pid=abc"}, {"'abc'"}},
                {{"statsu"}, {"did you mean status"}},
                {{"--dispatch="}, {"--dispatch must be round-robin, least-connections or sticky, got ''"}},
                {{"--max-ws-frame=100"}, {"--max-ws-frame must be between 125 and 67108864, got 100"}},
                {{"--ws-drain-grace=30s"}, {"--ws-drain-grace must be shorter than --drain-timeout"}},
                {{"--static="}, {"--static must name a directory"}},
                {{"--app-jar="}, {"--app-jar must name a jar"}},
                {{"--runtime-dir="}, {"--runtime-dir must name a directory"}},
                {{"--pid-file="}, {"--pid-file must name a file"}},
        };
        List<Result> results = runAll(java.util.Arrays.stream(cases).map(c -> c[0]).toList());
        for (int i = 0; i < cases.length; i++) {
            assertOneLineError(results.get(i), 2, cases[i][1]);
        }
    }

    @Test
    void resourcesThatCannotBeUsedAreOneLineNamingTheFix() throws Exception {
        assertOneLineError(run("--workers=1", "--port=" + Cluster.freePort(), "--admin-port=" + Cluster.freePort(),
                "--admin-host=10.255.255.1"), 1, "no such address on this machine (check --admin-host)");
        assertOneLineError(run("--workers=1", "--port=" + Cluster.freePort(), "--pid-file=/nonexistent/dir/x.pid"), 1,
                "cannot write the pid file /nonexistent/dir/x.pid: its directory /nonexistent/dir does not exist");
        Path deep = TestFiles.ROOT.resolve("d".repeat(100));
        assertOneLineError(run("--workers=1", "--port=" + Cluster.freePort(), "--runtime-dir=" + deep), 1,
                "too long for a Unix socket", "--runtime-dir");
        assertFalse(Files.exists(deep));
    }

    @Test
    void anAppClassThatIsNotOnTheClassPathIsRefusedBeforeAnyWorkerStarts() throws Exception {
        assertOneLineError(run("--workers=1", "--port=" + Cluster.freePort(), "--app=com.example.Nowhere"), 4,
                "cannot load the app: no class com.example.Nowhere on the class path; give its jar with --app-jar");
    }

    /** A directory given by mistake (here a shared one, with other files and other users' access) stays as it was. */
    @Test
    void aRuntimeDirectoryThatIsNotOursIsLeftAsItWas() throws Exception {
        Path shared = TestFiles.dir("shared");
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(shared.resolve("someone-elses.txt"), "x");
        try {
            assertOneLineError(run("--workers=1", "--port=" + Cluster.freePort(), "--runtime-dir=" + shared), 1,
                    "holds files this server did not make (someone-elses.txt)");
            assertEquals("rwxrwxrwx", PosixFilePermissions.toString(Files.getPosixFilePermissions(shared)),
                    "its mode unchanged");
        } finally {
            TestFiles.deleteTree(shared);
        }
    }

    @Test
    void helpIsASubcommandToo() throws Exception {
        Result r = run("help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Usage: master.jar "), r.out());
        Result s = run("help", "status");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().startsWith("Usage: master.jar status "), s.out());
    }

    @Test
    void unknownDispatchPolicy() throws Exception {
        assertOneLineError(run("--dispatch=random"), 2, "--dispatch must be round-robin, least-connections or sticky");
    }

    @Test
    void unknownSchedulingPolicy() throws Exception {
        assertOneLineError(run("--sched=fifo"), 2, "--sched must be batch or other, got 'fifo'");
    }

    @Test
    void version() throws Exception {
        Result r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("jcluster "), r.out());
    }
}
