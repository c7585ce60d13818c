package jcluster.master.ops;

import jcluster.common.ExitCodes;
import jcluster.master.StartupException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code master.jar status|reload|scale N|dump ID|reopen-logs|upgrade|stop}: commands to a running master through its control socket.
 * The server is found by its runtime directory (given), by its pid file (the control socket that pid listens on),
 * or by its port: the caller's own default runtime directory for it, else any user's (a runtime directory named
 * {@code jcluster-PORT} or {@code jcluster-UID-PORT} with a listening control socket), so that {@code sudo
 * master.jar status} finds a service user's master. Exit 0 when the master did or started it, 1 when it refused
 * or cannot be reached, 2 for a usage error.
 */
public final class ControlCommands {
    /** The most workers a master runs (--workers, scale). */
    public static final int MAX_WORKERS = 1024;

    private ControlCommands() {
    }

    /** Which server to talk to. */
    static final class Target {
        @Option(names = "--runtime-dir", paramLabel = "DIR", description = "The server's --runtime-dir.")
        Path runtimeDir;

        @Option(names = "--port", paramLabel = "PORT", description = "The server's --port (default: 8080), to find "
                + "its default runtime directory, the caller's or another user's.")
        int port = 8080;

        @Option(names = "--pid-file", paramLabel = "FILE", description = "The server's --pid-file.")
        Path pidFile;

        @Option(names = "--pid", paramLabel = "PID", description = "The master's pid (systemd's $MAINPID).")
        Long pid;

        Path socket() {
            if (runtimeDir != null) {
                return runtimeDir.resolve(RuntimeDir.CONTROL_SOCKET);
            }
            if (pidFile != null) {
                return socketOf(PidFile.read(pidFile), " (from " + pidFile + ")", "the pid file " + pidFile
                        + " names pid ");
            }
            if (pid != null) {
                return socketOf(pid, "", "--pid names pid ");
            }
            Path own = RuntimeDir.defaultFor(port).resolve(RuntimeDir.CONTROL_SOCKET);
            if (Files.exists(own)) {
                return own;
            }
            List<Path> found = RunningMasters.defaultControlSockets(port);
            if (found.size() == 1) {
                return found.get(0);
            }
            if (found.isEmpty()) {
                throw new StartupException("no server found for port " + port + ": looked for " + own
                        + " and for any user's listening jcluster-" + port + " or jcluster-UID-" + port
                        + " control socket in /proc/net/unix; name it with --runtime-dir, --port or --pid-file");
            }
            throw new StartupException("several servers for port " + port + " (" + found.stream()
                    .map(p -> p.getParent().toString()).collect(Collectors.joining(", "))
                    + "); name one with --runtime-dir");
        }

        private static Path socketOf(long pid, String from, String names) {
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).isEmpty()) {
                throw new StartupException(names + pid + ", which is not running");
            }
            return RunningMasters.controlSocketOf(pid).orElseThrow(() -> new StartupException("pid " + pid + from
                    + " listens on no jcluster control socket that this user can see; is it a jcluster master? Run "
                    + "the command as its user or as root"));
        }
    }

    /** One command line to the master on {@code socket}, and its whole answer. */
    static String ask(Path socket, String line) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            return new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StartupException(Base.unreachable(socket, e));
        }
    }

    /** Sends one command line and prints the answer; exit 0 on "ok", 1 on "error" or no answer, 2 on "usage". */
    abstract static class Base implements Callable<Integer> {
        @Mixin
        Target target;

        @Spec
        CommandSpec spec;

        abstract String line();

        @Override
        public Integer call() {
            String line = line();
            Path socket = target.socket();
            String answer = ask(socket, line);
            int nl = answer.indexOf('\n');
            String first = nl < 0 ? answer : answer.substring(0, nl);
            String rest = nl < 0 ? "" : answer.substring(nl + 1);
            if (first.startsWith("ok")) {
                String message = first.length() > 2 ? first.substring(2).replaceFirst("^:\\s*", "") : "";
                spec.commandLine().getOut().print(message.isEmpty() ? rest : message + "\n" + rest);
                spec.commandLine().getOut().flush();
                return ExitCodes.OK;
            }
            if (first.isEmpty()) {
                throw new StartupException("the master on " + socket + " closed the connection without an answer");
            }
            boolean usage = first.startsWith("usage:");
            spec.commandLine().getErr().println("master: " + first.replaceFirst("^(error|usage):\\s*", ""));
            return usage ? ExitCodes.USAGE : ExitCodes.FAILURE;
        }

        /** Why the control socket cannot be reached, and what to do about it. */
        static String unreachable(Path socket, IOException e) {
            String m = String.valueOf(e.getMessage());
            if (e instanceof java.nio.file.AccessDeniedException || m.contains("Permission denied")) {
                String owner = "";
                try {
                    owner = " (it belongs to uid " + Files.getAttribute(socket, "unix:uid") + ")";
                } catch (IOException | RuntimeException hidden) {
                    try {
                        owner = " (its directory belongs to uid " + Files.getAttribute(socket.getParent(), "unix:uid")
                                + ")";
                    } catch (IOException | RuntimeException e2) {
                        // nothing more to tell
                    }
                }
                return "permission denied on " + socket + owner + "; run the command as the server's user or as root";
            }
            if (e instanceof java.nio.file.NoSuchFileException || m.contains("No such file")) {
                return "no server answers on " + socket + " (no such socket); is it running? Name it with "
                        + "--runtime-dir, --port or --pid-file";
            }
            if (m.contains("Connection refused")) {
                return "no server answers on " + socket + " (connection refused: a stopped master's leftover); is it "
                        + "running?";
            }
            return "no server answers on " + socket + " (" + m + "); is it running? Name it with --runtime-dir, "
                    + "--port or --pid-file";
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show the master and its workers: id, pid, generation, state, uptime, connections, "
                    + "requests, RSS, CPU%%.")
    public static final class Status extends Base {
        @Option(names = "--json", description = "As JSON.")
        boolean json;

        @Override
        String line() {
            return json ? "status-json" : "status";
        }
    }

    @Command(name = "reload", mixinStandardHelpOptions = true,
            description = "Rolling reload, as SIGHUP: replace every worker, one at a time.")
    public static final class Reload extends Base {
        @Option(names = "--wait", description = "Return once the reload has ended: exit 0 when it is complete, 1 "
                + "when it was refused or aborted (systemd's ExecReload= uses this).")
        boolean await;

        @Override
        String line() {
            return await ? "reload --wait" : "reload";
        }
    }

    @Command(name = "scale", mixinStandardHelpOptions = true, description = "Run N workers (1 to 1024).")
    public static final class Scale extends Base {
        @Parameters(paramLabel = "N", description = "The number of workers.")
        int workers;

        @Override
        String line() {
            if (workers < 1 || workers > MAX_WORKERS) {
                throw new ParameterException(spec.commandLine(), "scale takes a number of workers between 1 and "
                        + MAX_WORKERS + ", got " + workers);
            }
            return "scale " + workers;
        }
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "Have a worker write a thread dump to the log (SIGQUIT, which the master cannot trap).")
    public static final class Dump extends Base {
        @Parameters(paramLabel = "WORKER", description = "The worker's id, from 'status'.")
        int worker;

        @Override
        String line() {
            return "dump " + worker;
        }
    }

    @Command(name = "upgrade", mixinStandardHelpOptions = true,
            description = "Upgrade the master, as SIGUSR2: a new master starts from the jar on disk with the same "
                    + "command line (or these flags after --, all of them), takes the listening socket, starts its "
                    + "workers, and once they are ready the old master drains and exits. No connection is refused "
                    + "meanwhile; 'status' shows the new pid.")
    public static final class Upgrade extends Base {
        @Parameters(paramLabel = "FLAG", arity = "0..*", description = "The new master's flags, after --: all of "
                + "them (its --port and --runtime-dir too, if not the defaults), in place of the running master's.")
        List<String> flags = List.of();

        @Override
        String line() {
            // NUL separates the flags: a flag may hold spaces, and a control line no newline
            return flags.isEmpty() ? "upgrade" : "upgrade\0" + String.join("\0", flags);
        }
    }

    @Command(name = "send", mixinStandardHelpOptions = true,
            description = "Send an app's message (as pm2's sendDataToProcessId): TOPIC and DATA to one worker or to "
                    + "all; the apps receive it through AppContext.messages(), from worker 0.")
    public static final class Send extends Base {
        @Option(names = "--worker", paramLabel = "ID", description = "The worker's id, from 'status'.")
        Integer worker;

        @Option(names = "--all", description = "Every live worker.")
        boolean all;

        @Parameters(index = "0", paramLabel = "TOPIC", description = "The topic its subscribers listen on.")
        String topic;

        @Parameters(index = "1", paramLabel = "DATA", description = "The message, as text (UTF-8).")
        String data;

        @Override
        String line() {
            if ((worker == null) == !all) {
                throw new ParameterException(spec.commandLine(), "send takes one of --worker ID and --all");
            }
            if (topic.contains("\0") || data.contains("\0") || data.contains("\n") || topic.contains("\n")) {
                throw new ParameterException(spec.commandLine(), "a topic and data of send hold no NUL or newline");
            }
            return "send\0" + (all ? "all" : Integer.toString(worker)) + "\0" + topic + "\0" + data;
        }
    }

    @Command(name = "reopen-logs", mixinStandardHelpOptions = true,
            description = "Have every worker open the access log's path again, as SIGUSR1: after a rotation renamed "
                    + "the file (dist/logrotate/jcluster).")
    public static final class ReopenLogs extends Base {
        @Override
        String line() {
            return "reopen-logs";
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Graceful stop, as SIGTERM.")
    public static final class Stop extends Base {
        @Override
        String line() {
            return "stop";
        }
    }
}
