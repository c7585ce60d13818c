package jcluster.master.supervisor;

import jcluster.common.WorkerOptions;
import jcluster.master.MasterOptions;
import jcluster.master.ops.Posix;
import jcluster.master.ops.RuntimeDir;
import jcluster.worker.WorkerMain;
import jnr.constants.platform.Signal;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Starts worker processes: the master's own {@code java} binary and class path (so a rebuilt jar is picked up by
 * the next worker started), the worker JVM options, the worker's options on its command line and its secret in its
 * environment. stdout and stderr are pipes the master relays ({@link WorkerOutput}).
 */
public final class WorkerLauncher implements Launcher {
    /** The maximum lengths of a request line and of a request head, as nginx's large_client_header_buffers. */
    static final int MAX_INITIAL_LINE = 8192;
    static final int MAX_HEADER_SIZE = 8192;

    private final MasterOptions options;
    private final RuntimeDir runtimeDir;
    private final List<String> jvmOptions = new ArrayList<>();
    private ClassDataArchive archive;

    public WorkerLauncher(MasterOptions options, RuntimeDir runtimeDir) {
        this.options = options;
        this.runtimeDir = runtimeDir;
        jvmOptions.addAll(WorkerJvm.split(options.workerJvmOpts));
        this.archive = ClassDataArchive.forWorkers(WorkerJvm.javaBinary(), jvmOptions, ownClassPath());
    }

    /** Ends what the launcher still runs besides workers (a training run). */
    @Override
    public void close() {
        if (archive != null) {
            archive.stop();
        }
    }

    @Override
    public void jvmOptionsChanged() {
        jvmOptions.clear();
        jvmOptions.addAll(WorkerJvm.split(options.workerJvmOpts));
        if (archive != null) {
            archive.stop();
        }
        // an archive is made for one set of JVM options
        archive = ClassDataArchive.forWorkers(WorkerJvm.javaBinary(), jvmOptions, ownClassPath());
    }

    /** Makes the workers' class-data archive now if there is none for this jar (in the background). */
    @Override
    public void prepareArchive() {
        if (archive != null) {
            archive.current();
        }
    }

    @Override
    public OsProcess start(int id, int generation, byte[] secret, Path claimsFile) throws IOException {
        WorkerOptions wo = new WorkerOptions(id, generation, runtimeDir.handoffSocket(),
                // a worker that dropped to --user cannot reach a new master's root-only socket: it drains at once
                options.identity.uid() >= 0 ? 0 : options.orphanTimeout.toMillis(), options.workerThreads, (int) options.maxBody,
                MAX_HEADER_SIZE, MAX_INITIAL_LINE, options.keepAliveTimeout.toMillis(),
                options.headerTimeout.toMillis(),
                // the worker's own deadline is a backstop for when the master is gone; the master's acts first
                Math.max(options.drainTimeout.toMillis(), options.shutdownTimeout.toMillis()),
                new WorkerOptions.App(absolute(options.appJar), options.appClass, absolute(options.staticDir)),
                options.blockingThreads, options.blockingQueue, claimsFile, options.maxRequestsPerConnection,
                options.maxConnectionAge.toMillis(), new WorkerOptions.Http(options.accessLog, options.accessLogFormat,
                        options.proxyProtocol ? options.proxyFrom : null, options.compress ? options.compressLevel : 0,
                        (int) options.compressMinLength, (int) options.maxWsFrame, options.wsIdleTimeout.toMillis(),
                        options.wsDrainGrace.toMillis()), options.identity,
                new WorkerOptions.WarmUp(options.warmUp.toMillis(), options.warmUpPath));
        List<String> cmd = new ArrayList<>();
        cmd.add(WorkerJvm.javaBinary());
        cmd.addAll(jvmOptions);
        // the JVM's own output (a thread dump) on stderr: stdout may be the access log's
        cmd.add("-XX:+DisplayVMOutputToStderr");
        if (options.identity.uid() >= 0) {
            // its perf data file would be root's (it starts as root), and then no longer its own to remove
            cmd.add("-XX:-UsePerfData");
        }
        Path cds = archive == null ? null : archive.current();
        if (cds != null) {
            cmd.add(archive.option(cds));
        }
        cmd.addAll(WorkerJvm.logProperties());
        cmd.add("-cp");
        cmd.add(ownClassPath());
        cmd.add(WorkerMain.class.getName());
        cmd.addAll(wo.toArgs());
        ProcessBuilder pb = WorkerJvm.processBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put(WorkerOptions.SECRET_ENV, HexFormat.of().formatHex(secret));
        // glibc gives each thread that mallocs an arena of its own; a worker has few busy threads and gains
        // nothing from more than two, which keeps its C heap (JIT compiler arenas, mostly) small
        pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
        Process p = pb.start();
        return new Child(p, new WorkerOutput(id, p.pid(), p, "-".equals(options.accessLog)));
    }

    /**
     * The new master of an upgrade: this master's command line from {@code /proc}, as it was given (its JVM options
     * included; {@code java} found on the PATH as it is now), its stderr as both its stdout and stderr (the master
     * writes only to stderr). The JVM closes every other fd in the child. A shell starts it in the background and
     * exits, printing its pid: so it is orphaned at once and adopted (by systemd, for a service), not this master's
     * child. systemd supervises a main process it did not start only if it is its child: otherwise it would not
     * see it exit, nor wait for it on a stop.
     */
    @Override
    public ProcessHandle startMaster(Map<String, String> environment, List<String> flags) throws IOException {
        List<String> self = List.of(Files.readString(Path.of("/proc/self/cmdline"), StandardCharsets.UTF_8)
                .split("\0"));
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", "\"$@\" 1>&2 & echo $!", "sh"));
        if (flags.isEmpty()) {
            cmd.addAll(self);
        } else {
            // the JVM and its options, and the jar (or main class), then the new flags
            int jar = self.indexOf("-jar");
            int main = jar >= 0 ? jar + 1 : self.indexOf("jcluster.master.Main");
            if (main < 0 || main >= self.size()) {
                throw new IOException("this master's command line names neither -jar JAR nor jcluster.master.Main: "
                        + "new flags cannot go in it");
            }
            cmd.addAll(self.subList(0, main + 1));
            cmd.addAll(flags);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        environment.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        Process shell = pb.start();
        String pid = new String(shell.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        try {
            shell.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!pid.matches("\\d{1,10}")) {
            throw new IOException("/bin/sh did not start it (it printed '" + pid + "')");
        }
        return ProcessHandle.of(Long.parseLong(pid)).orElseThrow(() -> new IOException("pid " + pid
                + " exited at once"));
    }

    /** A worker JVM, its output relayed. */
    private record Child(Process process, WorkerOutput output) implements OsProcess {
        @Override
        public long pid() {
            return process.pid();
        }

        @Override
        public boolean isAlive() {
            return process.isAlive();
        }

        @Override
        public int exitValue() {
            return process.exitValue();
        }

        @Override
        public void kill() {
            process.destroyForcibly();
        }

        @Override
        public void requestThreadDump() {
            Posix.signal(process.pid(), Signal.SIGQUIT);
        }

        @Override
        public CompletionStage<Void> exited() {
            // everything the worker wrote before it died is in the log before its death is
            return process.onExit().thenRun(() -> output.awaitEnd(1, TimeUnit.SECONDS));
        }

        @Override
        public List<String> lastLines() {
            return output.tail();
        }
    }

    private static Path absolute(Path p) {
        return p == null ? null : p.toAbsolutePath();
    }

    private static String ownClassPath() {
        StringBuilder sb = new StringBuilder();
        for (String part : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (sb.length() > 0) {
                sb.append(File.pathSeparator);
            }
            sb.append(Path.of(part).toAbsolutePath());
        }
        return sb.toString();
    }
}
