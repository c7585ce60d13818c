package jcluster.master.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jcluster.common.ExitCodes;
import jcluster.master.StartupException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code master.jar top}: the master and its workers, refreshed every second, as {@code pm2 monit} or {@code htop}
 * show them: per worker requests a second (from the difference of two status answers), connections, in flight,
 * event-loop lag, RSS, CPU, restarts; above them the master's totals. In a terminal the screen is redrawn and
 * {@code q} (or Ctrl-C) quits; with stdout not a terminal, each refresh is a block of plain lines, until
 * {@code --count} refreshes or the master goes away.
 */
@Command(name = "top", mixinStandardHelpOptions = true,
        description = "A live table of the master and its workers (req/s, connections, in flight, loop lag, RSS, "
                + "CPU, restarts), refreshed every second; q or Ctrl-C quits. Plain lines when stdout is not a "
                + "terminal.")
public final class Top implements Callable<Integer> {
    private static final String CLEAR = "\033[H\033[2J";
    private static final String BOLD = "\033[1m";
    private static final String PLAIN = "\033[0m";
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    @Mixin
    ControlCommands.Target target;

    @Spec
    CommandSpec spec;

    @Option(names = "--count", paramLabel = "N", description = "Stop after N refreshes (default: until q).")
    int count;

    @Option(names = "--interval", paramLabel = "MS", description = "Milliseconds between refreshes "
            + "(default: ${DEFAULT-VALUE}).")
    long intervalMillis = 1000;

    private final RequestRates rates = new RequestRates();

    @Override
    public Integer call() throws Exception {
        if (intervalMillis < 100) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--interval must be at least 100");
        }
        Path socket = target.socket();
        // made here, not as a field: picocli makes every subcommand for each command line, and building a mapper
        // would slow the start of every JVM that runs master.jar (the master itself, each control command)
        ObjectMapper json = new ObjectMapper();
        PrintWriter out = spec.commandLine().getOut();
        boolean terminal = System.console() != null;
        CountDownLatch quit = new CountDownLatch(1);
        Runnable restore = terminal ? Terminal.raw(quit) : () -> { };
        try {
            for (int n = 0; count == 0 || n < count; n++) {
                String answer;
                try {
                    answer = ControlCommands.ask(socket, "status-json");
                } catch (StartupException e) {
                    if (n == 0) {
                        throw e;
                    }
                    out.println((terminal ? "\r\n" : "") + "master: the master is gone (" + e.getMessage() + ")");
                    out.flush();
                    return ExitCodes.FAILURE;
                }
                if (!answer.startsWith("ok\n")) {
                    throw new StartupException("the master answered: " + answer.lines().findFirst().orElse(""));
                }
                String frame = render(json.readTree(answer.substring(3)), terminal);
                out.print(terminal ? CLEAR + frame.replace("\n", "\r\n") : frame);
                out.flush();
                if ((count == 0 || n + 1 < count) && quit.await(intervalMillis, TimeUnit.MILLISECONDS)) {
                    break;
                }
            }
        } finally {
            restore.run();
        }
        return ExitCodes.OK;
    }

    /** One refresh: the master's line, its totals, a row per worker. */
    String render(JsonNode s, boolean terminal) {
        rates.sample(System.nanoTime());
        StringBuilder sb = new StringBuilder();
        long total = s.path("requests").asLong();
        int conns = 0;
        int inFlight = 0;
        long rss = 0;
        double cpu = 0;
        for (JsonNode w : s.path("workers")) {
            conns += w.path("connections").asInt();
            inFlight += w.path("inFlight").asInt();
            rss += w.path("rssBytes").asLong();
            cpu += w.path("cpuPercent").asDouble();
        }
        sb.append(terminal ? BOLD : "").append(String.format(Locale.ROOT,
                "jcluster top  master pid %d on %s, up %s, generation %d, %d/%d workers%s  %s",
                s.path("pid").asLong(), s.path("address").asText(), Status.duration(s.path("uptimeMs").asLong()),
                s.path("generation").asInt(), s.path("workers").size(), s.path("desired").asInt(),
                s.path("draining").asBoolean() ? " (stopping)" : s.path("reloading").asBoolean() ? " (reloading)" : "",
                LocalTime.now().format(CLOCK))).append(terminal ? PLAIN : "").append('\n');
        sb.append(String.format(Locale.ROOT, "total  %s req/s, %d connections, %d in flight, %s RSS, %.1f%% CPU; "
                        + "accepted %d, handed off %d, restarts %d, recycled %d%n",
                rate(rates.total(total)), conns, inFlight, mebibytes(rss), cpu, s.path("accepted").asLong(),
                s.path("handedOff").asLong(), s.path("restarts").asLong(), s.path("recycled").asLong()));
        sb.append(terminal ? BOLD : "").append(String.format("%5s %8s %4s %-9s %8s %6s %8s %8s %8s %6s %8s %8s",
                "ID", "PID", "GEN", "STATE", "REQ/S", "CONNS", "INFLIGHT", "LAG(us)", "RSS", "CPU%", "RESTARTS",
                "UPTIME")).append(terminal ? PLAIN : "").append('\n');
        for (JsonNode w : s.path("workers")) {
            int id = w.path("id").asInt();
            sb.append(String.format(Locale.ROOT, "%5d %8d %4d %-9s %8s %6d %8d %8d %8s %6.1f %8d %8s%n", id,
                    w.path("pid").asLong(), w.path("generation").asInt(), w.path("state").asText(),
                    rate(rates.worker(id, w.path("requests").asLong())), w.path("connections").asInt(),
                    w.path("inFlight").asInt(), w.path("loopLagMicros").asLong(), mebibytes(w.path("rssBytes").asLong()),
                    w.path("cpuPercent").asDouble(), w.path("restarts").asInt(),
                    Status.duration(w.path("uptimeMs").asLong())));
        }
        if (terminal) {
            sb.append("\nq: quit\n");
        } else {
            sb.append('\n');
        }
        return sb.toString();
    }

    /** A rate as top shows it: {@code -} while there is none. */
    private static String rate(double perSecond) {
        return perSecond < 0 ? "-" : String.format(Locale.ROOT, "%.0f", perSecond);
    }

    private static String mebibytes(long bytes) {
        return String.format(Locale.ROOT, "%.1fM", bytes / 1048576.0);
    }

    /** The terminal in character mode for the keys, and back as it was. */
    static final class Terminal {
        private Terminal() {
        }

        /** Puts the terminal in non-canonical mode without echo; a reader counts {@code quit} down on q. */
        static Runnable raw(CountDownLatch quit) {
            String saved = stty("-g");
            if (saved == null) {
                return () -> { };
            }
            stty("-icanon", "-echo", "min", "1");
            Runnable restore = () -> stty(saved.strip());
            Thread hook = new Thread(restore, "top-restore-terminal");
            Runtime.getRuntime().addShutdownHook(hook);
            Thread keys = new Thread(() -> {
                try {
                    int c;
                    while ((c = System.in.read()) >= 0) {
                        if (c == 'q' || c == 'Q') {
                            quit.countDown();
                            return;
                        }
                    }
                } catch (IOException e) {
                    // the terminal went away: nothing more to read
                }
                quit.countDown();
            }, "top-keys");
            keys.setDaemon(true);
            keys.start();
            return () -> {
                restore.run();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // shutting down already: the hook restores it
                }
            };
        }

        /** {@code stty ARGS} on the controlling terminal; its output, or null if it failed. */
        private static String stty(String... args) {
            try {
                String[] cmd = new String[] {"/bin/sh", "-c", "stty " + String.join(" ", args) + " < /dev/tty"};
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                return p.waitFor() == 0 ? out : null;
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }
}
