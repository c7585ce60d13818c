package jcluster.master;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code master.jar status|reload|scale N|dump ID|stop}: commands to a running master through its control socket.
 * The server is found by its runtime directory: given, or derived from the port, or from the pid file's master.
 */
final class ControlCommands {
    private ControlCommands() {
    }

    /** Which server to talk to. */
    static final class Target {
        @Option(names = "--runtime-dir", paramLabel = "DIR", description = "The server's --runtime-dir.")
        Path runtimeDir;

        @Option(names = "--port", paramLabel = "PORT", description = "The server's --port (default: 8080), to find "
                + "its default runtime directory.")
        int port = 8080;

        @Option(names = "--pid-file", paramLabel = "FILE", description = "The server's --pid-file.")
        Path pidFile;

        Path socket() {
            if (runtimeDir != null) {
                return runtimeDir.resolve(RuntimeDir.CONTROL_SOCKET);
            }
            if (pidFile != null) {
                return fromCommandLine(PidFile.read(pidFile));
            }
            return RuntimeDir.defaultFor(port).resolve(RuntimeDir.CONTROL_SOCKET);
        }

        /** The runtime directory a running master was given, or its default, from its command line. */
        private static Path fromCommandLine(long pid) {
            String[] args;
            try {
                args = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                        .split("\0");
            } catch (IOException e) {
                throw new StartupException("no process " + pid + " (from the pid file); is the server running?");
            }
            int port = 8080;
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : "";
                if (args[i].startsWith("--runtime-dir=")) {
                    return Path.of(args[i].substring(14)).resolve(RuntimeDir.CONTROL_SOCKET);
                } else if (args[i].equals("--runtime-dir")) {
                    return Path.of(value).resolve(RuntimeDir.CONTROL_SOCKET);
                } else if (args[i].startsWith("--port=")) {
                    port = Integer.parseInt(args[i].substring(7));
                } else if (args[i].equals("--port")) {
                    port = Integer.parseInt(value);
                }
            }
            return RuntimeDir.defaultFor(port).resolve(RuntimeDir.CONTROL_SOCKET);
        }
    }

    /** Sends one command line and prints the answer; exit 0 on "ok", 1 on "error" or no answer. */
    abstract static class Base implements Callable<Integer> {
        @Mixin
        Target target;

        @Spec
        CommandSpec spec;

        abstract String line();

        @Override
        public Integer call() {
            Path socket = target.socket();
            String answer;
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                ch.write(ByteBuffer.wrap((line() + "\n").getBytes(StandardCharsets.UTF_8)));
                answer = new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new StartupException("no server answers on " + socket + " (" + e.getMessage()
                        + "); is it running? Name it with --runtime-dir, --port or --pid-file");
            }
            int nl = answer.indexOf('\n');
            String first = nl < 0 ? answer : answer.substring(0, nl);
            String rest = nl < 0 ? "" : answer.substring(nl + 1);
            if (first.startsWith("ok")) {
                String message = first.length() > 2 ? first.substring(2).replaceFirst("^:\\s*", "") : "";
                spec.commandLine().getOut().print(message.isEmpty() ? rest : message + "\n" + rest);
                spec.commandLine().getOut().flush();
                return Main.EXIT_OK;
            }
            spec.commandLine().getErr().println("master: " + first.replaceFirst("^error:\\s*", ""));
            return Main.EXIT_FAILURE;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show the master and its workers: id, pid, generation, state, uptime, connections, "
                    + "requests, RSS, CPU%%.")
    static final class Status extends Base {
        @Option(names = "--json", description = "As JSON.")
        boolean json;

        @Override
        String line() {
            return json ? "status-json" : "status";
        }
    }

    @Command(name = "reload", mixinStandardHelpOptions = true,
            description = "Rolling reload, as SIGHUP: replace every worker, one at a time.")
    static final class Reload extends Base {
        @Override
        String line() {
            return "reload";
        }
    }

    @Command(name = "scale", mixinStandardHelpOptions = true, description = "Run N workers.")
    static final class Scale extends Base {
        @Parameters(paramLabel = "N", description = "The number of workers.")
        int workers;

        @Override
        String line() {
            return "scale " + workers;
        }
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "Have a worker write a thread dump to the log (SIGQUIT, which the master cannot trap).")
    static final class Dump extends Base {
        @Parameters(paramLabel = "WORKER", description = "The worker's id, from 'status'.")
        int worker;

        @Override
        String line() {
            return "dump " + worker;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Graceful stop, as SIGTERM.")
    static final class Stop extends Base {
        @Override
        String line() {
            return "stop";
        }
    }
}
