package jcluster.master.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real master process started from the built jar, its output in a log file. {@link #close} stops it with SIGTERM
 * and, whatever happens, kills it and every worker it ever had, so no test leaves a process behind.
 */
final class Cluster implements AutoCloseable {
    static final Path JAR = Path.of(System.getProperty("jcluster.jar", "target/master.jar")).toAbsolutePath();
    /** The example app's jar, built before this module (see the root pom). */
    static final Path EXAMPLE_JAR = Path.of(System.getProperty("jcluster.example.jar",
            "../examples/hello-app/target/hello-app.jar")).toAbsolutePath();
    /** The chat example's jar, built before this module too. */
    static final Path CHAT_JAR = Path.of("../examples/chat-app/target/chat-app.jar").toAbsolutePath();
    static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    /** What systemd gives a service; a master started by a test gets none of it unless the test says so. */
    static final List<String> SYSTEMD_VARIABLES = List.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
            "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM");
    /**
     * Workers with Netty's leak detection at its strictest (every buffer tracked), which their defaults turn off:
     * for the suites that drive every HTTP path, each ending with {@link #assertNoLeaks}.
     */
    static final String LEAK_CHECKED_WORKERS =
            "--worker-jvm-opts=-XX:+UseSerialGC -Xmx128m -Dio.netty.leakDetection.level=paranoid";

    final int port;
    final Path runtimeDir;
    final Path log;
    final Process process;
    /** The test made the runtime directory's parent for this master: {@link #close} removes it. */
    private final boolean ownsRuntimeDir;
    private final Set<Long> seenPids = new java.util.HashSet<>();
    private boolean expectErrors;

    private Cluster(int port, Path runtimeDir, Path log, Process process, boolean ownsRuntimeDir) {
        this.port = port;
        this.runtimeDir = runtimeDir;
        this.log = log;
        this.process = process;
        this.ownsRuntimeDir = ownsRuntimeDir;
    }

    /** Starts a master with these flags (plus --port and --runtime-dir) and waits until it logs "ready". */
    static Cluster start(String... flags) throws IOException {
        return awaitReady(launch(flags));
    }

    /** Waits until the master's status lists as many READY workers as it wants; if not, stops it and fails. */
    private static Cluster awaitReady(Cluster c) {
        try {
            await(() -> {
                if (!c.process.isAlive()) {
                    fail("the master exited with code " + c.process.exitValue() + ":\n" + c.logText());
                }
                String s = c.statusIfUp();
                return s != null && pidsIn(s, "READY").size() == field(s, "desired")
                        && states(s).stream().allMatch("READY"::equals);
            }, READY_TIMEOUT, () -> "not ready: " + c.statusIfUp() + "\nlog:\n" + c.logText());
            c.workerPids();
        } catch (AssertionError | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Starts a master on this port and runtime directory (the test's to remove) and waits until it is ready. */
    static Cluster startAt(int port, Path runtime, String... flags) throws IOException {
        return awaitReady(launch(List.of(), JAR, port, runtime, false, Map.of(), flags));
    }

    /** Starts a master on this runtime directory (the test's to remove) without waiting for it. */
    static Cluster launchAt(Path runtime, String... flags) throws IOException {
        return launch(List.of(), JAR, freePort(), runtime, false, Map.of(), flags);
    }

    /** Starts a master with these JVM options (before -jar) and flags, and waits until it is ready. */
    static Cluster startWithJvmOptions(List<String> jvmOptions, String... flags) throws IOException {
        return awaitReady(launch(List.of(), jvmOptions, JAR, freePort(), TestFiles.dir("jcluster-it").resolve("run"),
                true, Map.of(), flags));
    }

    /** Starts a master from another copy of the jar and waits until it is ready. */
    static Cluster startWithJar(Path jar, String... flags) throws IOException {
        return awaitReady(launch(List.of(), jar, freePort(), TestFiles.dir("jcluster-it").resolve("run"), true,
                Map.of(), flags));
    }

    /** Starts a master without waiting for it. */
    static Cluster launch(String... flags) throws IOException {
        return launch(List.of(), JAR, freePort(), TestFiles.dir("jcluster-it").resolve("run"), true, Map.of(),
                flags);
    }

    /**
     * Starts a master as another user ({@code prefix}: setpriv ...) from a jar that user can read, with its own
     * default runtime directory (given here only so the test knows it), and waits until it is ready. Its JVMs keep
     * no perf data: they would leave /tmp/hsperfdata_USER behind.
     */
    static Cluster startAs(List<String> prefix, Path jar, int port, Path defaultRuntime, Map<String, String> env,
                           String... flags) throws IOException {
        return awaitReady(launch(prefix, jar, port, defaultRuntime, false, env, flags));
    }

    /**
     * @param runtime given as --runtime-dir, unless {@code prefix} runs the master as another user: then it is that
     *                user's default, which the master finds itself
     */
    private static Cluster launch(List<String> prefix, Path jar, int port, Path runtime, boolean owns,
                                  Map<String, String> env, String... flags) throws IOException {
        return launch(prefix, List.of(), jar, port, runtime, owns, env, flags);
    }

    private static Cluster launch(List<String> prefix, List<String> jvmOptions, Path jar, int port, Path runtime,
                                  boolean owns, Map<String, String> env, String... flags) throws IOException {
        return launch(prefix, jvmOptions, jar, port, runtime, owns, TestFiles.file("jcluster-it", ".log"), env, flags);
    }

    /** Starts a master with these environment variables set (or, given null, removed) and waits until it is ready. */
    static Cluster startWithEnv(Map<String, String> env, String... flags) throws IOException {
        return awaitReady(launch(List.of(), JAR, freePort(), TestFiles.dir("jcluster-it").resolve("run"), true, env,
                flags));
    }

    /**
     * Starts a master as systemd starts a service whose stderr is the journal: {@code JOURNAL_STREAM} names the
     * device and inode of its stderr (here, the log file).
     */
    static Cluster startWithStderrInTheJournal(String... flags) throws IOException {
        Path log = TestFiles.file("jcluster-it", ".log");
        String stream = Files.getAttribute(log, "unix:dev") + ":" + Files.getAttribute(log, "unix:ino");
        return awaitReady(launch(List.of(), List.of(), JAR, freePort(), TestFiles.dir("jcluster-it").resolve("run"),
                true, log, Map.of("JOURNAL_STREAM", stream), flags));
    }

    /** Starts a master on another JVM ({@code java}: its binary) with these variables set, and waits until it is ready. */
    static Cluster startOn(Path java, Map<String, String> env, String... flags) throws IOException {
        return awaitReady(launch(java.toString(), List.of(), List.of(), JAR, freePort(),
                TestFiles.dir("jcluster-it").resolve("run"), true, TestFiles.file("jcluster-it", ".log"), env, flags));
    }

    private static Cluster launch(List<String> prefix, List<String> jvmOptions, Path jar, int port, Path runtime,
                                  boolean owns, Path log, Map<String, String> env, String... flags)
            throws IOException {
        return launch(javaBinary(), prefix, jvmOptions, jar, port, runtime, owns, log, env, flags);
    }

    private static Cluster launch(String java, List<String> prefix, List<String> jvmOptions, Path jar, int port,
                                  Path runtime, boolean owns, Path log, Map<String, String> env, String... flags)
            throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(java);
        if (!prefix.isEmpty()) {
            cmd.add("-XX:-UsePerfData");
        }
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", jar.toString(), "--port=" + port));
        if (prefix.isEmpty()) {
            cmd.add("--runtime-dir=" + runtime);
        }
        cmd.addAll(List.of(flags));
        cmd.addAll(noWarmUp(flags));
        if (prefix.isEmpty()) {
            cmd.addAll(asRoot(flags));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("XDG_CACHE_HOME", TestFiles.CACHE.toString());
        // what a service manager gave the test run is not the master's to use: a test gives it explicitly
        pb.environment().keySet().removeAll(SYSTEMD_VARIABLES);
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getValue() == null) {
                pb.environment().remove(e.getKey());
            } else {
                pb.environment().put(e.getKey(), e.getValue());
            }
        }
        return new Cluster(port, runtime, log, pb.start(), owns);
    }

    /** The tests run as root on a fresh machine: a master started as root must be told its workers may be too. */
    static final boolean ROOT = uid() == 0;

    private static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * {@code --warm-up=0} unless the test sets the warm-up: each new worker's warm-up is seconds of CPU, which the
     * suite's hundreds of workers cannot spend within its time; WarmUpIT tests it, and the ITs that measure nothing
     * of the JIT do not need it.
     */
    static List<String> noWarmUp(String... flags) {
        return java.util.Arrays.stream(flags).anyMatch(f -> f.startsWith("--warm-up")) ? List.of()
                : List.of("--warm-up=0");
    }

    /** {@code --allow-root} for a master these flags start as root without --user; else nothing. */
    static List<String> asRoot(String... flags) {
        boolean chosen = java.util.Arrays.stream(flags).anyMatch(f -> f.startsWith("--user") || f.equals("--allow-root"));
        return ROOT && !chosen ? List.of("--allow-root") : List.of();
    }

    static String javaBinary() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    long pid() {
        return process.pid();
    }

    /** The pids of the master's live worker processes (not its class-data training run). */
    List<Long> workerPids() {
        List<Long> children = process.toHandle().children().filter(ProcessHandle::isAlive)
                .map(ProcessHandle::pid).sorted().collect(Collectors.toList());
        seenPids.addAll(children);
        return children.stream().filter(Cluster::isWorker).collect(Collectors.toList());
    }

    private static boolean isWorker(long pid) {
        try {
            String cmd = Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.ISO_8859_1);
            return cmd.contains("jcluster.worker.WorkerMain\0--id=");
        } catch (IOException e) {
            return false;
        }
    }

    /** The status document, or null while the master's control socket is not up yet. */
    String statusIfUp() {
        try {
            return status();
        } catch (java.io.UncheckedIOException e) {
            return null;
        }
    }

    /** The master's {@code status --json} document, asked on its control socket as the CLI does. */
    String status() {
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                java.net.StandardProtocolFamily.UNIX)) {
            ch.connect(java.net.UnixDomainSocketAddress.of(runtimeDir.resolve("control.sock")));
            ch.write(java.nio.ByteBuffer.wrap("status-json\n".getBytes(StandardCharsets.UTF_8)));
            String answer = new String(java.nio.channels.Channels.newInputStream(ch).readAllBytes(),
                    StandardCharsets.UTF_8);
            if (!answer.startsWith("ok\n")) {
                throw new IllegalStateException("status: " + answer);
            }
            return answer.substring(3);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A number from the top level of the status document, like "restarts". */
    static long field(String json, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":(-?\\d+)").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return Long.parseLong(m.group(1));
    }

    /** A socket listening on a TCP port, from {@code /proc/net/tcp}: its address as the kernel writes it, in hex. */
    record TcpListener(String address, String inode) {
    }

    /** The sockets in LISTEN state on this port, IPv4 and IPv6. */
    static List<TcpListener> tcpListeners(int port) throws IOException {
        List<TcpListener> found = new ArrayList<>();
        String hexPort = String.format(":%04X", port);
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[1].endsWith(hexPort) && f[3].equals("0A")) {
                    found.add(new TcpListener(f[1].substring(0, f[1].indexOf(':')), f[9]));
                }
            }
        }
        return found;
    }

    /** The inodes of the sockets among a process's fds. */
    static Set<String> socketInodes(long pid) throws IOException {
        Set<String> inodes = new java.util.HashSet<>();
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return inodes;
    }

    /** Of these socket inodes, the TCP ones in LISTEN state and the UDP ones: "tcp6 ADDRESS:PORT", in hex. */
    static Set<String> listeningAmong(Set<String> inodes) throws IOException {
        Set<String> listening = new java.util.HashSet<>();
        for (String table : new String[] {"tcp", "tcp6", "udp", "udp6"}) {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/" + table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (inodes.contains(f[9]) && (table.startsWith("udp") || f[3].equals("0A"))) {
                    listening.add(table + " " + f[1]);
                }
            }
        }
        return listening;
    }

    /** A string from the top level of the status document, like "lastReload"; null when it is null. */
    static String text(String json, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":(null|\"((?:[^\"\\\\]|\\\\.)*)\")")
                .matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return m.group(2);
    }

    /** A true or false from the top level of the status document, like "reloading". */
    static boolean flag(String json, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":(true|false)").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return Boolean.parseBoolean(m.group(1));
    }

    /** The states of the workers the status lists, in its order. */
    static List<String> states(String json) {
        List<String> states = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"state\":\"([A-Z_]+)\"").matcher(json);
        while (m.find()) {
            states.add(m.group(1));
        }
        return states;
    }

    /** Waits until the status document satisfies {@code condition}, and returns it. */
    String awaitStatus(java.util.function.Predicate<String> condition, Duration timeout, String what) {
        String[] last = {""};
        await(() -> condition.test(last[0] = status()), timeout,
                () -> what + "; status: " + last[0] + "\nlog:\n" + logText());
        return last[0];
    }

    /** Requests in flight on all workers, as their last heartbeats counted them. */
    static long inFlight(String json) {
        long n = 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"inFlight\":(\\d+)").matcher(json);
        while (m.find()) {
            n += Long.parseLong(m.group(1));
        }
        return n;
    }

    /**
     * Waits until the workers' heartbeats count {@code n} requests in flight. Only for requests that leave the event
     * loop free (offloaded to the blocking pool): a loop busy with its request sends no heartbeat.
     */
    void awaitInFlight(int n) {
        awaitStatus(s -> inFlight(s) == n, Duration.ofSeconds(5), n + " request(s) not in flight");
    }

    /** Waits until a reload to {@code generation} is complete, as status says. */
    void awaitReloadComplete(int generation, Duration timeout) {
        awaitStatus(s -> ("generation " + generation + " complete").equals(text(s, "lastReload")), timeout,
                "reload to generation " + generation + " not complete");
    }

    /** The pids of the workers the status lists in this state (READY, DRAINING...). */
    static List<Long> pidsIn(String json, String state) {
        List<Long> pids = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"pid\":(\\d+),\"generation\":\\d+,\"state\":\""
                + state + "\"").matcher(json);
        while (m.find()) {
            pids.add(Long.parseLong(m.group(1)));
        }
        return pids;
    }

    /** Waits until the master lists exactly {@code n} workers, all READY, and returns their pids. */
    List<Long> awaitReadyWorkers(int n, Duration timeout) {
        List<List<Long>> last = new ArrayList<>(List.of(List.of()));
        await(() -> {
            String s = status();
            last.set(0, pidsIn(s, "READY"));
            return last.get(0).size() == n && s.split("\"state\":").length - 1 == n;
        }, timeout, () -> "not " + n + " READY workers: " + status() + "\nlog:\n" + logText());
        return last.get(0);
    }

    String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    void awaitLog(String text, Duration timeout) {
        await(() -> logText().contains(text), timeout, () -> "no '" + text + "' in the log:\n" + logText());
    }

    static void await(BooleanSupplier condition, Duration timeout, java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(what.get());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    /**
     * Fails if a worker dropped a buffer without releasing it. Netty notices such a buffer once the collector has
     * freed it, and reports it on a later allocation: so each worker collects garbage (jcmd GC.run), then serves a
     * few more requests. Needs workers started with {@link #LEAK_CHECKED_WORKERS}.
     */
    void assertNoLeaks() throws IOException, InterruptedException {
        String jcmd = Path.of(javaBinary()).resolveSibling("jcmd").toString();
        List<Long> workers = workerPids();
        for (long pid : workers) {
            assertTrue(Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.ISO_8859_1)
                    .contains("-Dio.netty.leakDetection.level=paranoid\0"), "worker " + pid + " checks for leaks");
            Process gc = new ProcessBuilder(jcmd, Long.toString(pid), "GC.run").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!gc.waitFor(20, TimeUnit.SECONDS) || gc.exitValue() != 0) {
                gc.destroyForcibly();
                fail("jcmd " + pid + " GC.run failed");
            }
        }
        Thread.sleep(100); // the JVM's reference handler queues what the collection found
        for (int i = 0; i < 4 * workers.size(); i++) {
            Http.get(port, "/");
        }
        Thread.sleep(300); // the master relays the workers' output to its log
        String leaks = logText().lines().filter(l -> l.contains("LEAK:")).collect(Collectors.joining("\n"));
        assertTrue(leaks.isEmpty(), "a worker leaked buffers:\n" + leaks);
    }

    /** This test provokes errors in the log: do not fail on them. */
    void expectErrors() {
        expectErrors = true;
    }

    void signal(String sig) throws IOException, InterruptedException {
        kill(sig, pid());
    }

    /**
     * Stops a process (SIGSTOP) and waits until every thread of it is stopped: kill returns once the signal is
     * sent, and a thread still running meanwhile may take work a test means the process not to take.
     */
    static void freeze(long pid) throws IOException, InterruptedException {
        kill("STOP", pid);
        await(() -> allThreadsStopped(pid), Duration.ofSeconds(5), () -> "process " + pid + " did not stop");
    }

    private static boolean allThreadsStopped(long pid) {
        try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return tasks.allMatch(t -> {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    // the state follows the command name, which is in parentheses
                    char state = stat.charAt(stat.lastIndexOf(')') + 2);
                    return state == 'T' || state == 't';
                } catch (IOException e) {
                    return true; // the thread is gone
                }
            });
        } catch (IOException e) {
            return false;
        }
    }

    static void kill(String sig, long pid) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        if (!k.waitFor(5, TimeUnit.SECONDS) || k.exitValue() != 0) {
            fail("kill -" + sig + " " + pid + " failed");
        }
    }

    /**
     * Stops a master this test did not start (the new master of an upgrade, not a child of the test): SIGTERM, then
     * waits up to 30 s for it to exit.
     */
    static void stopMaster(long pid) throws IOException, InterruptedException {
        kill("TERM", pid);
        assertTrue(ProcessHandle.of(pid).map(p -> p.onExit().orTimeout(30, TimeUnit.SECONDS).join()).isPresent());
    }

    /** Kills what is left of such a master and its workers, after a test; nothing if {@code pid} is not positive. */
    static void killTree(long pid) {
        if (pid > 0) {
            ProcessHandle.of(pid).ifPresent(p -> {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            });
        }
    }

    /** Waits for the master to exit and returns its exit code. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("master still running after " + timeout + "; log:\n" + logText());
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        try {
            workerPids();
            // a new master an upgrade started, and its workers
            process.toHandle().descendants().forEach(p -> seenPids.add(p.pid()));
        } catch (RuntimeException e) {
            // the master is gone already
        }
        if (process.isAlive()) {
            process.destroy();
            try {
                process.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        process.destroyForcibly();
        for (long pid : seenPids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        String errors = expectErrors ? "" : logText().lines()
                .filter(l -> l.contains(" ERROR ") || l.contains("Exception")).collect(Collectors.joining("\n"));
        // Tests that care whether the master removed its runtime directory assert it before closing; here what a
        // killed master left is cleared, with the log and the directory the test made for the runtime directory.
        ClusterLogs.closed(pid(), logText());
        TestFiles.deleteTree(log);
        if (ownsRuntimeDir) {
            TestFiles.deleteTree(runtimeDir.getParent());
        }
        if (!errors.isEmpty()) {
            fail("unexpected errors in the log:\n" + errors);
        }
    }
}
