package jcluster.master.handoff;

import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;

import java.net.InetSocketAddress;

/**
 * A client's address as sticky dispatch hashes it: its IP address alone (a client's connections come from many
 * ports), an IPv4 address the same whether it arrives as such or mapped into IPv6. The master has it from
 * {@code accept}, without reading a byte of the client's.
 */
final class ClientKey {
    private ClientKey() {
    }

    /**
     * The key of the address {@code accept} wrote, as Netty lays it out: its length in the first byte, then the
     * address (4 bytes, or 16 and a 4-byte scope id), then the port (4 bytes).
     */
    static long ofAccepted(byte[] address) {
        int len = address[0];
        if (len == 8) {
            return ofBytes(address, 1, 4);
        }
        if (len == 24) {
            return isV4Mapped(address, 1) ? ofBytes(address, 13, 4) : ofBytes(address, 1, 16);
        }
        return 0;
    }

    /** The key of a connection's peer, asked of the kernel (a connection taken back or handed back); 0 if gone. */
    static long ofPeer(FileDescriptor fd) {
        try {
            InetSocketAddress peer = new Socket(fd.intValue()).remoteAddress();
            if (peer == null || peer.getAddress() == null) {
                return 0;
            }
            byte[] ip = peer.getAddress().getAddress();
            return ip.length == 16 && isV4Mapped(ip, 0) ? ofBytes(ip, 12, 4) : ofBytes(ip, 0, ip.length);
        } catch (RuntimeException e) {
            // the client left already: any worker will find it gone
            return 0;
        }
    }

    private static boolean isV4Mapped(byte[] b, int at) {
        for (int i = 0; i < 10; i++) {
            if (b[at + i] != 0) {
                return false;
            }
        }
        return b[at + 10] == (byte) 0xff && b[at + 11] == (byte) 0xff;
    }

    static long ofBytes(byte[] b, int at, int len) {
        long h = 0xcbf29ce484222325L;
        for (int i = at; i < at + len; i++) {
            h = (h ^ (b[i] & 0xff)) * 0x100000001b3L;
        }
        return mix(h);
    }

    /** The score of a slot for a client (rendezvous hashing): the highest wins, the next is its fallback. */
    static long score(long clientKey, int slot) {
        return mix(clientKey + 0x9e3779b97f4a7c15L * (slot + 1));
    }

    /** MurmurHash3's finaliser: every bit of the input moves every bit of the output. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
