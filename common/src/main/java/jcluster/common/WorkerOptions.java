package jcluster.common;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the master tells a worker on its command line ({@code claims}: its {@link ClaimSlots} file, or none).
 * Internal: users set these through the master's flags, and the worker fails fast on anything it does not
 * understand, since that means the jar and the master disagree.
 * The per-worker secret is not here: it travels in the environment ({@link #SECRET_ENV}), which only the server's
 * user can read, and not on the command line, which everyone can.
 */
public record WorkerOptions(int id, int generation, Path socket, long orphanTimeoutMillis, int threads, int maxBody, int maxHeaderSize, int maxInitialLine,
                            long keepAliveTimeoutMillis, long headerTimeoutMillis, long shutdownTimeoutMillis,
                            App app, int blockingThreads, int blockingQueue, Path claims,
                            long maxRequestsPerConnection, long maxConnectionAgeMillis, Http http,
                            Identity identity, WarmUp warmUp) {

    /** The warm-up before READY: at most {@code millis} (0: none) of {@code GET path} (--warm-up, --warm-up-path). */
    public record WarmUp(long millis, String path) {
        public static final WarmUp NONE = new WarmUp(0, "/health");
    }

    /**
     * What the worker adds around the app: its access log ({@code "-"}: stdout; null: none) and that log's format,
     * the sources trusted to send a PROXY protocol header (CIDRs, comma-separated; null: no PROXY protocol), and
     * compression ({@code compressLevel} 0: off), and WebSockets' limits (--max-ws-frame, --ws-idle-timeout,
     * --ws-drain-grace).
     */
    public record Http(String accessLog, String accessLogFormat, String proxyFrom, int compressLevel,
                       int compressMinLength, int maxWsFrame, long wsIdleMillis, long wsDrainGraceMillis) {
        public static final Http NONE = new Http(null, "combined", null, 0, 0, 1 << 16, 60_000, 1000);
    }

    /**
     * Who the worker is: the uid and gid it drops to once it has reached the master's sockets (-1: it stays as it
     * started), whether it may run as root, and the open-file limit it raises itself to (0: as inherited).
     */
    public record Identity(int uid, int gid, boolean allowRoot, long openFiles) {
        public static final Identity INHERITED = new Identity(-1, -1, true, 0);
    }

    /** What the worker serves: an app jar and/or class (none: the built-in app), and a static directory. */
    public record App(Path jar, String className, Path staticDir) {
        public static final App DEFAULT = new App(null, null, null);
    }

    public static final String SECRET_ENV = "JCLUSTER_WORKER_SECRET";

    public List<String> toArgs() {
        List<String> args = new ArrayList<>();
        args.add("--id=" + id);
        args.add("--generation=" + generation);
        args.add("--socket=" + socket);
        args.add("--orphan-timeout-ms=" + orphanTimeoutMillis);
        args.add("--threads=" + threads);
        args.add("--max-body=" + maxBody);
        args.add("--max-header-size=" + maxHeaderSize);
        args.add("--max-initial-line=" + maxInitialLine);
        args.add("--keepalive-timeout-ms=" + keepAliveTimeoutMillis);
        args.add("--header-timeout-ms=" + headerTimeoutMillis);
        args.add("--shutdown-timeout-ms=" + shutdownTimeoutMillis);
        args.add("--app-jar=" + (app.jar() == null ? "" : app.jar()));
        args.add("--app=" + (app.className() == null ? "" : app.className()));
        args.add("--static=" + (app.staticDir() == null ? "" : app.staticDir()));
        args.add("--blocking-threads=" + blockingThreads);
        args.add("--blocking-queue=" + blockingQueue);
        args.add("--claims=" + (claims == null ? "" : claims));
        args.add("--max-requests-per-connection=" + maxRequestsPerConnection);
        args.add("--max-connection-age-ms=" + maxConnectionAgeMillis);
        args.add("--access-log=" + (http.accessLog() == null ? "" : http.accessLog()));
        args.add("--access-log-format=" + http.accessLogFormat());
        args.add("--proxy-from=" + (http.proxyFrom() == null ? "" : http.proxyFrom()));
        args.add("--compress-level=" + http.compressLevel());
        args.add("--compress-min-length=" + http.compressMinLength());
        args.add("--max-ws-frame=" + http.maxWsFrame());
        args.add("--ws-idle-timeout-ms=" + http.wsIdleMillis());
        args.add("--ws-drain-grace-ms=" + http.wsDrainGraceMillis());
        args.add("--uid=" + identity.uid());
        args.add("--gid=" + identity.gid());
        args.add("--allow-root=" + identity.allowRoot());
        args.add("--rlimit-nofile=" + identity.openFiles());
        args.add("--warm-up-ms=" + warmUp.millis());
        args.add("--warm-up-path=" + warmUp.path());
        return args;
    }

    public static WorkerOptions fromArgs(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (!a.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("malformed worker argument: " + a);
            }
            m.put(a.substring(2, eq), a.substring(eq + 1));
        }
        WorkerOptions o = new WorkerOptions(
                Integer.parseInt(take(m, "id")), Integer.parseInt(take(m, "generation")), Path.of(take(m, "socket")),
                Long.parseLong(take(m, "orphan-timeout-ms")), Integer.parseInt(take(m, "threads")),
                Integer.parseInt(take(m, "max-body")), Integer.parseInt(take(m, "max-header-size")),
                Integer.parseInt(take(m, "max-initial-line")), Long.parseLong(take(m, "keepalive-timeout-ms")),
                Long.parseLong(take(m, "header-timeout-ms")), Long.parseLong(take(m, "shutdown-timeout-ms")),
                new App(optionalPath(take(m, "app-jar")), optional(take(m, "app")), optionalPath(take(m, "static"))),
                Integer.parseInt(take(m, "blocking-threads")), Integer.parseInt(take(m, "blocking-queue")),
                optionalPath(take(m, "claims")), Long.parseLong(take(m, "max-requests-per-connection")),
                Long.parseLong(take(m, "max-connection-age-ms")),
                new Http(optional(take(m, "access-log")), take(m, "access-log-format"), optional(take(m, "proxy-from")),
                        Integer.parseInt(take(m, "compress-level")), Integer.parseInt(take(m, "compress-min-length")),
                        Integer.parseInt(take(m, "max-ws-frame")), Long.parseLong(take(m, "ws-idle-timeout-ms")),
                        Long.parseLong(take(m, "ws-drain-grace-ms"))),
                new Identity(Integer.parseInt(take(m, "uid")), Integer.parseInt(take(m, "gid")),
                        Boolean.parseBoolean(take(m, "allow-root")), Long.parseLong(take(m, "rlimit-nofile"))),
                new WarmUp(Long.parseLong(take(m, "warm-up-ms")), take(m, "warm-up-path")));
        if (!m.isEmpty()) {
            throw new IllegalArgumentException("unknown worker arguments: " + m.keySet());
        }
        return o;
    }

    private static String optional(String v) {
        return v.isEmpty() ? null : v;
    }

    private static Path optionalPath(String v) {
        return v.isEmpty() ? null : Path.of(v);
    }

    private static String take(Map<String, String> m, String key) {
        String v = m.remove(key);
        if (v == null) {
            throw new IllegalArgumentException("missing worker argument --" + key);
        }
        return v;
    }
}
