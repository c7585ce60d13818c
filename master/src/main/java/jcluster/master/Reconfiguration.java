package jcluster.master;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a rolling reload takes from a reread --config file. The worker flags are read by the launcher each time it
 * starts a worker, so a reload's new workers get them: they change now. {@code workers} changes as a scale does.
 * Every other flag was read once, by the master's own parts (its port, its timers, its dispatch), and needs a new
 * master: an upgrade ({@code master.jar upgrade}), which the log says, flag by flag.
 */
final class Reconfiguration {
    /** Flags the launcher reads per worker started. */
    static final Set<String> WORKER_FLAGS = Set.of("--worker-threads", "--app-jar", "--app", "--static",
            "--blocking-threads", "--blocking-queue", "--max-body", "--keepalive-timeout", "--header-timeout",
            "--max-requests-per-connection", "--max-connection-age", "--access-log", "--access-log-format",
            "--proxy-protocol", "--proxy-from", "--compress", "--compress-level", "--compress-min-length",
            "--max-ws-frame", "--ws-idle-timeout", "--ws-drain-grace", "--worker-rlimit-nofile", "--worker-jvm-opts",
            "--warm-up", "--warm-up-path");
    /** Not flags of the running server: how it was read, and what it says about itself. */
    static final Set<String> IGNORED = Set.of("--config", "--check-config");

    /** One flag that differs: its name and both values, and whether a reload applies it. */
    record Change(String flag, Object from, Object to, boolean applied) {
        @Override
        public String toString() {
            return flag.substring(2) + " " + Units.format(from) + " -> " + Units.format(to);
        }
    }

    private Reconfiguration() {
    }

    /** The flags whose values differ between the running options and the file's, in the flags' order. */
    static List<Change> diff(MasterOptions running, MasterOptions reread) {
        List<Change> changes = new ArrayList<>();
        CommandSpec fresh = CommandSpec.forAnnotatedObject(reread);
        for (OptionSpec o : CommandSpec.forAnnotatedObject(running).options()) {
            String flag = o.longestName();
            if (IGNORED.contains(flag)) {
                continue;
            }
            Object from = o.getValue();
            Object to = fresh.findOption(flag).getValue();
            if (!Objects.equals(from, to)) {
                changes.add(new Change(flag, from, to, WORKER_FLAGS.contains(flag) || flag.equals("--workers")));
            }
        }
        return changes;
    }

    /** Copies the worker flags of {@code changes} into the running options (on the master's loop). */
    static void apply(List<Change> changes, MasterOptions running) {
        CommandSpec spec = CommandSpec.forAnnotatedObject(running);
        for (Change c : changes) {
            if (c.applied() && !c.flag().equals("--workers")) {
                spec.findOption(c.flag()).setValue(c.to());
            }
        }
        running.identity = new jcluster.common.WorkerOptions.Identity(running.identity.uid(),
                running.identity.gid(), running.identity.allowRoot(), running.workerRlimitNofile);
    }
}
