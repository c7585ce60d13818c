package jcluster.master;

import jcluster.common.ExitCodes;
import jcluster.common.Logging;
import jcluster.master.handoff.Dispatcher;
import jcluster.master.ops.ControlCommands;
import jcluster.master.ops.Identity;
import jcluster.master.ops.Sched;
import jcluster.master.supervisor.WorkerJvm;
import jcluster.worker.http.TrustedProxies;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.util.concurrent.Callable;

/** {@code java -jar master.jar [flags]}: parses the flags and runs the master. */
@Command(name = "master.jar", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false,
        subcommands = {ControlCommands.Status.class, ControlCommands.Reload.class, ControlCommands.Scale.class,
                ControlCommands.Dump.class, ControlCommands.Send.class, ControlCommands.ReopenLogs.class,
                jcluster.master.ops.Top.class,
                ControlCommands.Upgrade.class, ControlCommands.Stop.class, CommandLine.HelpCommand.class},
        description = "Cluster-mode HTTP server: one master accepts on the port and hands each connection to one of "
                + "N Netty worker processes.")
public final class Main implements Callable<Integer> {
    @Mixin
    MasterOptions options = new MasterOptions();

    @Spec
    CommandSpec spec;

    /** The file's keys and the command line; where each key of the file came from. */
    private ConfigFile.Merged merged;

    public static void main(String[] args) {
        jcluster.common.Jffi.withoutUnsafe();
        System.setProperty("jcluster.help.jvmopts", WorkerJvm.helpText());
        Main main = new Main();
        try {
            main.merged = ConfigFile.merge(args, CommandSpec.forAnnotatedObject(new MasterOptions()));
        } catch (ConfigFile.Invalid e) {
            System.err.println("master: " + e.getMessage());
            System.exit(ExitCodes.USAGE);
            return;
        }
        CommandLine cli = new CommandLine(main);
        cli.setParameterExceptionHandler((e, a) -> usageError(e, main.merged));
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof StartupException) {
                cmd.getErr().println("master: " + e.getMessage());
                return ExitCodes.FAILURE;
            }
            throw e;
        });
        System.exit(cli.execute(main.merged.args().toArray(String[]::new)));
    }

    private static int usageError(ParameterException e, ConfigFile.Merged merged) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        String hint = "";
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            hint = "; did you mean " + String.join(" or ", u.getSuggestions()) + "?";
        }
        String help = cmd.getParent() == null ? "--help" : cmd.getCommandName() + " --help";
        err.println("master: " + where(e, merged) + e.getMessage() + hint + " (see " + help + ")");
        return ExitCodes.USAGE;
    }

    /** {@code FILE:LINE: } when the flag the error is about came from the --config file; else nothing. */
    private static String where(ParameterException e, ConfigFile.Merged merged) {
        String flag = e.getArgSpec() instanceof CommandLine.Model.OptionSpec o ? o.longestName() : null;
        return merged == null ? "" : merged.where(e.getMessage(), flag);
    }

    /** Why a reread of the --config file cannot be used, in the one line the CLI would print. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /**
     * The options the --config file and the original command line make now, checked as at start: for a reload.
     * Not on the master's loop's critical path: it reads a small file.
     */
    static MasterOptions reread(ConfigFile.Merged previous) throws Refused {
        Main main = new Main();
        try {
            main.merged = ConfigFile.merge(previous.commandLine().toArray(String[]::new),
                    CommandSpec.forAnnotatedObject(new MasterOptions()));
        } catch (ConfigFile.Invalid e) {
            throw new Refused(e.getMessage());
        }
        CommandLine cli = new CommandLine(main);
        try {
            cli.parseArgs(main.merged.args().toArray(String[]::new));
            main.validate();
        } catch (ParameterException e) {
            throw new Refused(where(e, main.merged) + e.getMessage());
        }
        String app = AppCheck.problem(main.options.appJar, main.options.appClass);
        if (app != null) {
            throw new Refused("cannot load the app: " + app);
        }
        main.options.configSource = main.merged;
        return main.options;
    }

    @Override
    public Integer call() {
        validate();
        if (!options.workerJvmOpts.equals(WorkerJvm.defaultOptions())) {
            String refused = WorkerJvm.refusal(WorkerJvm.split(options.workerJvmOpts));
            if (refused != null) {
                throw new ParameterException(spec.commandLine(), "--worker-jvm-opts: the JVM refuses them: "
                        + refused);
            }
        }
        String app = AppCheck.problem(options.appJar, options.appClass);
        if (app != null) {
            spec.commandLine().getErr().println("master: cannot load the app: " + app);
            return options.checkConfig ? ExitCodes.USAGE : ExitCodes.APP_LOAD_FAILED;
        }
        if (options.checkConfig) {
            spec.commandLine().getOut().print(effectiveConfiguration());
            spec.commandLine().getOut().flush();
            spec.commandLine().getErr().println("master: the configuration is valid"
                    + (merged.file() == null ? "" : " (" + merged.file() + " and the command line)"));
            return ExitCodes.OK;
        }
        options.configSource = merged.file() == null ? null : merged;
        Logging.init("master", options.logFormat);
        String openFiles = Identity.raiseOpenFiles();
        LoggerFactory.getLogger(Main.class).debug("open-file limit {}", openFiles);
        // before the master starts a thread of its own or a worker, so that all of them inherit it
        String sched = Sched.setForAllThreads(options.sched);
        if (sched != null) {
            LoggerFactory.getLogger(Main.class).warn("could not set scheduling policy {}: {}",
                    options.sched, sched);
        }
        return new MasterServer(options).run();
    }

    /** Every flag as a TOML key, with its value and where it came from: the file's line, the command line, default. */
    String effectiveConfiguration() {
        StringBuilder sb = new StringBuilder("# the configuration jcluster would run with");
        sb.append(merged.file() == null ? "" : ", from " + merged.file() + " and the command line").append('\n');
        for (CommandLine.Model.OptionSpec o : spec.options()) {
            String key = o.longestName().replaceFirst("^--", "");
            if (ConfigFile.NOT_KEYS.contains(key) || o.usageHelp() || o.versionHelp()) {
                continue;
            }
            Object v = o.getValue();
            String value = v == null ? null : v instanceof Boolean || v instanceof Number ? v.toString()
                    : jcluster.common.Json.string(new StringBuilder(), Units.format(v)).toString();
            String line = (value == null ? "# " + key + " (not set)" : key + " = " + value);
            String from = merged.commandLine().stream().anyMatch(a -> a.equals("--" + key)
                    || a.startsWith("--" + key + "=")) ? "command line"
                    : merged.fromFile().containsKey(key) ? merged.file() + ":" + merged.fromFile().get(key).line()
                    : "default";
            sb.append(String.format("%-44s # %s%n", line, from));
        }
        return sb.toString();
    }

    void validate() {
        range("--workers", options.workers, 1, ControlCommands.MAX_WORKERS);
        range("--port", options.port, 1, 65535);
        range("--backlog", options.backlog, 1, 65535);
        range("--worker-threads", options.workerThreads, 1, 256);
        if (options.maxBody > Integer.MAX_VALUE - 8) {
            throw new ParameterException(spec.commandLine(), "--max-body must be under 2g");
        }
        address("--host", options.host);
        range("--max-restarts", options.maxRestarts, 1, 1000);
        range("--admin-port", options.adminPort, 0, 65535);
        if (options.adminPort != 0) {
            address("--admin-host", options.adminHost);
        }
        if (options.adminPort != 0 && options.adminPort == options.port) {
            throw new ParameterException(spec.commandLine(), "--admin-port must differ from --port");
        }
        range("--max-requests", options.maxRequests, 0, Long.MAX_VALUE / 2);
        range("--max-requests-jitter", options.maxRequestsJitter, 0, Long.MAX_VALUE / 2);
        range("--max-heap-after-gc", options.maxHeapAfterGc, 0, 100);
        try {
            Dispatcher.Policy.of(options.dispatch);
            Sched.policy(options.sched);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        range("--blocking-threads", options.blockingThreads, 1, 1024);
        range("--blocking-queue", options.blockingQueue, 0, 1_000_000);
        range("--max-requests-per-connection", options.maxRequestsPerConnection, 0, Long.MAX_VALUE / 2);
        // an empty path is the current directory to Java: never what a user meant
        for (Object[] p : new Object[][] {{"--static", options.staticDir, "a directory"},
                {"--app-jar", options.appJar, "a jar"}, {"--runtime-dir", options.runtimeDir, "a directory"},
                {"--pid-file", options.pidFile, "a file"}}) {
            if (p[1] != null && p[1].toString().isEmpty()) {
                throw new ParameterException(spec.commandLine(), p[0] + " must name " + p[2]);
            }
        }
        if (options.staticDir != null && !Files.isDirectory(options.staticDir)) {
            throw new ParameterException(spec.commandLine(), "--static " + options.staticDir + " is not a directory");
        }
        oneOf("--access-log-format", options.accessLogFormat, "combined", "json");
        oneOf("--log-format", options.logFormat, "text", "json");
        try {
            options.identity = Identity.forWorkers(options.user, options.group, options.allowRoot,
                    options.workerRlimitNofile);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (options.accessLog != null) {
            if (options.accessLog.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "--access-log must name a file, or - for stdout");
            }
            if (!options.accessLog.equals("-")) {
                // as nginx -t does: a log the workers could not open fails here, in one line, not in every worker
                // the file as the workers open it; not through AccessLog, whose logger would start logback too soon
                try (var ch = java.nio.channels.FileChannel.open(java.nio.file.Path.of(options.accessLog),
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
                        java.nio.file.StandardOpenOption.APPEND)) {
                    // the workers open it as --user: as nginx's master does, give them the file it made
                    if (!Identity.chown(java.nio.file.Path.of(options.accessLog), options.identity)) {
                        throw new java.io.IOException("cannot give it to --user " + options.user);
                    }
                } catch (java.io.IOException | java.nio.file.InvalidPathException e) {
                    throw new ParameterException(spec.commandLine(), "--access-log " + options.accessLog
                            + " cannot be opened for appending (" + e.getMessage() + "); give a writable file");
                }
            }
        }
        if (options.proxyProtocol) {
            try {
                TrustedProxies.parse(options.proxyFrom);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--proxy-from: " + e.getMessage());
            }
        }
        range("--compress-level", options.compressLevel, 1, 9);
        range("--max-ws-frame", options.maxWsFrame, 125, 64L << 20);
        if (options.wsDrainGrace.compareTo(options.drainTimeout) >= 0) {
            throw new ParameterException(spec.commandLine(), "--ws-drain-grace must be shorter than --drain-timeout, or a "
                    + "drain waits it out and then cuts the WebSockets without a close frame");
        }
        range("--compress-min-length", options.compressMinLength, 0, Integer.MAX_VALUE);
        if (options.warmUp.compareTo(options.bootTimeout) >= 0) {
            throw new ParameterException(spec.commandLine(), "--warm-up must be shorter than --boot-timeout, or a "
                    + "worker that warms up for all of it is killed before it is READY");
        }
        if (!options.warmUpPath.matches("/[!-~]*")) {
            throw new ParameterException(spec.commandLine(), "--warm-up-path must be a path that starts with / and "
                    + "has no spaces or control characters, such as /health");
        }
        if (options.appClass != null && options.appClass.isBlank()) {
            throw new ParameterException(spec.commandLine(), "--app must name a class");
        }
        for (var d : new Object[][] {{"--keepalive-timeout", options.keepAliveTimeout},
                {"--header-timeout", options.headerTimeout}, {"--drain-timeout", options.drainTimeout},
                {"--boot-timeout", options.bootTimeout}, {"--worker-timeout", options.workerTimeout}}) {
            if (((java.time.Duration) d[1]).isZero()) {
                throw new ParameterException(spec.commandLine(), d[0] + " must be more than 0");
            }
        }
    }

    /** An address to listen on: an IP address or a name that resolves (to one of this machine's, bind says). */
    private void address(String flag, String host) {
        if (host.isBlank()) {
            throw new ParameterException(spec.commandLine(), flag + " must not be empty");
        }
        try {
            // digits and dots are meant as an IPv4 address: a malformed one is not a name to look up
            if (host.matches("[0-9.]+") && !host.matches("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}")) {
                throw new UnknownHostException(host);
            }
            InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new ParameterException(spec.commandLine(), flag + " " + host + " is neither an IP address nor a "
                    + "name that resolves; give one such as 0.0.0.0, 127.0.0.1 or ::");
        }
    }

    private void oneOf(String flag, String value, String... allowed) {
        if (!java.util.List.of(allowed).contains(value)) {
            throw new ParameterException(spec.commandLine(), flag + " must be " + String.join(" or ", allowed)
                    + ", got '" + value + "'");
        }
    }

    private void range(String flag, long value, long min, long max) {
        if (value < min || value > max) {
            throw new ParameterException(spec.commandLine(),
                    flag + " must be between " + min + " and " + max + ", got " + value);
        }
    }

    /** The version from the jar's manifest. */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : "(development build)";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jcluster " + version()};
        }
    }
}
