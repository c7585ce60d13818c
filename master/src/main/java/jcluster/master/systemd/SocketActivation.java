package jcluster.master.systemd;

import jcluster.master.StartupException;
import jcluster.master.ops.LibC;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The listening socket systemd passes a socket-activated service (sd_listen_fds(3)): {@code LISTEN_PID} names this
 * process, {@code LISTEN_FDS} counts the sockets from fd 3 on, {@code LISTEN_FDNAMES} names them (a socket unit's
 * {@code FileDescriptorName=}). One socket is taken as it comes; of several, the one named {@value #NAME}. It must
 * be a listening TCP socket (IPv4 or IPv6): anything else is refused with one line naming the fix.
 */
public final class SocketActivation {
    /** The name that picks the HTTP socket among several. */
    public static final String NAME = "http";
    private static final int FIRST_FD = 3;

    private SocketActivation() {
    }

    /** The fd of the listening socket systemd passed this process, or -1 for none (the master binds its own). */
    public static int listeningFd(Map<String, String> env, long pid) {
        String forPid = env.get("LISTEN_PID");
        String count = env.get("LISTEN_FDS");
        if (forPid == null || count == null || !forPid.equals(Long.toString(pid))) {
            return -1;
        }
        if (!count.matches("\\d{1,4}") || Integer.parseInt(count) == 0) {
            throw new StartupException("systemd passed LISTEN_FDS=" + count + ", no socket; check the socket unit's "
                    + "ListenStream=");
        }
        int n = Integer.parseInt(count);
        if (n == 1) {
            return FIRST_FD;
        }
        String names = env.get("LISTEN_FDNAMES");
        List<String> named = names == null ? List.of() : Arrays.asList(names.split(":", -1));
        int at = named.indexOf(NAME);
        if (at < 0 || at >= n) {
            throw new StartupException("systemd passed " + n + " sockets" + (names == null ? "" : " (" + names + ")")
                    + " and none is named '" + NAME + "'; set FileDescriptorName=" + NAME + " on the HTTP one");
        }
        return FIRST_FD + at;
    }

    /**
     * Makes the passed socket fit for the acceptor: refuses, with one line, an fd that is not a listening TCP
     * socket, and makes it non-blocking. systemd passes its sockets in blocking mode; the acceptor takes connections
     * until accept says there are none, and on a blocking socket that wait would stop the master's loop.
     */
    public static void take(int fd) {
        check(fd);
        LibC libc = LibC.get();
        int flags = libc.fcntl(fd, LibC.F_GETFL, 0);
        if (flags < 0 || libc.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK) < 0) {
            throw new StartupException("cannot make systemd's socket (fd " + fd + ") non-blocking");
        }
    }

    /** Refuses, with one line, an fd that is not a listening TCP socket. */
    static void check(int fd) {
        LibC libc = LibC.get();
        int domain = option(libc, fd, LibC.SO_DOMAIN);
        int type = option(libc, fd, LibC.SO_TYPE);
        if (domain == Integer.MIN_VALUE || type == Integer.MIN_VALUE) {
            throw new StartupException("systemd's socket (fd " + fd + ") is not a socket; check the socket unit");
        }
        if (domain != LibC.AF_INET && domain != LibC.AF_INET6 || type != LibC.SOCK_STREAM) {
            throw new StartupException("systemd's socket (fd " + fd + ") is " + (domain == LibC.AF_UNIX ? "a Unix"
                    : domain == LibC.AF_INET || domain == LibC.AF_INET6 ? "an IP" : "a family " + domain) + " "
                    + (type == LibC.SOCK_STREAM ? "stream" : type == LibC.SOCK_DGRAM ? "datagram" : "type " + type)
                    + " socket, not TCP; the socket unit needs ListenStream=PORT or ListenStream=ADDR:PORT");
        }
        if (option(libc, fd, LibC.SO_ACCEPTCONN) != 1) {
            throw new StartupException("systemd's socket (fd " + fd + ") is not listening; the socket unit needs "
                    + "ListenStream= and Accept=no");
        }
    }

    /** An int socket option, or MIN_VALUE when the fd has none (not a socket). */
    private static int option(LibC libc, int fd, int name) {
        int[] value = new int[1];
        int[] length = {4};
        return libc.getsockopt(fd, LibC.SOL_SOCKET, name, value, length) == 0 ? value[0] : Integer.MIN_VALUE;
    }
}
