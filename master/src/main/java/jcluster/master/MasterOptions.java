package jcluster.master;

import jcluster.master.ops.Sched;
import jcluster.master.supervisor.WorkerJvm;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;

/** The master's flags. Parsed by picocli; ranges checked by {@link Main#validate}. */
public final class MasterOptions {
    @Option(names = "--config", paramLabel = "FILE",
            description = "Read flags from this TOML file, each a key named as its flag without -- (workers = 4, "
                    + "keepalive-timeout = \"5s\", compress = true); flags on the command line win. A reload "
                    + "reads it again.")
    Path config;

    @Option(names = {"-t", "--check-config"},
            description = "Check the flags and the --config file, print the configuration they make, and exit: 0 "
                    + "if it is valid, 2 if not (as nginx -t).")
    boolean checkConfig;

    /** The --config file and the command line, to read again on a reload; null without --config. */
    ConfigFile.Merged configSource;

    @Option(names = "--workers", paramLabel = "N", description = "Worker processes (default: CPUs = ${DEFAULT-VALUE}).")
    int workers = Runtime.getRuntime().availableProcessors();

    @Option(names = "--host", paramLabel = "ADDR", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host = "0.0.0.0";

    @Option(names = "--port", paramLabel = "PORT", description = "TCP port to listen on (default: ${DEFAULT-VALUE}).")
    int port = 8080;

    @Option(names = "--backlog", paramLabel = "N",
            description = "Kernel accept backlog of the listening socket (default: ${DEFAULT-VALUE}).")
    int backlog = 1024;

    @Option(names = "--sched", paramLabel = "POLICY",
            description = "Linux scheduling policy of the master and its workers: batch (no wakeup preemption: "
                    + "more requests per wake-up when the CPUs are busy) or other, the usual one "
                    + "(default: ${DEFAULT-VALUE}).")
    String sched = Sched.BATCH;

    @Option(names = "--dispatch", paramLabel = "POLICY",
            description = "How a new connection's worker is chosen among those that can take one: "
                    + "round-robin, least-connections, or sticky (by the client's IP address, so a client keeps its "
                    + "worker across connections and reloads) (default: ${DEFAULT-VALUE}).")
    public String dispatch = "round-robin";

    @Option(names = "--handoff-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "A connection a worker has not picked up this long after it was sent is taken back and "
                    + "given to another worker, and that worker gets no more until it catches up; 0: never "
                    + "(default: 50ms).")
    public Duration handoffTimeout = Duration.ofMillis(50);

    @Option(names = "--max-requests-per-connection", paramLabel = "N",
            description = "After this many requests on a keep-alive connection, answer with Connection: close, so "
                    + "clients reconnect and spread over the workers again; 0: never (default: ${DEFAULT-VALUE}).")
    public long maxRequestsPerConnection;

    @Option(names = "--max-connection-age", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "The same once a keep-alive connection is this old; 0: never (default: 0).")
    public Duration maxConnectionAge = Duration.ZERO;

    @Option(names = "--slow-start", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "A new worker's share of new connections grows from a tenth to a full share over this "
                    + "long, so its cold JIT is not given a full share at once (least-connections); 0: off "
                    + "(default: 0).")
    public Duration slowStart = Duration.ZERO;

    @Option(names = "--warm-up", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "Before a new worker says READY it serves itself GET --warm-up-path through its whole "
                    + "stack, over loopback, until its JIT has compiled that path (at most this long), so that no "
                    + "client meets a cold JVM; 0: off (default: ${DEFAULT-VALUE}).")
    public Duration warmUp = Duration.ofSeconds(5);

    @Option(names = "--warm-up-path", paramLabel = "PATH",
            description = "What the warm-up asks the app for, with GET: a cheap route that runs the code most "
                    + "requests run (default: ${DEFAULT-VALUE}).")
    public String warmUpPath = "/health";

    @Option(names = "--runtime-dir", paramLabel = "DIR",
            description = "Private directory (mode 0700) for the handoff socket (default: "
                    + "$XDG_RUNTIME_DIR/jcluster-PORT, else /tmp/jcluster-UID-PORT).")
    Path runtimeDir;

    @Option(names = "--worker-threads", paramLabel = "N",
            description = "Event loop threads per worker (default: ${DEFAULT-VALUE}).")
    public int workerThreads = 1;

    @Option(names = "--app-jar", paramLabel = "JAR",
            description = "Serve the app in this jar: its jcluster.app.Handler found through ServiceLoader, or the "
                    + "class --app names. Read again by every new worker, so a reload deploys a new jar.")
    public Path appJar;

    @Option(names = "--app", paramLabel = "CLASS",
            description = "The app's jcluster.app.Handler class (in --app-jar, or on the class path).")
    public String appClass;

    @Option(names = "--static", paramLabel = "DIR",
            description = "Serve the files under DIR for GET and HEAD (sendfile, ETag, ranges); other requests go "
                    + "to the app.")
    public Path staticDir;

    @Option(names = "--blocking-threads", paramLabel = "N",
            description = "Threads per worker for blocking work (handlers marked blocking, offloaded tasks) "
                    + "(default: ${DEFAULT-VALUE}).")
    public int blockingThreads = 16;

    @Option(names = "--blocking-queue", paramLabel = "N",
            description = "Blocking tasks a worker queues when its threads are busy; past it requests get 503 with "
                    + "Retry-After (default: ${DEFAULT-VALUE}).")
    public int blockingQueue = 64;

    @Option(names = "--max-body", paramLabel = "SIZE", converter = Units.SizeConverter.class,
            description = "Largest request body; larger gets 413 (default: 1m; suffixes k, m, g).")
    public long maxBody = 1 << 20;

    @Option(names = "--keepalive-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "Close keep-alive connections idle this long (default: 5s; units ms, s, m).")
    public Duration keepAliveTimeout = Duration.ofSeconds(5);

    @Option(names = "--header-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "Answer 408 to a client this slow to send a request (default: 10s).")
    public Duration headerTimeout = Duration.ofSeconds(10);

    @Option(names = "--shutdown-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "On SIGTERM/SIGINT, wait this long for in-flight requests before killing workers "
                    + "(default: 30s).")
    public Duration shutdownTimeout = Duration.ofSeconds(30);

    @Option(names = "--drain-delay", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "On SIGTERM/SIGINT or stop, answer 503 on /readyz at once but keep accepting and serving "
                    + "this long before draining, so a load balancer moves away first (default: 0).")
    public Duration drainDelay = Duration.ZERO;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "A worker replaced by a reload or scale-down is killed if it has not finished its "
                    + "requests after this long (default: 30s).")
    public Duration drainTimeout = Duration.ofSeconds(30);

    @Option(names = "--boot-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "A worker not READY after this long is killed; during a reload, the reload is aborted "
                    + "(default: 30s).")
    public Duration bootTimeout = Duration.ofSeconds(30);

    @Option(names = "--orphan-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "If the master dies, its workers keep serving the connections they hold and wait this "
                    + "long for a new master on the same runtime directory to adopt them, then drain and exit "
                    + "(default: 30s; 0: at once).")
    public Duration orphanTimeout = Duration.ofSeconds(30);

    @Option(names = "--worker-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "A worker whose event loop sends no heartbeat for this long gets SIGQUIT (thread dump) and "
                    + "is replaced (default: 30s).")
    public Duration workerTimeout = Duration.ofSeconds(30);

    @Option(names = "--restart-delay", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "Delay before respawning a dead worker, doubled for each unstable death in a row, at most "
                    + "10s (default: 100ms).")
    public Duration restartDelay = Duration.ofMillis(100);

    @Option(names = "--max-restarts", paramLabel = "N",
            description = "Unstable worker deaths in a row (died before READY or before --min-uptime) after which "
                    + "the master exits with code 3 (default: ${DEFAULT-VALUE}).")
    public int maxRestarts = 5;

    @Option(names = "--min-uptime", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "A worker that dies younger than this counts as unstable (default: 1s).")
    public Duration minUptime = Duration.ofSeconds(1);

    @Option(names = "--max-requests", paramLabel = "N",
            description = "Recycle a worker (replace it gracefully) after it served this many requests; 0: never "
                    + "(default: ${DEFAULT-VALUE}).")
    public long maxRequests;

    @Option(names = "--max-requests-jitter", paramLabel = "N",
            description = "Add a random 0..N to each worker's --max-requests, so workers do not recycle together "
                    + "(default: ${DEFAULT-VALUE}).")
    public long maxRequestsJitter;

    @Option(names = "--max-memory", paramLabel = "SIZE", converter = Units.SizeConverter.class,
            description = "Recycle a worker whose RSS exceeds this (k, m, g); 0: never (default: 0).")
    public long maxMemory;

    @Option(names = "--max-heap-after-gc", paramLabel = "PERCENT",
            description = "Recycle a worker whose heap is this full right after a collection (1-100); 0: never "
                    + "(default: ${DEFAULT-VALUE}).")
    public int maxHeapAfterGc;

    @Option(names = "--admin-port", paramLabel = "PORT",
            description = "Serve /metrics (Prometheus), /status (JSON), /healthz and /readyz on this port; 0: off "
                    + "(default: ${DEFAULT-VALUE}).")
    int adminPort;

    @Option(names = "--admin-host", paramLabel = "ADDR",
            description = "Address of the admin port (default: ${DEFAULT-VALUE}, loopback only).")
    String adminHost = "127.0.0.1";

    @Option(names = "--pid-file", paramLabel = "FILE",
            description = "Write the master's pid here at start; removed at exit.")
    Path pidFile;

    @Option(names = "--user", paramLabel = "USER",
            description = "Run the workers as this user: the master, started as root, binds the port (below 1024 "
                    + "too), then starts each worker, which reaches its sockets and drops to USER before it loads "
                    + "the app.")
    public String user;

    @Option(names = "--group", paramLabel = "GROUP",
            description = "The workers' group, with --user (default: USER's own group).")
    public String group;

    @Option(names = "--allow-root",
            description = "Let the workers run as root: without --user, a master started as root refuses to.")
    public boolean allowRoot;

    @Option(names = "--worker-rlimit-nofile", paramLabel = "N",
            description = "Raise each worker's open-file limit to N, as nginx's worker_rlimit_nofile (default: the "
                    + "master's own, which it raises to its hard limit at start).")
    public long workerRlimitNofile;

    @Option(names = "--access-log", paramLabel = "PATH",
            description = "Log every request here, one line each, written by the workers (each appends whole lines "
                    + "with O_APPEND); -: the master's stdout. Reopened by reopen-logs or SIGUSR1 (default: none).")
    public String accessLog;

    @Option(names = "--access-log-format", paramLabel = "FORMAT",
            description = "combined (nginx's, plus rt=SECONDS worker=ID) or json (default: ${DEFAULT-VALUE}).")
    public String accessLogFormat = "combined";

    @Option(names = "--log-format", paramLabel = "FORMAT",
            description = "The server's own log lines: text, or json (one object a line: @timestamp, level, "
                    + "logger_name, message, process, pid) (default: ${DEFAULT-VALUE}).")
    public String logFormat = "text";

    @Option(names = "--proxy-protocol",
            description = "Every connection must begin with a PROXY protocol header (v1 or v2) from a source "
                    + "--proxy-from trusts; the client address it names is the one the app and the access log see. "
                    + "Others are refused, with a logged reason.")
    public boolean proxyProtocol;

    @Option(names = "--proxy-from", paramLabel = "CIDRS",
            description = "With --proxy-protocol, the load balancers' addresses or CIDRs, comma-separated "
                    + "(default: ${DEFAULT-VALUE}).")
    public String proxyFrom = "127.0.0.1/32,::1/128";

    @Option(names = "--compress",
            description = "Gzip text responses (text/*, JSON, JavaScript, XML, SVG) held in memory for clients that "
                    + "accept it, and serve file.gz beside a static file, as nginx's gzip and gzip_static.")
    public boolean compress;

    @Option(names = "--compress-level", paramLabel = "N",
            description = "With --compress, the gzip level, 1 (fastest, nginx's default) to 9 "
                    + "(default: ${DEFAULT-VALUE}).")
    public int compressLevel = 1;

    @Option(names = "--compress-min-length", paramLabel = "SIZE", converter = Units.SizeConverter.class,
            description = "With --compress, smaller bodies go as they are (default: 256).")
    public long compressMinLength = 256;

    @Option(names = "--max-ws-frame", paramLabel = "SIZE", converter = Units.SizeConverter.class,
            description = "The largest WebSocket frame, and message of frames, a client may send; a larger one closes "
                    + "its socket with 1009 (default: 64k).")
    public long maxWsFrame = 64 << 10;

    @Option(names = "--ws-idle-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "A WebSocket silent for half of this is pinged, and closed (1001) if silent for all of it; "
                    + "0: never (default: 60s).")
    public Duration wsIdleTimeout = Duration.ofSeconds(60);

    @Option(names = "--ws-drain-grace", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "How long a draining worker's WebSockets stay open before they are sent close 1001 "
                    + "\"going away\", for their clients to reconnect to another worker (default: 1s).")
    public Duration wsDrainGrace = Duration.ofSeconds(1);

    @Option(names = "--worker-jvm-opts", paramLabel = "OPTS",
            description = "JVM options for workers, space-separated, replacing the defaults, which are:%n"
                    + "${sys:jcluster.help.jvmopts}")
    public String workerJvmOpts = WorkerJvm.defaultOptions();

    /** Who the workers run as: resolved and checked by {@link Main#validate}. */
    public jcluster.common.WorkerOptions.Identity identity = jcluster.common.WorkerOptions.Identity.INHERITED;

    /** What the workers serve, as status names it: the app jar, the --app class, or the built-in app. */
    public String appName() {
        return appJar != null ? appJar.toAbsolutePath().toString() : appClass != null ? appClass : "built-in";
    }
}
