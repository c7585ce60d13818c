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
        cmd.addAll(List.of(Cluster.javaBinary(), "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("cli", ".out");
        Path err = Files.createTempFile("cli", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
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

    @Test
    void privilegedPortAsAnOrdinaryUser() throws Exception {
        // As root the bind would succeed: run the same jar as 'nobody' (setpriv is in util-linux), from a copy
        // that user can read wherever the checkout lives.
        boolean root = "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream()
                .readAllBytes()).trim());
        List<String> prefix = root ? List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
                : List.of();
        Path dir = Files.createTempDirectory("cli-priv");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path jar = Files.copy(Cluster.JAR, dir.resolve("master.jar"));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        try {
            Result r = run(prefix, jar, "--workers=1", "--port=81", "--runtime-dir=" + dir.resolve("run"));
            assertOneLineError(r, 1, "permission denied", "--port");
        } finally {
            Files.delete(jar);
            Files.delete(dir);
        }
    }

    @Test
    void unusableRuntimeDirectory() throws Exception {
        Path file = Files.createTempFile("not-a-dir", "");
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
                "--static", "--blocking-threads", "--blocking-queue", "--dispatch", "--handoff-timeout", "--help",
                "--version"}) {
            assertTrue(r.out().contains(flag), flag + " in --help:\n" + r.out());
        }
        // and every flag --help lists has its row in README's table
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("../README.md"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(--[a-z][a-z-]+)").matcher(r.out());
        while (m.find()) {
            assertTrue(readme.contains("`" + m.group(1)), m.group(1) + " is not in README's flags table");
        }
        assertTrue(r.out().contains("default: 8080"), r.out());
        assertFalse(r.err().contains("WARN"), "help renders cleanly: " + r.err());
        for (String sub : new String[] {"status", "reload", "scale", "dump", "stop"}) {
            CliIT.Result h = run(sub, "--help");
            assertEquals(0, h.code(), sub + ": " + h.err());
            assertFalse(h.err().contains("WARN"), sub + " help renders cleanly: " + h.err());
        }
    }

    @Test
    void unknownDispatchPolicy() throws Exception {
        assertOneLineError(run("--dispatch=random"), 2, "--dispatch must be round-robin or least-connections");
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
