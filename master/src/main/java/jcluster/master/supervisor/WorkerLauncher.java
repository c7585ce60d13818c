package jcluster.master.supervisor;

import jcluster.common.WorkerOptions;
import jcluster.master.MasterOptions;
import jcluster.master.ops.Posix;
import jcluster.master.ops.RuntimeDir;
import jcluster.worker.WorkerMain;
import jnr.constants.platform.Signal;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
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
    private final ClassDataArchive archive;

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

    /** Makes the workers' class-data archive now if there is none for this jar (in the background). */
    @Override
    public void prepareArchive() {
        if (archive != null) {
            archive.current();
        }
    }

    @Override
    public OsProcess start(int id, byte[] secret, Path claimsFile) throws IOException {
        WorkerOptions wo = new WorkerOptions(id, runtimeDir.handoffSocket(), options.workerThreads, (int) options.maxBody,
                MAX_HEADER_SIZE, MAX_INITIAL_LINE, options.keepAliveTimeout.toMillis(),
                options.headerTimeout.toMillis(),
                // the worker's own deadline is a backstop for when the master is gone; the master's acts first
                Math.max(options.drainTimeout.toMillis(), options.shutdownTimeout.toMillis()),
                new WorkerOptions.App(absolute(options.appJar), options.appClass, absolute(options.staticDir)),
                options.blockingThreads, options.blockingQueue, claimsFile, options.maxRequestsPerConnection,
                options.maxConnectionAge.toMillis());
        List<String> cmd = new ArrayList<>();
        cmd.add(WorkerJvm.javaBinary());
        cmd.addAll(jvmOptions);
        Path cds = archive == null ? null : archive.current();
        if (cds != null) {
            cmd.add("-XX:SharedArchiveFile=" + cds);
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
        return new Child(p, new WorkerOutput(id, p.pid(), p));
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
