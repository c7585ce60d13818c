package jcluster.master.supervisor;

import jcluster.common.WorkerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The workers a dead master left serving on this runtime directory, found through {@code /proc}: processes of the
 * server's user running the worker's main class with {@code --socket} in this directory. Each one's id, generation,
 * socket path and claims file are on its command line, and its secret in its environment, which only the server's
 * user (and root) can read: what a new master needs to authenticate it when it connects again, as it did the first
 * time.
 */
public final class Orphans {
    private static final Logger log = LoggerFactory.getLogger(Orphans.class);
    private static final String WORKER_MAIN = "jcluster.worker.WorkerMain";

    private Orphans() {
    }

    /** A worker whose master is gone. */
    public record Orphan(long pid, int id, int generation, byte[] secret, Path socket, Path claims) {
    }

    /** The live workers of this runtime directory, of this user, that no master holds (their master is dead). */
    public static List<Orphan> find(Path runtimeDir, int uid) {
        Path dir = runtimeDir.toAbsolutePath().normalize();
        List<Orphan> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                Orphan o = read(p, dir, uid);
                if (o != null) {
                    found.add(o);
                }
            }
        } catch (IOException e) {
            log.warn("cannot look for orphaned workers in /proc: {}", e.getMessage());
        }
        return found;
    }

    private static Orphan read(Path proc, Path dir, int uid) {
        try {
            if ((Integer) Files.getAttribute(proc, "unix:uid", LinkOption.NOFOLLOW_LINKS) != uid) {
                return null;
            }
            List<String> args = List.of(Files.readString(proc.resolve("cmdline"), StandardCharsets.UTF_8)
                    .split("\0"));
            int main = args.indexOf(WORKER_MAIN);
            if (main < 0) {
                return null;
            }
            WorkerOptions o = WorkerOptions.fromArgs(args.subList(main + 1, args.size()).toArray(String[]::new));
            int cp = args.indexOf("-cp");
            if (!dir.equals(o.socket().toAbsolutePath().normalize().getParent())
                    || cp >= 0 && parentRuns(proc, args.get(cp + 1))) {
                return null;
            }
            String secret = null;
            for (String v : Files.readString(proc.resolve("environ"), StandardCharsets.UTF_8).split("\0")) {
                if (v.startsWith(WorkerOptions.SECRET_ENV + "=")) {
                    secret = v.substring(WorkerOptions.SECRET_ENV.length() + 1);
                }
            }
            if (secret == null) {
                return null;
            }
            return new Orphan(Long.parseLong(proc.getFileName().toString()), o.id(), o.generation(),
                    HexFormat.of().parseHex(secret), o.socket(), o.claims());
        } catch (IOException | RuntimeException e) {
            // gone meanwhile, not ours to read, or a worker of another version: not an orphan to adopt
            return null;
        }
    }

    /**
     * The worker's parent runs its jar: it is still its master's child, and not an orphan (a master that does not
     * answer on its control socket is not dead). An orphan's parent is whatever adopted it: init, systemd.
     */
    private static boolean parentRuns(Path proc, String jar) throws IOException {
        String stat = Files.readString(proc.resolve("stat"), StandardCharsets.US_ASCII);
        String ppid = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1];
        try {
            return Files.readString(Path.of("/proc", ppid, "cmdline"), StandardCharsets.UTF_8).contains(jar);
        } catch (IOException e) {
            return false;
        }
    }
}
