package jcluster.master;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The master's private directory: mode 0700, owned by the server's user, so that only that user reaches the
 * handoff socket inside it. Leftovers of a crashed run are removed on start (the master holds the port by then,
 * so no live master uses them); the directory is removed on exit.
 */
final class RuntimeDir {
    static final String HANDOFF_SOCKET = "handoff.sock";
    static final String CONTROL_SOCKET = "control.sock";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private final Path dir;

    private RuntimeDir(Path dir) {
        this.dir = dir;
    }

    /** The default location: per user and port, under $XDG_RUNTIME_DIR when there is one. */
    static Path defaultFor(int port) {
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isBlank() && Files.isDirectory(Path.of(xdg))) {
            return Path.of(xdg, "jcluster-" + port);
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "jcluster-" + currentUid() + "-" + port);
    }

    static RuntimeDir prepare(Path dir) {
        String fix = "; choose another with --runtime-dir";
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
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
            Files.deleteIfExists(dir.resolve(HANDOFF_SOCKET));
            Files.deleteIfExists(dir.resolve(CONTROL_SOCKET));
            if (!Files.isWritable(dir)) {
                throw new AccessDeniedException(dir.toString());
            }
            return new RuntimeDir(dir);
        } catch (AccessDeniedException e) {
            throw new StartupException("cannot use runtime directory " + dir + ": permission denied" + fix);
        } catch (NotDirectoryException | NoSuchFileException e) {
            throw new StartupException("cannot create runtime directory " + dir + ": " + e.getFile()
                    + " is not a directory" + fix);
        } catch (IOException e) {
            throw new StartupException("cannot create runtime directory " + dir + ": " + e + fix);
        }
    }

    Path handoffSocket() {
        return dir.resolve(HANDOFF_SOCKET);
    }

    Path controlSocket() {
        return dir.resolve(CONTROL_SOCKET);
    }

    Path path() {
        return dir;
    }

    /** Removes what the master put here, then the directory if nothing else is left in it. */
    void remove() {
        try {
            Files.deleteIfExists(handoffSocket());
            Files.deleteIfExists(controlSocket());
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // not empty or already gone: nothing of ours is left to leak
        }
    }

    static int currentUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the process's uid from /proc/self", e);
        }
    }
}
