package jcluster.master.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Running masters seen from outside, through {@code /proc}: what the control commands and the pid file check need
 * to know of a master they did not start. A master's control socket is found from the sockets it listens on
 * ({@code /proc/net/unix}, matched with its open fds), not guessed from environment variables the caller may not
 * share: so {@code sudo master.jar status} finds the master of a service user.
 */
final class RunningMasters {
    /** The Unix socket is listening ({@code __SO_ACCEPTCON} in {@code /proc/net/unix}'s flags). */
    private static final int ACCEPTING = 0x10000;
    private static final Path UNIX_SOCKETS = Path.of("/proc/net/unix");

    private RunningMasters() {
    }

    /** A listening Unix socket: its inode and path. */
    record Listening(String inode, Path path) {
    }

    /** The arguments a process was started with, or empty if there is no such process (or it is not ours to read). */
    static Optional<List<String>> args(long pid) {
        try {
            String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8);
            return Optional.of(List.of(cmdline.split("\0")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The value of {@code --NAME=V} or {@code --NAME V} in a command line. */
    static Optional<String> flag(List<String> args, String name) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith(name + "=")) {
                return Optional.of(a.substring(name.length() + 1));
            }
            if (a.equals(name) && i + 1 < args.size()) {
                return Optional.of(args.get(i + 1));
            }
        }
        return Optional.empty();
    }

    /** The absolute --pid-file a running process was given, resolved against its working directory. */
    static Optional<Path> pidFileOf(long pid) {
        return args(pid).flatMap(a -> flag(a, "--pid-file")).flatMap(f -> {
            try {
                Path cwd = Files.readSymbolicLink(Path.of("/proc/" + pid + "/cwd"));
                return Optional.of(cwd.resolve(f).normalize());
            } catch (IOException e) {
                return Optional.empty();
            }
        });
    }

    /** The control socket a running master listens on, found from its open fds. */
    static Optional<Path> controlSocketOf(long pid) {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return listening().stream().filter(l -> inodes.contains(l.inode()))
                .map(Listening::path).filter(p -> p.getFileName().toString().equals(RuntimeDir.CONTROL_SOCKET))
                .findFirst();
    }

    /**
     * The control sockets listening on this machine in a runtime directory named as the default one for this port
     * is, whoever's: {@code jcluster-PORT} (under {@code $RUNTIME_DIRECTORY} or {@code $XDG_RUNTIME_DIR}) or
     * {@code jcluster-UID-PORT} (under the temporary directory).
     */
    static List<Path> defaultControlSockets(int port) {
        Pattern dir = Pattern.compile("jcluster-(\\d+-)?" + port);
        List<Path> found = new ArrayList<>();
        for (Listening l : listening()) {
            Path parent = l.path().getParent();
            if (l.path().getFileName().toString().equals(RuntimeDir.CONTROL_SOCKET) && parent != null
                    && parent.getFileName() != null && dir.matcher(parent.getFileName().toString()).matches()) {
                found.add(l.path());
            }
        }
        return found;
    }

    /** Every listening Unix socket with a path, from {@code /proc/net/unix}. */
    static List<Listening> listening() {
        List<Listening> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(UNIX_SOCKETS, StandardCharsets.UTF_8)) {
                // Num RefCount Protocol Flags Type St Inode Path
                String[] f = line.trim().split("\\s+", 8);
                if (f.length == 8 && f[7].startsWith("/") && (parseHex(f[3]) & ACCEPTING) != 0) {
                    out.add(new Listening(f[6], Path.of(f[7])));
                }
            }
        } catch (IOException e) {
            // no /proc: nothing to find this way
        }
        return out;
    }

    private static int parseHex(String s) {
        try {
            return Integer.parseInt(s, 16);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
