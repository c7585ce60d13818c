package jcluster.master;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import jcluster.common.ExitCodes;
import jcluster.common.Signals;
import jcluster.master.handoff.Acceptor;
import jcluster.master.handoff.HandoffServer;
import jcluster.master.handoff.Handoffs;
import jcluster.master.ops.AdminServer;
import jcluster.master.ops.ControlAnswers;
import jcluster.master.ops.ControlServer;
import jcluster.master.ops.PidFile;
import jcluster.master.ops.RuntimeDir;
import jcluster.master.supervisor.Orphans;
import jcluster.master.supervisor.WorkerLauncher;
import jcluster.master.systemd.ServiceManager;
import jcluster.master.systemd.SocketActivation;
import jcluster.master.upgrade.Takeover;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.concurrent.TimeUnit;

/**
 * What the master runs on, opened in order and closed by one {@link #close} whatever the way out: a start-up that
 * fails half-way, the arbiter's end, or the JVM exiting another way (the shutdown hook). Opens the pid file's check,
 * the listener (first, so a port in use is the first error), the runtime directory, the handoff and control
 * sockets, the admin port and the worker launcher, then hands them to the {@link Master} on its event loop.
 */
final class MasterServer {
    private static final Logger log = LoggerFactory.getLogger(MasterServer.class);

    private final MasterOptions options;
    private EventLoopGroup group;
    private PidFile pidFile;
    private Acceptor acceptor;
    private RuntimeDir runtimeDir;
    private HandoffServer handoff;
    private ControlServer control;
    private AdminServer admin;
    private WorkerLauncher launcher;
    private ServiceManager systemd;
    private Master master;
    private List<Orphans.Orphan> orphans = List.of();
    private final List<HandoffServer> adoptionSockets = new ArrayList<>();
    private boolean closed;

    MasterServer(MasterOptions options) {
        this.options = options;
    }

    /** Runs the master to its end; the exit code. */
    int run() {
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("master-loop"), EpollIoHandler.newFactory());
        EventLoop loop = group.next();
        try {
            Path dir = options.runtimeDir != null ? options.runtimeDir : RuntimeDir.defaultFor(options.port);
            Takeover takeover = Takeover.fromEnvironment(System.getenv(), RuntimeDir.controlSocketIn(dir));
            long from = takeover == null ? -1 : takeover.from();
            if (takeover != null) {
                takeover.restoreInterrupt();
            }
            pidFile = options.pidFile == null ? null : PidFile.check(options.pidFile, from);
            Clock clock = Clock.of(loop);
            Handoffs handoffs = Handoffs.of(options, clock, id -> runtimeDir.claimsFile(id));
            int activated = SocketActivation.listeningFd(System.getenv(), ProcessHandle.current().pid());
            if (takeover != null) {
                int fd = takeover.receiveListener(group);
                acceptor = Acceptor.adopt(loop, fd, options.port, handoffs, "the old master's socket",
                        "an upgrade keeps the port: the new master needs the old one's --port");
                log.info("upgrade from pid {}: listening on its socket (fd {}): {}", from, fd, acceptor.localAddress());
            } else if (activated >= 0) {
                SocketActivation.take(activated);
                acceptor = Acceptor.adopt(loop, activated, options.port, handoffs, "systemd's socket",
                        "ListenStream= in the socket unit, --port in the service");
                log.info("listening on systemd's socket (fd {}): {}", activated, acceptor.localAddress());
            } else {
                acceptor = Acceptor.bind(loop, options.host, options.port, options.backlog, handoffs);
            }
            // a dead master's workers that still serve: adopted, with their claims files and sockets
            orphans = takeover != null || !Files.isDirectory(dir) ? List.of()
                    : Orphans.find(dir, RuntimeDir.currentUid());
            runtimeDir = takeover != null ? RuntimeDir.join(dir) : RuntimeDir.prepare(dir, orphans.stream()
                    .map(Orphans.Orphan::claims).filter(Objects::nonNull).collect(Collectors.toSet()));
            launcher = new WorkerLauncher(options, runtimeDir);
            systemd = ServiceManager.fromEnvironment(System.getenv(), options, from);
            if (activated >= 0) {
                systemd.listenerFromSystemd();
            }
            master = new Master(options, clock, launcher, acceptor, handoffs,
                    () -> AppCheck.problem(options.appJar, options.appClass), systemd, takeover);
            handoff = HandoffServer.bind(loop, runtimeDir.handoffSocket(), master);
            // an orphan connects again where it was told to first (an upgraded master's socket is handoff-PID.sock)
            for (Path socket : orphans.stream().map(Orphans.Orphan::socket).distinct().toList()) {
                if (!socket.equals(runtimeDir.handoffSocket())) {
                    adoptionSockets.add(HandoffServer.bind(loop, socket, master));
                }
            }
            ControlAnswers answers = new ControlAnswers(master, master.succession());
            if (takeover == null) {
                serve(loop, master, answers);
            } else {
                // the old master holds these until it hands over
                master.succession().serving().thenRun(() -> takeOver(loop, master, answers));
            }
            master.succession().handedOver().thenRun(this::handOver);
        } catch (StartupException e) {
            close();
            throw e;
        }
        // Everything runs on this one thread: if it ever ends before the master is done (an Error, a jar
        // overwritten in place under the running JVM), exit non-zero so a supervisor restarts the server, instead
        // of lingering with the port and no arbiter. The shutdown hook still kills the workers.
        loop.terminationFuture().addListener(f -> {
            if (master.exit().complete(ExitCodes.FAILURE)) {
                System.err.println("master: the event loop thread ended unexpectedly (" + f.cause() + "); exiting");
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(this::afterExit, "master-exit"));
        Signals.install(loop, master::onSignal);
        loop.execute(() -> master.start(runtimeDir.path(), orphans));
        int code = master.exit().join();
        close();
        log.info("exiting with code {}", code);
        return code;
    }

    /** What only the master serving the port holds: the control socket, the admin port, the pid file. */
    private void serve(EventLoop loop, Master master, ControlAnswers answers) {
        control = ControlServer.bind(loop, runtimeDir.controlSocket(), answers);
        if (options.adminPort != 0) {
            admin = AdminServer.bind(loop, options.adminHost, options.adminPort, master::status);
        }
        if (pidFile != null) {
            pidFile.write();
        }
    }

    /** The old master handed over (it closed its control socket and admin port first): they are this one's. */
    private void takeOver(EventLoop loop, Master master, ControlAnswers answers) {
        runtimeDir.takeControl();
        try {
            serve(loop, master, answers);
        } catch (StartupException e) {
            log.error("upgrade: serving, but {}", e.getMessage());
        }
    }

    /** The new master of an upgrade serves from now: it takes the control socket's name and the admin port. */
    private void handOver() {
        quietly(control, () -> control.close());
        quietly(admin, () -> admin.close());
        control = null;
        admin = null;
        runtimeDir.releaseControl();
    }

    /**
     * Closes everything this server opened, once, in the reverse order: from any thread (the loop's tasks are
     * posted to it, and skipped if it is gone), each step on its own so one failing leaves none of the others open.
     */
    synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        quietly(launcher, () -> launcher.close());
        quietly(admin, () -> admin.close());
        quietly(control, () -> control.close());
        quietly(handoff, () -> handoff.close());
        adoptionSockets.forEach(s -> quietly(s, s::close));
        quietly(acceptor, () -> acceptor.close());
        quietly(runtimeDir, () -> runtimeDir.remove());
        quietly(pidFile, () -> pidFile.remove());
        quietly(systemd, () -> systemd.close());
        quietly(group, () -> group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS)
                .awaitUninterruptibly(2, TimeUnit.SECONDS));
    }

    /** Closes one part if it was opened; a failure is logged and the next part still closed. */
    private static void quietly(Object part, Runnable close) {
        if (part == null) {
            return;
        }
        try {
            close.run();
        } catch (RuntimeException e) {
            log.warn("while closing: {}", e.toString());
        }
    }

    /**
     * The shutdown hook: the JVM exits, orderly (then this finds nothing left) or another way (an unexpected
     * signal, the event loop gone). No worker and no file outlives the master. The workers are found from the
     * operating system's table of this process's children, which needs nothing from the loop's thread.
     */
    private void afterExit() {
        // but the new master of an upgrade that took over: it serves on
        long successor = master == null ? -1 : master.succession().successorPid();
        ProcessHandle.current().children().filter(p -> p.pid() != successor).forEach(ProcessHandle::destroyForcibly);
        close();
    }
}
