package jcluster.master.it;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;

/** {@code UnixConnect PATH}: connects to a Unix socket; exit 0 if it could, 13 and the error if permission denied. */
public final class UnixConnect {
    private UnixConnect() {
    }

    public static void main(String[] args) {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(args[0]))) {
            System.out.println("connected to " + args[0]);
        } catch (IOException e) {
            System.out.println(e.getMessage());
            System.exit(e.getMessage() != null && e.getMessage().contains("Permission denied") ? 13 : 1);
        }
    }
}
