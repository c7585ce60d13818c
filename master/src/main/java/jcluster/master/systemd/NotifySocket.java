package jcluster.master.systemd;

import jcluster.master.ops.LibC;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * The service manager's notification socket ({@code NOTIFY_SOCKET}): a Unix datagram socket, by path or, with a
 * leading {@code @}, in the abstract namespace. Written directly (sd_notify(3)'s protocol: one datagram of
 * newline-separated {@code KEY=VALUE} lines), without libsystemd. The JDK has no Unix datagram sockets, and an
 * abstract address needs its exact length, so the socket is libc's, through jnr-ffi.
 */
final class NotifySocket {
    private static final Logger log = LoggerFactory.getLogger(NotifySocket.class);
    /** sun_path of a sockaddr_un: 108 bytes. */
    private static final int SUN_PATH = 108;

    private final LibC libc;
    private final int fd;
    private final byte[] address;
    private final String name;
    private boolean failedBefore;

    private NotifySocket(LibC libc, int fd, byte[] address, String name) {
        this.libc = libc;
        this.fd = fd;
        this.address = address;
        this.name = name;
    }

    /** A socket to send to {@code name}; null (with a line saying why) if it cannot be made. */
    static NotifySocket open(String name) {
        byte[] address = sockaddr(name);
        if (address == null) {
            log.warn("NOTIFY_SOCKET={} is no Unix socket address this process can use; not notifying the service "
                    + "manager", name);
            return null;
        }
        LibC libc = LibC.get();
        int fd = libc.socket(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            log.warn("cannot make a socket for NOTIFY_SOCKET={}; not notifying the service manager", name);
            return null;
        }
        return new NotifySocket(libc, fd, address, name);
    }

    /**
     * The sockaddr_un for a NOTIFY_SOCKET value, exactly as long as it must be: its family (AF_UNIX, in the
     * machine's byte order), then the path and its NUL, or a NUL and the abstract name (no NUL after it: every byte
     * counts); null for an empty, relative or too long name.
     */
    static byte[] sockaddr(String name) {
        if (name == null || name.length() < 2 || !(name.startsWith("/") || name.startsWith("@"))) {
            return null;
        }
        boolean abstractName = name.startsWith("@");
        byte[] path = (abstractName ? name.substring(1) : name).getBytes(StandardCharsets.UTF_8);
        int length = 2 + path.length + 1;
        if (path.length + 1 > SUN_PATH) {
            return null;
        }
        byte[] a = new byte[length];
        boolean little = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;
        a[little ? 0 : 1] = LibC.AF_UNIX;
        System.arraycopy(path, 0, a, abstractName ? 3 : 2, path.length);
        return a;
    }

    /** Sends one datagram; a failure is logged once, and the server goes on. */
    void send(String message) {
        byte[] b = message.getBytes(StandardCharsets.UTF_8);
        long sent = libc.sendto(fd, b, b.length, 0, address, address.length);
        if (sent < 0 && !failedBefore) {
            failedBefore = true;
            log.warn("cannot notify the service manager on {} ({}); the server goes on", name,
                    message.lines().findFirst().orElse(""));
        } else if (sent >= 0) {
            failedBefore = false;
        }
    }

    /**
     * Sends one datagram with an fd attached (SCM_RIGHTS), as {@code FDSTORE=1} needs; a failure is logged. The structs are laid out by hand for LP64 Linux (x86-64, aarch64): msghdr of 56 bytes, iovec of 16, one
     * cmsghdr of 16 plus the int, padded to 24.
     */
    void send(String message, int passed) {
        jnr.ffi.Runtime rt = jnr.ffi.Runtime.getRuntime(libc);
        if (rt.addressSize() != 8) {
            log.warn("cannot pass an fd to the service manager from a 32-bit JVM; not storing it");
            return;
        }
        byte[] b = message.getBytes(StandardCharsets.UTF_8);
        Pointer data = Memory.allocateDirect(rt, b.length);
        data.put(0, b, 0, b.length);
        Pointer to = Memory.allocateDirect(rt, address.length);
        to.put(0, address, 0, address.length);
        Pointer iov = Memory.allocateDirect(rt, 16, true);
        iov.putAddress(0, data.address());
        iov.putLong(8, b.length);
        Pointer control = Memory.allocateDirect(rt, 24, true);
        control.putLong(0, 16 + 4);
        control.putInt(8, LibC.SOL_SOCKET);
        control.putInt(12, LibC.SCM_RIGHTS);
        control.putInt(16, passed);
        Pointer msg = Memory.allocateDirect(rt, 56, true);
        msg.putAddress(0, to.address());
        msg.putInt(8, address.length);
        msg.putAddress(16, iov.address());
        msg.putLong(24, 1);
        msg.putAddress(32, control.address());
        msg.putLong(40, 24);
        if (libc.sendmsg(fd, msg, 0) < 0) {
            log.warn("cannot pass the listening socket to the service manager on {} ({}); the server goes on",
                    name, message.lines().findFirst().orElse(""));
        }
    }

    void close() {
        libc.close(fd);
    }
}
