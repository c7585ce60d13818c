package jcluster.master.supervisor;

import jcluster.common.Logging;

import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options workers get unless --worker-jvm-opts replaces them, chosen for a small event-loop process and
 * measured (bench/run.sh's footprint run): the serial collector; a heap that starts at 16 MiB with an 8 MiB young
 * generation, so the pages a worker touches stay few (with the JVM's defaults on a large machine, the young
 * generation alone grew a worker to about 160 MiB of RSS under load; these keep it near 85 MiB at the same
 * throughput) and may grow to 256 MiB for the app; the C heap trimmed every second where the JVM can (17.0.9+,
 * 21.0.1+, 22+: about 8 MiB less after load); an OutOfMemoryError ends the process, so the master respawns it;
 * and Netty's buffer leak detection is off. Even sampling one buffer in 128 (Netty's default), it wraps every buffer
 * and records a stack trace per sample: measured, it was a fifth of a worker's user CPU per keep-alive request
 * (3.8 against 2.9 µs). The test suite runs workers with it at {@code paranoid} and fails on any leak report; a user
 * who suspects an app of leaking passes these options with {@code -Dio.netty.leakDetection.level=simple} instead.
 * {@code main} prints them, for scripts that start a JVM like a worker (bench/run.sh).
 */
public final class WorkerJvm {
    private WorkerJvm() {
    }

    public static String defaultOptions() {
        StringBuilder sb = new StringBuilder("-XX:+UseSerialGC -Xms16m -Xmn8m -Xmx256m");
        if (canTrimNativeHeap(Runtime.version())) {
            sb.append(" -XX:+UnlockExperimentalVMOptions -XX:TrimNativeHeapInterval=1000");
        }
        // Netty loads its native transport: JDK 22 and later warn on every start unless native access is granted
        // (JDK 17, where the flag came in, takes it silently)
        return sb.append(" -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled")
                .append(" --enable-native-access=ALL-UNNAMED").toString();
    }

    /** The JVMs that know -XX:TrimNativeHeapInterval (JDK-8293114 and its backports). */
    static boolean canTrimNativeHeap(Runtime.Version v) {
        return v.feature() >= 22 || (v.feature() == 21 && v.update() >= 1) || (v.feature() == 17 && v.update() >= 9);
    }

    /**
     * The default options for --help, a few to a line: picocli wraps a long description at any break its line
     * breaker finds, including inside a flag ("-XX: +UseSerialGC", wrong if copied), so no line is left long
     * enough to wrap.
     */
    public static String helpText() {
        StringBuilder sb = new StringBuilder();
        int line = 0;
        for (String opt : split(defaultOptions())) {
            if (line > 0 && line + 1 + opt.length() > 44) {
                sb.append(System.lineSeparator());
                line = 0;
            } else if (line > 0) {
                sb.append(' ');
                line++;
            }
            sb.append(opt);
            line += opt.length();
        }
        return sb.toString();
    }

    /** The java binary of this JVM, which workers are started with. */
    static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** --worker-jvm-opts as arguments. */
    public static java.util.List<String> split(String options) {
        return java.util.Arrays.stream(options.trim().split("\\s+")).filter(o -> !o.isEmpty()).toList();
    }

    /**
     * Asks the JVM whether it starts with these options ({@code java OPTIONS -version}), once, before any worker is
     * spawned with them: a typo then costs one line and exit 2, not a crash loop of workers.
     * @return null if it does, else the JVM's own first line of complaint
     */
    public static String refusal(java.util.List<String> options) {
        java.util.List<String> cmd = new java.util.ArrayList<>();
        cmd.add(javaBinary());
        cmd.addAll(options);
        cmd.add("-version");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "java -version with them did not finish within 60 s";
            }
            if (p.exitValue() == 0) {
                return null;
            }
            return out.lines().filter(l -> !l.isBlank() && !l.startsWith("Error: Could not create the Java Virtual")
                    && !l.startsWith("Error: A fatal exception has occurred")).findFirst()
                    .orElse("java -version with them exited with code " + p.exitValue());
        } catch (java.io.IOException e) {
            return "cannot run " + cmd.get(0) + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * What systemd gives the master alone: the notify socket and the watchdog (a worker that wrote to them would be
     * taken for the master), the activated sockets, and the journal stream (a worker's stderr is the master's pipe,
     * which the master relays into the journal).
     */
    static final List<String> MASTER_ONLY_ENVIRONMENT = List.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
            "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM");

    /**
     * A worker JVM's process (a worker or a training run): the master's environment without what is the master's
     * alone ({@link #MASTER_ONLY_ENVIRONMENT}).
     */
    static ProcessBuilder processBuilder(List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeAll(MASTER_ONLY_ENVIRONMENT);
        return pb;
    }

    /** The system properties a worker JVM takes from the master: its log level, and whether it logs to the journal. */
    static List<String> logProperties() {
        List<String> props = new ArrayList<>();
        String level = System.getProperty("jcluster.log.level");
        if (level != null) {
            props.add("-Djcluster.log.level=" + level);
        }
        if (Logging.json()) {
            props.add("-D" + Logging.FORMAT_PROPERTY + "=json");
        }
        if (Logging.toJournal()) {
            props.add("-D" + Logging.JOURNAL_PROPERTY + "=true");
        }
        return props;
    }

    public static void main(String[] args) {
        System.out.println(defaultOptions());
    }
}
