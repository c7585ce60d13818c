package jcluster.master.ops;

import jcluster.common.WorkerOptions;
import jnr.posix.Group;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.Passwd;

/**
 * Who the master and its workers run as: {@code --user}, {@code --group}, {@code --allow-root} and the open-file
 * limits. The master keeps root when it has it, as nginx's does: every worker it starts (a respawn, a reload) starts
 * as root, to reach the root-only runtime directory and class-data archive, and drops to {@code --user} itself
 * before it loads the app; the master signals workers of another uid, and the new master of an upgrade binds the
 * admin port. It runs no app code and reads no client byte.
 */
public final class Identity {
    /** Linux's RLIMIT_NOFILE. */
    static final int RLIMIT_NOFILE = 7;
    /** The capability to raise a hard limit (root in a container may lack it). */
    static final int CAP_SYS_RESOURCE = 24;
    private static final POSIX POSIX = POSIXFactory.getNativePOSIX();

    private Identity() {
    }

    /**
     * The workers' identity from the flags, checked.
     * @throws IllegalArgumentException naming the flag and the fix
     */
    public static WorkerOptions.Identity forWorkers(String user, String group, boolean allowRoot, long openFiles) {
        int euid = POSIX.geteuid();
        if (group != null && user == null) {
            throw new IllegalArgumentException("--group needs --user: the workers' user");
        }
        int uid = -1;
        int gid = -1;
        if (user != null) {
            Passwd pw = user.matches("\\d+") ? POSIX.getpwuid(Integer.parseInt(user)) : POSIX.getpwnam(user);
            if (pw == null) {
                throw new IllegalArgumentException("--user " + user + ": no such user; give one from /etc/passwd "
                        + "(useradd --system --no-create-home --shell /usr/sbin/nologin " + user + ")");
            }
            uid = (int) pw.getUID();
            gid = (int) pw.getGID();
            if (group != null) {
                Group gr = group.matches("\\d+") ? POSIX.getgrgid(Integer.parseInt(group)) : POSIX.getgrnam(group);
                if (gr == null) {
                    throw new IllegalArgumentException("--group " + group + ": no such group; give one from "
                            + "/etc/group");
                }
                gid = (int) gr.getGID();
            }
            if (euid != 0 && uid != euid) {
                throw new IllegalArgumentException("--user " + user + ": only a master started as root can run "
                        + "its workers as another user; start it as root (it binds, then its workers drop to "
                        + user + ") or leave --user out");
            }
            if (uid == euid && (group == null || gid == POSIX.getegid())) {
                // already that user: nothing to drop
                uid = -1;
                gid = -1;
            }
        }
        boolean asRoot = uid < 0 ? euid == 0 : uid == 0;
        if (asRoot && !allowRoot) {
            throw new IllegalArgumentException("the workers would run as root, and so would the app: give --user "
                    + "USER (the master binds the port as root, then its workers run as USER), or --allow-root");
        }
        if (openFiles < 0 || openFiles > (1 << 30)) {
            throw new IllegalArgumentException("--worker-rlimit-nofile must be between 0 and " + (1 << 30)
                    + ", got " + openFiles);
        }
        long hard = POSIX.getrlimit(RLIMIT_NOFILE).rlimMax();
        if (openFiles > hard && !capable(CAP_SYS_RESOURCE)) {
            throw new IllegalArgumentException("--worker-rlimit-nofile " + openFiles + " is above the hard limit "
                    + hard + ", which only a process with CAP_SYS_RESOURCE may raise; raise it where the master "
                    + "starts (LimitNOFILE= in a unit, ulimit -Hn) or give at most " + hard);
        }
        return new WorkerOptions.Identity(uid, gid, allowRoot, openFiles);
    }

    /** Raises this process's soft open-file limit to its hard limit; the new soft limit, or why not. */
    public static String raiseOpenFiles() {
        var now = POSIX.getrlimit(RLIMIT_NOFILE);
        if (now.rlimCur() >= now.rlimMax()) {
            return Long.toString(now.rlimCur());
        }
        if (POSIX.setrlimit(RLIMIT_NOFILE, now.rlimMax(), now.rlimMax()) != 0) {
            return now.rlimCur() + " (could not raise it to " + now.rlimMax() + ": errno " + POSIX.errno() + ")";
        }
        return Long.toString(now.rlimMax());
    }

    /** This process holds the capability (its effective set, from /proc). */
    static boolean capable(int cap) {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << cap)) != 0;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    public static boolean root() {
        return POSIX.geteuid() == 0;
    }

    /** Gives the workers' user a file the master made as root (the access log, as nginx does); false if not. */
    public static boolean chown(java.nio.file.Path file, WorkerOptions.Identity id) {
        return id.uid() < 0 || POSIX.chown(file.toString(), id.uid(), -1) == 0;
    }
}
