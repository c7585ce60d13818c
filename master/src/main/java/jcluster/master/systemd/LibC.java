package jcluster.master.systemd;

import jnr.ffi.LibraryLoader;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/** The libc calls systemd's protocols need and the JDK lacks (Unix datagrams, socket options), bound by jnr-ffi. */
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

    static LibC load() {
        return LibraryLoader.create(LibC.class).load("c");
    }

    int socket(int domain, int type, int protocol);

    @ssize_t
    long sendto(int fd, byte[] buf, @size_t long len, int flags, byte[] addr, int addrlen);

    int getsockopt(int fd, int level, int name, int[] value, int[] length);

    int fcntl(int fd, int cmd, int arg);

    int close(int fd);
}
