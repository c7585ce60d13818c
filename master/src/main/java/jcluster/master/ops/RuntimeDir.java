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
 * The server's private directory: mode 0700, owned by the server's user, so that only that user reaches the
 * sockets and claim files inside it. It holds only what this server makes: {@value #CONTROL_SOCKET} (the serving
 * master's), a handoff socket per master ({@value #HANDOFF_SOCKET}, or {@code handoff-PID.sock} for the new master
 * of an upgrade, while the old one still has its own) and a claims file per worker ({@code claims-ID}).
 * <p>At start everything a previous run left there is removed (a crashed master leaves all of it), unless a live
 * master still answers on its control socket (another master given the same --runtime-dir), and a directory that
 * holds anything else is refused rather than emptied: it was not ours; the claims files of workers a dead master
 * left serving stay, for the new master to adopt them. The new master of an upgrade joins the
 * directory as it is instead. On exit each master removes what it made, and the last one the directory.
 */
public final class RuntimeDir {
    static final String HANDOFF_SOCKET = "handoff.sock";
    static final String CONTROL_SOCKET = "control.sock";
    private static final String CLAIMS_PREFIX = "claims-";
    /** sun_path of a sockaddr_un holds 108 bytes, its terminating NUL included. */
    private static final int MAX_SOCKET_PATH = 107;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private final Path dir;
    private final Path handoffSocket;
    /** The claims files this master made: removed at its exit, whatever became of the workers. */
    private final Set<Path> claims = new java.util.HashSet<>();
    /** This master holds the control socket's name (it serves, or has not handed over). */
    private boolean holdsControl = true;

    private RuntimeDir(Path dir, Path handoffSocket) {
        this.dir = dir;
        this.handoffSocket = handoffSocket;
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

    /** @param keep leftovers to keep: the claims files of the workers a dead master left, to be adopted */
    public static RuntimeDir prepare(Path dir, Set<Path> keep) {
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
            RuntimeDir r = new RuntimeDir(dir, dir.resolve(HANDOFF_SOCKET));
            r.clearLeftovers(keep);
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

    /**
     * The directory as the old master of an upgrade uses it: checked (ours, 0700), nothing in it removed. This
     * master's handoff socket is named for its pid; the control socket is the old master's until the handover.
     */
    public static RuntimeDir join(Path dir) {
        try {
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != currentUid() || !Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS)
                    .equals(OWNER_ONLY)) {
                throw new StartupException("runtime directory " + dir + " is not the old master's (owned by uid "
                        + owner + ", mode 0700); give the same --runtime-dir");
            }
        } catch (IOException e) {
            throw new StartupException("upgrade: cannot use the old master's runtime directory " + dir + ": " + e);
        }
        RuntimeDir r = new RuntimeDir(dir, dir.resolve("handoff-" + ProcessHandle.current().pid() + ".sock"));
        r.holdsControl = false;
        return r;
    }

    /** The control socket in this runtime directory. */
    public static Path controlSocketIn(Path dir) {
        return dir.resolve(CONTROL_SOCKET);
    }

    /** Removes what a previous run left; refuses a directory in use by a live master or holding foreign files. */
    private void clearLeftovers(Set<Path> keep) throws IOException {
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
            if (!keep.contains(p)) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A name this server puts in its runtime directory. */
    static boolean ours(String name) {
        return name.equals(HANDOFF_SOCKET) || name.equals(CONTROL_SOCKET) || name.matches("handoff-\\d{1,10}\\.sock")
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
        Path p = dir.resolve(CLAIMS_PREFIX + id);
        // another master's (an upgrade's two share the directory): its making fails, and it is not this one's
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            claims.add(p);
        }
        return p;
    }

    /** This master's handoff socket. */
    public Path handoffSocket() {
        return handoffSocket;
    }

    /** The control socket's name goes to the new master of an upgrade (this one's socket is closed already). */
    public void releaseControl() {
        holdsControl = false;
    }

    /** The old master of an upgrade handed over: the control socket's name is this one's now. */
    public void takeControl() {
        holdsControl = true;
    }

    public Path controlSocket() {
        return dir.resolve(CONTROL_SOCKET);
    }

    public Path path() {
        return dir;
    }

    /**
     * Removes what this master put here, then the directory if nothing else is left in it (a new master of an
     * upgrade keeps its own files, and so the directory).
     */
    public void remove() {
        try {
            for (Path p : claims) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(handoffSocket);
            if (holdsControl) {
                Files.deleteIfExists(controlSocket());
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
