package jcluster.worker;

import jcluster.common.WorkerOptions;
import jnr.ffi.LibraryLoader;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * The worker's identity: {@code --user}/{@code --group} and {@code --worker-rlimit-nofile}. A worker of a root
 * master started with {@code --user} starts as root, raises its open-file limit, reaches the root-only runtime
 * directory (its two sockets, its claims file) and maps the root-only class-data archive; then, before any code of
 * the app is loaded, it becomes that user for good: groups, gid, then uid, real, effective and saved alike. glibc
 * makes each of these calls for every thread of the process (its {@code setxid} broadcast), so no JVM thread keeps
 * root. A worker that would run as root without {@code --allow-root} refuses to.
 */
final class Privileges {
    /** Linux's RLIMIT_NOFILE. */
    static final int RLIMIT_NOFILE = 7;

    /** The libc calls jnr-posix lacks. */
    public interface Calls {
        int setgroups(long size, int[] list);

        int setresgid(int real, int effective, int saved);

        int setresuid(int real, int effective, int saved);
    }

    private Privileges() {
    }

    /** Raises the open-file limit to {@code n} (as root, above the hard limit too); 0 leaves it. */
    static void openFiles(long n) {
        if (n <= 0) {
            return;
        }
        POSIX posix = POSIXFactory.getNativePOSIX();
        var now = posix.getrlimit(RLIMIT_NOFILE);
        long hard = Math.max(n, now.rlimMax());
        if (posix.setrlimit(RLIMIT_NOFILE, n, hard) != 0) {
            throw new IllegalStateException("cannot raise the open-file limit to " + n + " (hard limit "
                    + now.rlimMax() + ", errno " + posix.errno() + ")");
        }
    }

    /** Why this worker must not go on as it is (root without --allow-root), or null. */
    static String refusal(WorkerOptions.Identity id) {
        if (id.uid() < 0 && POSIXFactory.getNativePOSIX().geteuid() == 0 && !id.allowRoot()) {
            return "refusing to run as root: give the master --user USER for its workers, or --allow-root";
        }
        return null;
    }

    /** Becomes {@code id}'s user and group, if it names them; checks that root cannot be had back. */
    static void drop(WorkerOptions.Identity id) {
        if (id.uid() < 0) {
            return;
        }
        Calls c = LibraryLoader.create(Calls.class).load("c");
        POSIX posix = POSIXFactory.getNativePOSIX();
        if (c.setgroups(1, new int[] {id.gid()}) != 0 || c.setresgid(id.gid(), id.gid(), id.gid()) != 0
                || c.setresuid(id.uid(), id.uid(), id.uid()) != 0) {
            throw new IllegalStateException("cannot become uid " + id.uid() + " gid " + id.gid() + " (errno "
                    + posix.errno() + ")");
        }
        if (posix.getuid() != id.uid() || posix.geteuid() != id.uid() || posix.getgid() != id.gid()
                || posix.getegid() != id.gid() || (id.uid() != 0 && c.setresuid(0, 0, 0) == 0)) {
            throw new IllegalStateException("still able to act as root after dropping to uid " + id.uid());
        }
    }
}
