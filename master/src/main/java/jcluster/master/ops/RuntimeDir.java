package jcluster.master.ops;

import jcluster.master.StartupException;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The master's private directory: mode 0700, owned by the server's user, so that only that user reaches the
 * sockets and claim files inside it. It holds only what this server makes: {@value #HANDOFF_SOCKET},
 * {@value #CONTROL_SOCKET} and a claims file per worker ({@code claims-ID}).
 * <p>At start everything a previous run left there is removed (a crashed master leaves all of it), unless a live
 * master still answers on its control socket (another master given the same --runtime-dir), and a directory that
 * holds anything else is refused rather than emptied: it was not ours. On exit the files and the directory go.
 */
public final class RuntimeDir {
    static final String HANDOFF_SOCKET = "handoff.sock";
    static final String CONTROL_SOCKET = "control.sock";
    private static final String CLAIMS_PREFIX = "claims-";
    /** sun_path of a sockaddr_un holds 108 bytes, its terminating NUL included. */
    private static final int MAX_SOCKET_PATH = 107;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private final Path dir;

    private RuntimeDir(Path dir) {
        this.dir = dir;
    }

    /**
     * The default location, per port: under systemd's {@code $RUNTIME_DIRECTORY} (a unit's {@code RuntimeDirectory=},
     * made for the service's user and removed when it stops) or else the user's {@code $XDG_RUNTIME_DIR}, as
     * {@code jcluster-PORT}; else in the temporary directory as {@code jcluster-UID-PORT}.
     */
    public static Path defaultFor(int port) {
        for (String env : new String[] {"RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"}) {
            String v = System.getenv(env);
            // systemd joins several RuntimeDirectory= entries with colons: the first is ours
            String first = v == null ? "" : v.split(":")[0];
            if (!first.isBlank() && Files.isDirectory(Path.of(first))) {
                return Path.of(first, "jcluster-" + port);
            }
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "jcluster-" + currentUid() + "-" + port);
    }

    public static RuntimeDir prepare(Path dir) {
        String fix = "; choose another with --runtime-dir";
        int longest = dir.toAbsolutePath().resolve(HANDOFF_SOCKET).toString().getBytes(StandardCharsets.UTF_8).length;
        if (longest > MAX_SOCKET_PATH) {
            throw new StartupException("runtime directory " + dir + " is too long for a Unix socket in it (" + longest
                    + " bytes with its socket's name, at most " + MAX_SOCKET_PATH + "); choose a shorter --runtime-dir");
        }
        try {
            try {
                Files.createDirectories(dir.getParent() == null ? dir : dir.getParent());
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    throw new StartupException("runtime directory " + dir + " exists and is not a directory" + fix);
                }
                int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                if (owner != currentUid()) {
                    throw new StartupException("runtime directory " + dir + " belongs to uid " + owner
                            + ", not to this user (uid " + currentUid() + ")" + fix);
                }
            }
            // what is in a directory that was there already is checked before anything in it changes: a
            // directory that is not ours (another program's, the current one given by mistake) is left as it was
            RuntimeDir r = new RuntimeDir(dir);
            r.clearLeftovers();
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
            if (!Files.isWritable(dir)) {
                throw new AccessDeniedException(dir.toString());
            }
            return r;
        } catch (AccessDeniedException e) {
            throw new StartupException("cannot use runtime directory " + dir + ": permission denied" + fix);
        } catch (NotDirectoryException | NoSuchFileException e) {
            throw new StartupException("cannot create runtime directory " + dir + ": " + e.getFile()
                    + " is not a directory" + fix);
        } catch (IOException e) {
            throw new StartupException("cannot create runtime directory " + dir + ": " + e + fix);
        }
    }

    /** Removes what a previous run left; refuses a directory in use by a live master or holding foreign files. */
    private void clearLeftovers() throws IOException {
        List<Path> entries;
        try (Stream<Path> list = Files.list(dir)) {
            entries = list.sorted().toList();
        }
        List<String> foreign = entries.stream().map(p -> p.getFileName().toString()).filter(n -> !ours(n)).toList();
        if (!foreign.isEmpty()) {
            throw new StartupException("runtime directory " + dir + " holds files this server did not make ("
                    + String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
                    + (foreign.size() > 5 ? ", ..." : "") + "); remove them or choose another --runtime-dir");
        }
        if (Files.exists(controlSocket(), LinkOption.NOFOLLOW_LINKS) && answers(controlSocket())) {
            throw new StartupException("runtime directory " + dir + " is in use by a running master (its control "
                    + "socket answers); stop it or choose another --runtime-dir");
        }
        for (Path p : entries) {
            Files.deleteIfExists(p);
        }
    }

    /** A name this server puts in its runtime directory. */
    static boolean ours(String name) {
        return name.equals(HANDOFF_SOCKET) || name.equals(CONTROL_SOCKET)
                || (name.startsWith(CLAIMS_PREFIX) && name.length() > CLAIMS_PREFIX.length()
                && name.substring(CLAIMS_PREFIX.length()).chars().allMatch(c -> c >= '0' && c <= '9'));
    }

    /** Something accepts on this Unix socket (a refused or failed connect: a leftover of a dead master). */
    private static boolean answers(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The claim slots shared with worker {@code id}. */
    public Path claimsFile(int id) {
        return dir.resolve(CLAIMS_PREFIX + id);
    }

    public Path handoffSocket() {
        return dir.resolve(HANDOFF_SOCKET);
    }

    public Path controlSocket() {
        return dir.resolve(CONTROL_SOCKET);
    }

    public Path path() {
        return dir;
    }

    /** Removes what the master put here, then the directory if nothing else is left in it. */
    public void remove() {
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : list.toList()) {
                if (ours(p.getFileName().toString())) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // not empty (someone put a file there meanwhile) or already gone: nothing of ours is left
        }
    }

    public static int currentUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the process's uid from /proc/self", e);
        }
    }
}
