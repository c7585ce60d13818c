package jcluster.master.ops;

import io.netty.channel.unix.FileDescriptor;
import jcluster.master.supervisor.RollingReload;
import jcluster.master.supervisor.WorkerProcess;
import jcluster.master.upgrade.Upgrade;
import org.slf4j.Logger;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;

/**
 * What the master answers to each line of its control socket ({@link ControlServer} carries them): the first line
 * of an answer is "ok…", "error: …" or "usage: …", which the CLI turns into its exit code. Most are answered at once;
 * {@code reload --wait} once the reload ends. Runs on the master's loop.
 */
public final class ControlAnswers implements ControlServer.Commands {
    private static final Logger log = LoggerFactory.getLogger(ControlAnswers.class);
    /** What the commands act on: the arbiter. */
    public interface Operations {
        Status status();

        /**
         * A rolling reload, as SIGHUP.
         * @param ended told how it ends, or null
         */
        RollingReload.Outcome reload(Consumer<RollingReload.Ending> ended);

        void scale(int n);

        /** The live worker with this id, or null. */
        WorkerProcess byId(int id);

        /**
         * An app's message from the control socket (sender 0) to one worker or all of them.
         * @param target a worker id, or {@link jcluster.common.Message#ALL}
         * @return what was done, or null when {@code target} names no live worker
         */
        String send(int target, String topic, byte[] data);

        /** Every worker opens the access log's path again, as SIGUSR1; says what it did. */
        String reopenLogs(String why);

        /** A graceful stop, as SIGTERM; the answer says what it does. */
        String stop();
    }

    /** What the upgrade commands act on: the master's succession. */
    public interface Upgrades {
        /**
         * Starts a master upgrade, as SIGUSR2.
         * @param flags the new master's flags in place of this one's; empty for this one's
         */
        Upgrade.Outcome upgrade(List<String> flags);

        /** The listening socket, for the new master of an upgrade; null for any other process. */
        FileDescriptor listenerFor(long pid);

        /** The new master of an upgrade serves from now: null once this one stops accepting, else why not. */
        String handOver(long pid);
    }

    private final Operations master;
    private final Upgrades upgrades;

    public ControlAnswers(Operations master, Upgrades upgrades) {
        this.master = master;
        this.upgrades = upgrades;
    }

    @Override
    public FileDescriptor listener(long peer) {
        return upgrades.listenerFor(peer);
    }

    @Override
    public CompletableFuture<String> answer(String line, long peer) {
        if (line.equals("reload --wait")) {
            CompletableFuture<String> answer = new CompletableFuture<>();
            RollingReload.Outcome r = master.reload(e -> answer.complete((e.complete() ? "ok: " : "error: ")
                    + e.how()));
            if (!r.started()) {
                answer.complete("error: " + r.what());
            }
            return answer;
        }
        return CompletableFuture.completedFuture(answerNow(line, peer));
    }

    private String answerNow(String line, long peer) {
        if (line.startsWith("send\0")) {
            // send NUL target NUL topic NUL data: a topic or data may hold spaces
            String[] f = line.split("\0", 4);
            if (f.length != 4 || !f[1].matches("all|\\d{1,9}")) {
                return "usage: send takes --worker ID or --all, a topic and the data";
            }
            try {
                String done = master.send(f[1].equals("all") ? jcluster.common.Message.ALL : Integer.parseInt(f[1]),
                        f[2], f[3].getBytes(java.nio.charset.StandardCharsets.UTF_8));
                return done == null ? "error: no live worker " + f[1] + "; see 'status' for ids" : "ok: " + done;
            } catch (IllegalArgumentException e) {
                return "usage: " + e.getMessage();
            }
        }
        if (line.startsWith("upgrade\0")) {
            List<String> flags = List.of(line.substring("upgrade\0".length()).split("\0"));
            Upgrade.Outcome u = upgrades.upgrade(flags);
            return (u.started() ? "ok: " : "error: ") + u.what();
        }
        String[] words = line.split("\\s+");
        switch (words[0]) {
            // the pm2-style table
            case "status" -> {
                return "ok\n" + master.status().table();
            }
            // the same, for programs
            case "status-json" -> {
                return "ok\n" + master.status().json();
            }
            // rolling reload, as SIGHUP
            case "reload" -> {
                RollingReload.Outcome r = master.reload(null);
                return (r.started() ? "ok: " : "error: ") + r.what();
            }
            // set the number of workers
            case "scale" -> {
                int n;
                try {
                    n = Integer.parseInt(words.length == 2 ? words[1] : "");
                } catch (NumberFormatException e) {
                    return "usage: scale takes a number of workers, like 'scale 4'";
                }
                if (n < 1 || n > ControlCommands.MAX_WORKERS) {
                    return "usage: the number of workers must be between 1 and " + ControlCommands.MAX_WORKERS;
                }
                master.scale(n);
                return "ok: scaling to " + n + " worker(s)";
            }
            // a thread dump of one worker, into the log
            case "dump" -> {
                if (words.length != 2 || !words[1].matches("\\d{1,9}")) {
                    return "usage: dump takes a worker id, like 'dump 3'; see 'status' for ids";
                }
                WorkerProcess w = master.byId(Integer.parseInt(words[1]));
                if (w == null) {
                    return "error: no live worker " + words[1] + "; see 'status' for ids";
                }
                w.process.requestThreadDump();
                log.info("thread dump of {} requested through the control socket", w);
                return "ok: " + w + " writes a thread dump to the log";
            }
            // after a log rotation's rename, as SIGUSR1
            case "reopen-logs" -> {
                return "ok: " + master.reopenLogs("reopen-logs through the control socket");
            }
            // graceful stop, as SIGTERM
            case "stop" -> {
                return "ok: " + master.stop();
            }
            // a new master from the jar on disk takes over the port, as SIGUSR2
            case "upgrade" -> {
                Upgrade.Outcome u = upgrades.upgrade(List.of());
                return (u.started() ? "ok: " : "error: ") + u.what();
            }
            // from the new master of an upgrade, once its workers are READY
            case "handover" -> {
                String refused = upgrades.handOver(peer);
                return refused == null ? "ok: handed over" : "error: " + refused;
            }
            default -> {
                return "usage: unknown command '" + words[0] + "'; commands: status, status-json, reload, scale N, "
                        + "dump ID, send, reopen-logs, upgrade, stop";
            }
        }
    }
}
