package jcluster.master.ops;

import jcluster.master.StartupException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * {@code --pid-file}: the master's pid, one line. Checked before the master binds anything: a pid file naming a
 * live master that was started with this same pid file refuses the start (one master per pid file); any other
 * (a dead pid, or one the system gave to another process since) is stale and taken over. Written with a rename, so
 * a reader never sees half a pid, and removed at exit only if it still names this master.
 */
public final class PidFile {
    private final Path file;
    private final long pid = ProcessHandle.current().pid();

    private PidFile(Path file) {
        this.file = file.toAbsolutePath().normalize();
    }

    /**
     * @param upgradedFrom the old master of an upgrade (its pid file is this one's after the handover), or -1
     * @throws StartupException if the file names a running master of its own
     */
    public static PidFile check(Path file, long upgradedFrom) {
        PidFile p = new PidFile(file);
        Long other = readIfPresent(p.file);
        if (other != null && other != p.pid && other != upgradedFrom && ProcessHandle.of(other).map(ProcessHandle::isAlive).orElse(false)
                && RunningMasters.pidFileOf(other).map(p.file::equals).orElse(false)) {
            throw new StartupException("the pid file " + p.file + " names a running master (pid " + other
                    + "); stop it first, or give this one another --pid-file");
        }
        return p;
    }

    public void write() {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + pid);
        try {
            Files.writeString(tmp, pid + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the write failed first: that is what the user needs to hear
            }
            throw new StartupException("cannot write the pid file " + file + ": " + reason(e) + "; check --pid-file");
        }
    }

    private String reason(IOException e) {
        Path dir = file.getParent();
        if (Files.isDirectory(file)) {
            return "it is a directory";
        }
        if (e instanceof NoSuchFileException) {
            return Files.isDirectory(dir) ? "no such file" : "its directory " + dir + " does not exist";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied in " + dir;
        }
        // a FileSystemException's message starts with the path; its reason is what the user needs
        return e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.toString();
    }

    /** Removes the file if it still names this master (a later master may have taken it over). */
    public void remove() {
        try {
            Long named = readIfPresent(file);
            if (named != null && named == pid) {
                Files.deleteIfExists(file);
            }
        } catch (IOException | RuntimeException e) {
            // nothing to do at exit
        }
    }

    /** The pid in the file, or null if there is no file or no pid in it. */
    private static Long readIfPresent(Path file) {
        try {
            return Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    /** The pid in a pid file, for the control commands. */
    static long read(Path file) {
        Long pid = readIfPresent(file);
        if (pid == null) {
            throw new StartupException("cannot read a pid from " + file + "; is the server running with --pid-file "
                    + file + "?");
        }
        return pid;
    }
}
