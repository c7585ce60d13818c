package jcluster.master.systemd;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import jcluster.master.StartupException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketActivationTest {
    @BeforeAll
    static void nativeTransport() {
        Epoll.ensureAvailability();
    }

    @Test
    void socketsPassedToAnotherProcessAreNotOurs() {
        assertEquals(-1, SocketActivation.listeningFd(Map.of(), 7));
        assertEquals(-1, SocketActivation.listeningFd(Map.of("LISTEN_PID", "8", "LISTEN_FDS", "1"), 7));
        assertEquals(-1, SocketActivation.listeningFd(Map.of("LISTEN_FDS", "1"), 7));
    }

    @Test
    void oneSocketIsFd3AndOfSeveralTheOneNamedHttp() {
        assertEquals(3, SocketActivation.listeningFd(Map.of("LISTEN_PID", "7", "LISTEN_FDS", "1"), 7));
        assertEquals(4, SocketActivation.listeningFd(Map.of("LISTEN_PID", "7", "LISTEN_FDS", "2",
                "LISTEN_FDNAMES", "admin:http"), 7));
    }

    @Test
    void severalUnnamedSocketsOrNoneAreRefusedWithTheFix() {
        StartupException e = assertThrows(StartupException.class, () -> SocketActivation.listeningFd(
                Map.of("LISTEN_PID", "7", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "a:b"), 7));
        assertEquals("systemd passed 2 sockets (a:b) and none is named 'http'; set FileDescriptorName=http on the "
                + "HTTP one", e.getMessage());
        assertThrows(StartupException.class, () -> SocketActivation.listeningFd(
                Map.of("LISTEN_PID", "7", "LISTEN_FDS", "0"), 7));
        assertThrows(StartupException.class, () -> SocketActivation.listeningFd(
                Map.of("LISTEN_PID", "7", "LISTEN_FDS", "many"), 7));
    }

    @Test
    void onlyAListeningTcpSocketIsTaken() throws Exception {
        Socket listening = Socket.newSocketStream();
        Socket unbound = Socket.newSocketStream();
        Socket udp = Socket.newSocketDgram();
        Socket unix = Socket.newSocketDomain();
        try {
            listening.bind(new InetSocketAddress("127.0.0.1", 0));
            listening.listen(16);
            assertDoesNotThrow(() -> SocketActivation.check(listening.intValue()));
            assertTrue(assertThrows(StartupException.class, () -> SocketActivation.check(unbound.intValue()))
                    .getMessage().contains("is not listening"));
            assertEquals("systemd's socket (fd " + udp.intValue() + ") is an IP datagram socket, not TCP; the socket "
                    + "unit needs ListenStream=PORT or ListenStream=ADDR:PORT", assertThrows(StartupException.class,
                    () -> SocketActivation.check(udp.intValue())).getMessage());
            assertTrue(assertThrows(StartupException.class, () -> SocketActivation.check(unix.intValue()))
                    .getMessage().contains("is a Unix stream socket, not TCP"));
            io.netty.channel.unix.FileDescriptor[] pipe = io.netty.channel.unix.FileDescriptor.pipe();
            try {
                assertTrue(assertThrows(StartupException.class, () -> SocketActivation.check(pipe[0].intValue()))
                        .getMessage().contains("is not a socket"));
            } finally {
                pipe[0].close();
                pipe[1].close();
            }
        } finally {
            listening.close();
            unbound.close();
            udp.close();
            unix.close();
        }
    }
}
