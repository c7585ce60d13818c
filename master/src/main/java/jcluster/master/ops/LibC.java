package jcluster.master.ops;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc calls the master needs and the JDK lacks, bound once by jnr-ffi: scheduling policy ({@link Sched}), Unix
 * datagrams and socket options (systemd's notify socket and socket activation), a signal's disposition (an
 * upgrade's new master).
 */
public interface LibC {
    int AF_UNIX = 1;
    int AF_INET = 2;
    int AF_INET6 = 10;
    int SOCK_STREAM = 1;
    int SOCK_DGRAM = 2;
    int SOCK_CLOEXEC = 0x80000;
    int SOL_SOCKET = 1;
    int SO_TYPE = 3;
    int SO_ACCEPTCONN = 30;
    int SO_DOMAIN = 39;
    int F_GETFL = 3;
    int F_SETFL = 4;
    int O_NONBLOCK = 0x800;

    /** The binding, made on first use: jnr-ffi generates a class for it, once per process is enough. */
    static LibC get() {
        return Holder.LIBC;
    }

    /** {@code param}: struct sched_param, whose only field is the priority (0 for SCHED_OTHER and SCHED_BATCH). */
    int sched_setscheduler(int pid, int policy, int[] param);

    int sched_getscheduler(int pid);

    int socket(int domain, int type, int protocol);

    @ssize_t
    long sendto(int fd, byte[] buf, @size_t long len, int flags, byte[] addr, int addrlen);

    int getsockopt(int fd, int level, int name, int[] value, int[] length);

    int SCM_RIGHTS = 1;

    /** {@code msg}: a struct msghdr in native memory. */
    @ssize_t
    long sendmsg(int fd, Pointer msg, int flags);

    int fcntl(int fd, int cmd, int arg);

    int close(int fd);

    int SIGINT = 2;
    long SIG_DFL = 0;

    /** @return the previous handler */
    @intptr_t
    long signal(int signum, @intptr_t long handler);

    /** Loads the binding when {@link #get} is first called. */
    final class Holder {
        static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");

        private Holder() {
        }
    }
}
