package jcluster.master.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The shipped units ({@code dist/systemd}) under a real systemd, booted as PID 1 of its own namespaces by
 * {@code src/test/systemd/sandbox}: installed as README says (the jar at /opt/jcluster/master.jar, on a tmpfs
 * inside; the service user is {@code nobody}, the one change to the unit), driven with {@code systemctl}, and
 * reached from a client inside the sandbox's own network.
 */
@Timeout(300)
class SystemdUnitIT {
    private static final Path SANDBOX = Path.of("src/test/systemd/sandbox").toAbsolutePath();
    private static final Path UNITS = Path.of("../dist/systemd").toAbsolutePath().normalize();
    private static final String SERVICE = "jcluster.service";
    private static Path dir;

    @BeforeAll
    static void boot() throws Exception {
        if (!Files.isExecutable(Path.of("/lib/systemd/systemd"))) {
            // a machine without the package: Debian's, as the bench installs its tools
            run(Duration.ofMinutes(5), "sh", "-c", "apt-get update -q && apt-get install -y -q systemd");
        }
        dir = TestFiles.dir("jcluster-systemd");
        Files.createDirectory(dir.resolve("units"));
        for (String unit : new String[] {SERVICE, "jcluster.socket"}) {
            String text = Files.readString(UNITS.resolve(unit));
            // the shipped unit as it is, but for its user, and for the suite's time a shorter watchdog (the master
            // pings at half of it), 2 workers, not 4, on these 2 cores, and a warm-up of 300 ms, not up to 5 s (under
            // the unit's sandbox all the same)
            Files.writeString(dir.resolve("units").resolve(unit), text.replace("User=jcluster", "User=nobody")
                    .replace("Group=jcluster", "Group=nogroup").replace("WatchdogSec=10", "WatchdogSec=4")
                    .replace("--workers=4", "--workers=2 --warm-up=300ms"));
        }
        // what runs inside comes from DIR (/run/sandbox there): the sandbox's /tmp is its own, and this build may
        // well be under the machine's /tmp
        Files.copy(Cluster.JAR, dir.resolve("master.jar"));
        Path classes = Files.createDirectory(dir.resolve("classes"));
        Path it = Path.of("target/test-classes/jcluster/master/it");
        Files.createDirectories(classes.resolve("jcluster/master/it"));
        try (var files = Files.list(it)) {
            for (Path f : files.filter(f -> f.getFileName().toString().matches("(LoadMain|Load|Http)(\\$.*)?\\.class"))
                    .toList()) {
                Files.copy(f, classes.resolve("jcluster/master/it").resolve(f.getFileName()));
            }
        }
        Result started = run(Duration.ofSeconds(30), SANDBOX.toString(), "start", dir.toString());
        assertEquals(0, started.code, "the sandbox did not boot: " + started.out);
        // README's install steps, on file systems private to the sandbox: /opt for the jar, /var/cache for the
        // unit's CacheDirectory=
        inside("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/opt");
        inside("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/var/cache");
        inside("install", "-D", "-m", "0644", "/run/sandbox/master.jar", "/opt/jcluster/master.jar");
        inside("systemctl", "daemon-reload");
    }

    @AfterAll
    static void shutdown() throws Exception {
        if (dir != null) {
            run(Duration.ofSeconds(10), SANDBOX.toString(), "stop", dir.toString());
            TestFiles.deleteTree(dir);
        }
    }

    /** Each test starts from both units stopped, whatever the one before left. */
    @BeforeEach
    void stopped() throws Exception {
        // KillMode=process spares what a failed test may have left: every process of the unit goes
        inside("sh", "-c", "systemctl kill --signal=KILL " + SERVICE + " 2>/dev/null || true");
        inside("systemctl", "stop", SERVICE, "jcluster.socket");
        inside("systemctl", "reset-failed");
    }

    @Test
    void startReturnsWhenServingReloadAndUpgradeUnderLoadFailNothingStopDrains() throws Exception {
        inside("systemctl", "start", SERVICE);
        assertEquals("200", get(), "systemctl start returned before the server answered");
        assertEquals("active/running", state());
        // each worker warmed up under the unit's sandbox (its address families, its private /tmp) before READY
        String thisStart = "journalctl --no-pager _SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID --value "
                + SERVICE + ")";
        assertEquals("2", inside("sh", "-c", thisStart + " | grep -c 'warmed up:'; ! " + thisStart
                + " | grep 'warm-up stopped'").strip());
        long first = mainPid();
        try (SandboxLoad load = new SandboxLoad()) {
            // reload: systemctl reload returns once the last new worker is READY (ExecReload= waits), the unit running
            // again; the unit is reloading meanwhile
            Set<String> seen = new LinkedHashSet<>();
            java.util.concurrent.atomic.AtomicBoolean reloaded = new java.util.concurrent.atomic.AtomicBoolean();
            Thread watch = new Thread(() -> {
                while (!reloaded.get()) {
                    seen.add(stateQuietly());
                    // each sample is a process in the sandbox: a few a second, not as many as the cores allow
                    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                }
            });
            watch.start();
            try {
                inside("systemctl", "reload", SERVICE);
            } finally {
                reloaded.set(true);
                watch.join();
            }
            String status = inside("java", "-jar", "/opt/jcluster/master.jar", "status", "--json");
            assertTrue(status.contains("\"lastReload\":\"generation 2 complete\""), status);
            assertEquals("active/running", state());
            assertTrue(seen.contains("reloading/reload"), "never reloading: " + seen);
            // upgrade: systemd follows the new master (MAINPID=), the unit active throughout
            String answer = inside("java", "-jar", "/opt/jcluster/master.jar", "upgrade");
            long next = Long.parseLong(answer.split(" ")[3]);
            seen.clear();
            Cluster.await(() -> {
                seen.add(stateQuietly());
                return mainPidQuietly() == next;
            }, Duration.ofSeconds(60), () -> "systemd's MainPID did not become " + next + ": " + seen);
            Cluster.await(() -> !alive(first), Duration.ofSeconds(30), () -> "the old master is still running");
            seen.add(state());
            assertEquals(Set.of("active/running"), seen, "the unit's states during the upgrade");
            List<String> result = load.stop();
            assertEquals(List.of(), result.subList(1, result.size()), "failed requests, after " + result.get(0));
        }
        long before = System.nanoTime();
        inside("systemctl", "stop", SERVICE);
        assertTrue(System.nanoTime() - before < TimeUnit.SECONDS.toNanos(40), "within TimeoutStopSec");
        assertEquals("Result=success\nExecMainStatus=0", inside("systemctl", "show", "-p", "Result,ExecMainStatus",
                SERVICE).strip());
        assertEquals("", inside("sh", "-c", "pgrep -u nobody java || true").strip(), "processes left");
    }

    /**
     * kill -9 of the master under load: systemd restarts it (Restart=on-failure), the socket it parked in the fd
     * store keeps the port open meanwhile, and the new master adopts the same workers (KillMode=process spared
     * them): not one request of the load fails.
     */
    @Test
    void aKilledMasterIsRestartedAndAdoptsItsWorkersAndNoRequestFails() throws Exception {
        inside("systemctl", "start", SERVICE);
        long first = mainPid();
        List<Long> workers = readyWorkers();
        assertEquals(2, workers.size(), "the test unit's --workers=2");
        try (SandboxLoad load = new SandboxLoad()) {
            inside("kill", "-KILL", Long.toString(first));
            Cluster.await(() -> {
                long p = mainPidQuietly();
                return p > 0 && p != first && "active/running".equals(stateQuietly());
            }, Duration.ofSeconds(60), () -> "not restarted: " + stateQuietly());
            List<Long>[] seen = new List[] {List.of()};
            Cluster.await(() -> (seen[0] = readyWorkersQuietly()).equals(workers), Duration.ofSeconds(30),
                    () -> "not the same workers: " + seen[0] + " against " + workers + "\n" + journal());
            List<String> result = load.stop();
            // Not one refused (the port stayed open). A connection the master had accepted and not yet passed to
            // a worker at the instant it died goes with it (the kernel closes what only a dead process held): a
            // window of microseconds per connection, which the load can hit; at most one such reset is allowed.
            List<String> failed = result.subList(1, result.size());
            assertTrue(failed.stream().noneMatch(f -> f.contains("refused")), "refused: " + failed);
            assertTrue(failed.size() <= 1 && failed.stream().allMatch(f -> f.contains("Connection reset")),
                    "failed requests, after " + result.get(0) + ": " + failed);
        }
        assertEquals("NRestarts=1", inside("systemctl", "show", "-p", "NRestarts", SERVICE).strip());
    }

    @Test
    void theWatchdogRestartsAMasterThatStopsPinging() throws Exception {
        inside("systemctl", "start", SERVICE);
        long frozen = mainPid();
        inside("kill", "-STOP", Long.toString(frozen));
        // WatchdogSec (4 s here): killed then, restarted by Restart=on-failure
        Cluster.await(() -> mainPidQuietly() != frozen && mainPidQuietly() > 0
                        && "active/running".equals(stateQuietly()), Duration.ofSeconds(60),
                () -> "not restarted: " + stateQuietly());
        assertEquals("200", get());
        assertNotEquals("NRestarts=0", inside("systemctl", "show", "-p", "NRestarts", SERVICE).strip());
        Cluster.await(() -> !alive(frozen), Duration.ofSeconds(10), () -> "the frozen master is still there");
    }

    @Test
    void theSocketUnitStartsTheServiceOnTheFirstConnection() throws Exception {
        inside("systemctl", "start", "jcluster.socket");
        assertEquals("inactive/dead", state());
        assertEquals("200", get(), "the first connection");
        // the first READY worker serves it; the unit is running once every worker is READY
        awaitState(new LinkedHashSet<>(), "active/running", Duration.ofSeconds(30));
    }

    // ---- the sandbox -------------------------------------------------------------------------------------------

    record Result(int code, String out) {
    }

    private static Result run(Duration timeout, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", cmd) + " did not finish within " + timeout);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static List<String> sandbox(String... cmd) {
        List<String> full = new ArrayList<>(List.of(SANDBOX.toString(), "run", dir.toString()));
        full.addAll(List.of(cmd));
        return full;
    }

    /** Runs a command inside the sandbox; its output, or the test fails with the journal's last lines. */
    private static String inside(String... cmd) throws IOException, InterruptedException {
        Result r = run(Duration.ofSeconds(90), sandbox(cmd).toArray(String[]::new));
        if (r.code != 0) {
            Result journal = run(Duration.ofSeconds(10), sandbox("journalctl", "-n", "60", "--no-pager")
                    .toArray(String[]::new));
            fail(String.join(" ", cmd) + " exited " + r.code + ": " + r.out + "\njournal:\n" + journal.out);
        }
        return r.out;
    }

    /** The unit's last journal lines, for a failure's message. */
    private static String journal() {
        try {
            return run(Duration.ofSeconds(10), sandbox("journalctl", "-u", SERVICE, "-n", "80", "--no-pager")
                    .toArray(String[]::new)).out;
        } catch (IOException | InterruptedException e) {
            return e.toString();
        }
    }

    /** GET / on port 8080 from inside, with bash's /dev/tcp: the status code. */
    private static String get() throws IOException, InterruptedException {
        String response = inside("timeout", "30", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET / "
                + "HTTP/1.1\\r\\nHost: sandbox\\r\\nConnection: close\\r\\n\\r\\n' >&3 && cat <&3");
        return response.startsWith("HTTP/1.1 ") ? response.substring(9, 12) : response;
    }

    private static String state() throws IOException, InterruptedException {
        Map<String, String> p = properties("ActiveState,SubState");
        return p.get("ActiveState") + "/" + p.get("SubState");
    }

    private static String stateQuietly() {
        try {
            return state();
        } catch (IOException | InterruptedException e) {
            return e.toString();
        }
    }

    private static long mainPid() throws IOException, InterruptedException {
        return Long.parseLong(properties("MainPID").get("MainPID"));
    }

    /** The pids of the READY workers, sorted, from {@code status --json} as root runs it. */
    private static List<Long> readyWorkers() throws IOException, InterruptedException {
        return Cluster.pidsIn(inside("java", "-jar", "/opt/jcluster/master.jar", "status", "--json"), "READY")
                .stream().sorted().toList();
    }

    private static List<Long> readyWorkersQuietly() {
        try {
            return readyWorkers();
        } catch (IOException | InterruptedException | AssertionError e) {
            return List.of();
        }
    }

    private static long mainPidQuietly() {
        try {
            return mainPid();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    private static Map<String, String> properties(String names) throws IOException, InterruptedException {
        Map<String, String> out = new TreeMap<>();
        for (String line : inside("systemctl", "show", "-p", names, SERVICE).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return out;
    }

    /** Polls the unit's state, collecting each one seen, until it is {@code wanted}. */
    private static void awaitState(Set<String> seen, String wanted, Duration timeout) {
        Cluster.await(() -> {
            String s = stateQuietly();
            seen.add(s);
            return s.equals(wanted);
        }, timeout, () -> "not " + wanted + "; seen " + seen);
    }

    /** Whether a process of the sandbox (its pid in the sandbox's PID namespace, as systemctl gives it) lives. */
    private static boolean alive(long pid) {
        try {
            return inside("sh", "-c", "kill -0 " + pid + " 2>/dev/null && echo yes || echo no").strip().equals("yes");
        } catch (IOException | InterruptedException e) {
            return true;
        }
    }

    /** {@link LoadMain} inside the sandbox, on port 8080: 4 clients until stopped. */
    private static final class SandboxLoad implements AutoCloseable {
        private final Process process;
        private final BufferedReader out;
        private final Path stopFile = dir.resolve("stop-load");

        SandboxLoad() throws IOException {
            process = new ProcessBuilder(sandbox(Cluster.javaBinary(), "-cp", "/run/sandbox/classes",
                    LoadMain.class.getName(), "8080", "4", "/run/sandbox/stop-load")).redirectErrorStream(true)
                    .start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertEquals("started", line, "the load did not start");
        }

        /** Stops the load: "ok N", then one line per failure. */
        List<String> stop() throws IOException, InterruptedException {
            Files.createFile(stopFile);
            List<String> lines = new ArrayList<>();
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
            }
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            assertTrue(!lines.isEmpty() && lines.get(0).startsWith("ok "), "load output: " + lines);
            return lines;
        }

        /** Stops the load in the sandbox (killing the nsenter here would leave it running there). */
        @Override
        public void close() throws IOException, InterruptedException {
            if (!Files.exists(stopFile)) {
                Files.createFile(stopFile);
            }
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            Files.deleteIfExists(stopFile);
        }
    }
}
