package jcluster.master.it;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import jcluster.master.ops.LibC;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a systemd service sees, without systemd: a datagram socket as {@code NOTIFY_SOCKET}, read as systemd reads
 * it, and {@code JOURNAL_STREAM} naming the master's stderr.
 */
@Timeout(90)
class SystemdIT {

    /** The notify socket: every datagram the master sends, in order. */
    private static final class NotifySocket implements AutoCloseable {
        final Path dir;
        final Path path;
        final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        private final Channel channel;

        NotifySocket() throws Exception {
            dir = TestFiles.dir("jcluster-notify");
            path = dir.resolve("notify");
            channel = new io.netty.bootstrap.Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                    .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket p) {
                            messages.add(p.content().toString(StandardCharsets.UTF_8));
                        }
                    }).bind(new DomainSocketAddress(path.toFile())).sync().channel();
        }

        /** The next message that is not a watchdog ping, within 10 s. */
        String next() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            String m;
            do {
                m = messages.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } while (m != null && m.equals("WATCHDOG=1"));
            assertNotNull(m, "no message within 10 s");
            return m;
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
            TestFiles.deleteTree(dir);
        }
    }

    @Test
    void systemdIsToldStartingReadyReloadingReadyAndStoppingInOrder() throws Exception {
        try (NotifySocket notify = new NotifySocket();
             Cluster c = Cluster.startWithEnv(Map.of("NOTIFY_SOCKET", notify.path.toString()), "--workers=2",
                     "--boot-timeout=20s", "--shutdown-timeout=5s")) {
            assertEquals("STATUS=starting 2 worker(s)\nEXTEND_TIMEOUT_USEC=30000000", notify.next());
            assertEquals("READY=1\nSTATUS=2 worker(s) serving on 0.0.0.0:" + c.port, notify.next());
            assertEquals("FDSTORE=1\nFDNAME=http", notify.next(), "the listening socket, for systemd's fd store");
            c.signal("HUP");
            String reloading = notify.next();
            assertTrue(reloading.matches("RELOADING=1\nMONOTONIC_USEC=\\d+\nSTATUS=reloading: generation 2 replaces "
                    + "the workers one at a time\nEXTEND_TIMEOUT_USEC=60000000"), reloading);
            // MONOTONIC_USEC is CLOCK_MONOTONIC, which System.nanoTime reads on Linux: systemd compares them
            long usec = Long.parseLong(reloading.split("\n")[1].substring("MONOTONIC_USEC=".length()));
            long now = TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
            assertTrue(usec <= now && now - usec < 10_000_000, usec + " against " + now);
            assertEquals("READY=1\nSTATUS=last reload: generation 2 complete", notify.next());
            c.signal("TERM");
            assertEquals("STOPPING=1\nSTATUS=shutting down (SIGTERM)\nEXTEND_TIMEOUT_USEC=15000000", notify.next());
            assertEquals(0, c.awaitExit(Duration.ofSeconds(20)));
            assertEquals(List.of(), new ArrayList<>(notify.messages).stream().filter(m -> !m.equals("WATCHDOG=1"))
                    .toList(), "nothing more");
        }
    }

    @Test
    void theWatchdogIsPingedAtHalfItsIntervalAndWorkersInheritNothingOfSystemds() throws Exception {
        try (NotifySocket notify = new NotifySocket();
             Cluster c = Cluster.startWithEnv(Map.of("NOTIFY_SOCKET", notify.path.toString(),
                     "WATCHDOG_USEC", "1000000", "LISTEN_FDS", "0", "LISTEN_PID", "1"), "--workers=1")) {
            notify.messages.clear();
            long start = System.nanoTime();
            Thread.sleep(3000);
            long pings = notify.messages.stream().filter("WATCHDOG=1"::equals).count();
            long ms = (System.nanoTime() - start) / 1_000_000;
            // every 500 ms: about 6 in 3 s, on a loaded machine a few fewer
            assertTrue(pings >= 3 && pings <= ms / 500 + 1, pings + " pings in " + ms + " ms");
            for (long pid : c.workerPids()) {
                String env = Files.readString(Path.of("/proc/" + pid + "/environ"));
                for (String name : new String[] {"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "LISTEN_FDS=", "LISTEN_PID="}) {
                    assertFalse(env.contains(name), "worker " + pid + " inherited " + name);
                }
            }
        }
    }

    /**
     * An upgrade under systemd: the old master names the new main pid at the handover, the new one confirms it and
     * says READY; the old one says nothing more (no STOPPING: the service is not stopping), the new one stops it.
     */
    @Test
    void anUpgradeTellsSystemdTheNewMainPidAndOnlyTheNewMasterSpeaksAfterIt() throws Exception {
        long newMaster = -1;
        try (NotifySocket notify = new NotifySocket();
             Cluster c = Cluster.startWithEnv(Map.of("NOTIFY_SOCKET", notify.path.toString()), "--workers=1")) {
            notify.next();
            assertEquals("READY=1\nSTATUS=1 worker(s) serving on 0.0.0.0:" + c.port, notify.next());
            assertEquals("FDSTORE=1\nFDNAME=http", notify.next());
            c.signal("USR2");
            String handover = notify.next();
            assertTrue(handover.matches("MAINPID=\\d+\nSTATUS=upgraded: pid \\d+ serves from now; pid " + c.pid()
                    + " drains"), handover);
            newMaster = Long.parseLong(handover.substring("MAINPID=".length(), handover.indexOf('\n')));
            assertEquals("MAINPID=" + newMaster, notify.next());
            assertEquals("READY=1\nSTATUS=1 worker(s) serving on 0.0.0.0:" + c.port, notify.next());
            assertEquals("FDSTORE=1\nFDNAME=http", notify.next(), "the same socket: systemd keeps one copy");
            assertEquals(0, c.awaitExit(Duration.ofSeconds(30)));
            Cluster.kill("TERM", newMaster);
            assertTrue(notify.next().startsWith("STOPPING=1\nSTATUS=shutting down (SIGTERM)"));
            assertTrue(ProcessHandle.of(newMaster).map(p -> p.onExit().orTimeout(30, TimeUnit.SECONDS).join())
                    .isPresent());
            assertEquals(List.of(), new ArrayList<>(notify.messages).stream().filter(m -> !m.equals("WATCHDOG=1"))
                    .toList(), "nothing more");
        } finally {
            Cluster.killTree(newMaster);
        }
    }

    /** journalctl -p err finds the errors: under systemd each line starts with its syslog priority. */
    @Test
    void linesToTheJournalCarryTheirPriorityWorkersLinesToo() throws Exception {
        try (Cluster c = Cluster.startWithStderrInTheJournal("--workers=1")) {
            c.signal("TTOU"); // not below one: a WARN
            c.awaitLog("not scaling below 1 worker", Duration.ofSeconds(5));
            List<String> lines = c.logText().lines().toList();
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("<6>") && l.contains("[master pid=")
                    && l.contains("ready: 1 workers serving")), c.logText());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("<6>") && l.contains("[worker-1 pid=")), c.logText());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("<4>") && l.contains("not scaling below 1 worker")),
                    c.logText());
            // the loggers' lines; not what a JVM prints by itself (JDK 24+ warns of jnr-ffi's use of Unsafe)
            for (String l : lines) {
                if (l.contains("[master pid=") || l.contains("[worker-")) {
                    assertTrue(l.matches("<[3467]>.*"), "every line the loggers wrote has its priority: " + l);
                }
            }
        }
    }

    @Test
    void aJournalStreamThatIsNotThisStderrIsIgnored() throws Exception {
        try (Cluster c = Cluster.startWithEnv(Map.of("JOURNAL_STREAM", "1:1"), "--workers=1")) {
            assertTrue(c.logText().lines().noneMatch(l -> l.startsWith("<")), c.logText());
        }
    }

    /** A master started as a socket-activated service: {@code socket} as its fd 3, its output to {@code log}. */
    private static long activated(io.netty.channel.unix.Socket socket, Path log, Path dir, String... flags) {
        List<String> env = new ArrayList<>();
        System.getenv().forEach((k, v) -> {
            if (!Cluster.SYSTEMD_VARIABLES.contains(k) && !k.equals("XDG_CACHE_HOME")) {
                env.add(k + "=" + v);
            }
        });
        env.add("XDG_CACHE_HOME=" + TestFiles.CACHE);
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"",
                Cluster.javaBinary(), "-jar", Cluster.JAR.toString(), "--runtime-dir=" + dir.resolve("run")));
        argv.addAll(List.of(flags));
        argv.addAll(Cluster.asRoot(flags));
        return POSIX.posix_spawnp("/bin/sh", List.of(
                jnr.posix.SpawnFileAction.dup(socket.intValue(), 3),
                jnr.posix.SpawnFileAction.open("/dev/null", 0, 0, 0),
                jnr.posix.SpawnFileAction.open(log.toString(), 1, 1 | 64 | 512, 0600),
                jnr.posix.SpawnFileAction.dup(1, 2)), argv, env);
    }

    private static final jnr.posix.POSIX POSIX = jnr.posix.POSIXFactory.getNativePOSIX();

    /** Its exit code, waited for at most {@code timeout}; then killed. */
    private static int exitCode(long pid, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int[] status = new int[1];
        while (POSIX.waitpid(pid, status, 1 /* WNOHANG */) == 0) {
            if (System.nanoTime() > deadline) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                POSIX.waitpid(pid, status, 0);
                return -1;
            }
            Thread.sleep(20);
        }
        return (status[0] >> 8) & 0xff;
    }

    private static io.netty.channel.unix.Socket listeningOn(int port) throws java.io.IOException {
        io.netty.channel.epoll.Epoll.ensureAvailability();
        io.netty.channel.unix.Socket s = io.netty.channel.unix.Socket.newSocketStream();
        s.setReuseAddress(true);
        s.bind(new java.net.InetSocketAddress("0.0.0.0", port));
        s.listen(128);
        // blocking, as systemd passes its sockets (Netty makes its own non-blocking)
        LibC libc = LibC.get();
        libc.fcntl(s.intValue(), LibC.F_SETFL, libc.fcntl(s.intValue(), LibC.F_GETFL, 0) & ~LibC.O_NONBLOCK);
        return s;
    }

    @Test
    void aPassedSocketOnAnotherPortThanTheFlagSaysIsRefusedWithOneLine() throws Exception {
        int port = Cluster.freePort();
        Path dir = TestFiles.dir("jcluster-activated");
        Path log = dir.resolve("master.log");
        try (AutoCloseable cleanup = () -> TestFiles.deleteTree(dir)) {
            io.netty.channel.unix.Socket listening = listeningOn(port);
            long pid = activated(listening, log, dir, "--workers=1", "--port=" + (port == 65535 ? 1 : port + 1));
            listening.close();
            assertEquals(1, exitCode(pid, Duration.ofSeconds(20)));
            assertEquals("master: systemd's socket listens on port " + port + " and --port is "
                    + (port == 65535 ? 1 : port + 1) + "; make them agree (ListenStream= in the socket unit, --port in "
                    + "the service)", Files.readString(log).strip());
        }
    }

    /**
     * Socket activation as systemd does it (sd_listen_fds(3)): the listening socket on fd 3, LISTEN_FDS=1 and
     * LISTEN_PID naming the process, which a shell sets to its own pid before it execs the JVM. The kernel accepts a
     * first connection before the master is even up; the master answers it once its worker is READY.
     */
    @Test
    void aSocketPassedBySystemdIsServedFromItsFirstConnection() throws Exception {
        int port = Cluster.freePort();
        Path dir = TestFiles.dir("jcluster-activated");
        Path log = dir.resolve("master.log");
        io.netty.channel.unix.Socket listening = listeningOn(port);
        long pid = activated(listening, log, dir, "--workers=1", "--port=" + port);
        // the master holds it now, as fd 3
        listening.close();
        try {
            assertTrue(pid > 0, "spawned");
            assertEquals(200, Http.get(port, "/").status(), "the first connection, made before the master was up");
            // then one at a time, with the workers READY: the master must not wait in accept for the next one
            for (int i = 0; i < 5; i++) {
                long start = System.nanoTime();
                assertEquals(200, Http.get(port, "/").status());
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertTrue(ms < 2000, "request " + i + " took " + ms + " ms");
            }
            String text = Files.readString(log);
            // Netty's socket is dual-stack: [::] on this port
            assertTrue(text.lines().anyMatch(l -> l.contains("listening on systemd's socket (fd 3): ")
                    && l.endsWith("]:" + port)), text);
            assertFalse(text.contains(" ERROR "), text);
            Cluster.kill("TERM", pid);
            assertEquals(0, exitCode(pid, Duration.ofSeconds(20)), "exit code; log:\n" + Files.readString(log));
        } finally {
            exitCode(pid, Duration.ZERO);
            TestFiles.deleteTree(dir);
        }
    }
}
