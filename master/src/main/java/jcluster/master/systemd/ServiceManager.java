package jcluster.master.systemd;

import jcluster.master.MasterOptions;
import jcluster.master.supervisor.RollingReload;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * What the master tells systemd (sd_notify(3)), when it runs as a {@code Type=notify} or {@code Type=notify-reload}
 * service, that is when {@code NOTIFY_SOCKET} is set; otherwise every call does nothing.
 * <ul>
 *   <li>start: {@code EXTEND_TIMEOUT_USEC} for as long as booting the workers may take, then {@code READY=1} once
 *   every worker is READY;</li>
 *   <li>reload: {@code RELOADING=1} with {@code MONOTONIC_USEC} when it starts, {@code READY=1} when it completes,
 *   is aborted or is refused;</li>
 *   <li>stop: {@code STOPPING=1}, and {@code EXTEND_TIMEOUT_USEC} for the drain delay and the shutdown timeout;</li>
 *   <li>{@code STATUS=} with each, for {@code systemctl status};</li>
 *   <li>{@code WATCHDOG=1} at half of {@code WATCHDOG_USEC}, from the arbiter's loop, so a stuck arbiter is what
 *   trips the watchdog; at once after READY and after each reload.</li>
 *   <li>upgrade: the old master sends {@code MAINPID=} the new one's pid at the handover and nothing after it; the
 *   new one says nothing before it (systemd takes messages from the main process only, {@code NotifyAccess=main})
 *   and {@code MAINPID=} its own pid and {@code READY=1} from it.</li>
 * </ul>
 * Runs on the master's loop.
 */
public final class ServiceManager implements RollingReload.Observer {
    /** Slack on top of the master's own bounds, for the JVMs' start and exit. */
    private static final Duration SLACK = Duration.ofSeconds(10);

    /** Where the messages go: the notify socket; null when there is none. */
    private final Consumer<String> socket;
    /** Where a message with an fd goes ({@code FDSTORE=1}). */
    private final BiConsumer<String, Integer> socketWithFd;
    private final Runnable close;
    private final Duration watchdogInterval;
    private final Duration bootBound;
    private final Duration stopBound;
    /** The listening socket came from systemd (a socket unit, or the fd store after a restart): it has it. */
    private boolean passedBySystemd;
    /** Not systemd's main process: before an upgrade's handover (the new master), or after it (the old one). */
    private boolean muted;

    private ServiceManager(Consumer<String> socket, BiConsumer<String, Integer> socketWithFd, Runnable close,
                           Duration watchdogInterval, MasterOptions options, boolean muted) {
        this.socketWithFd = socketWithFd;
        this.muted = muted;
        this.socket = socket;
        this.close = close;
        this.watchdogInterval = watchdogInterval;
        this.bootBound = options.bootTimeout.plus(SLACK);
        this.stopBound = options.drainDelay.plus(options.shutdownTimeout).plus(SLACK);
    }

    /**
     * From this process's environment: inactive unless {@code NOTIFY_SOCKET} is set and usable.
     * @param upgradedFrom the old master's pid when an upgrade started this one (muted until it takes over), or -1
     */
    public static ServiceManager fromEnvironment(Map<String, String> env, MasterOptions options, long upgradedFrom) {
        NotifySocket socket = env.get("NOTIFY_SOCKET") == null ? null : NotifySocket.open(env.get("NOTIFY_SOCKET"));
        if (socket == null) {
            return new ServiceManager(null, null, () -> { }, null, options, false);
        }
        // an upgrade's new master inherits the old one's WATCHDOG_PID: the watchdog is its own once it took over
        long pid = upgradedFrom > 0 ? upgradedFrom : ProcessHandle.current().pid();
        return new ServiceManager(socket::send, socket::send, socket::close, watchdogInterval(env, pid), options,
                upgradedFrom > 0);
    }

    /** Messages to {@code sink}, one string a datagram (for tests); {@code watchdogInterval} null for none. */
    public static ServiceManager to(Consumer<String> sink, Duration watchdogInterval, MasterOptions options) {
        return new ServiceManager(sink, (m, fd) -> sink.accept(m + "\n(with fd " + fd + ")"), () -> { },
                watchdogInterval, options, false);
    }

    /**
     * Half of {@code WATCHDOG_USEC}, when it is meant for this process ({@code WATCHDOG_PID} unset or {@code pid});
     * null for no watchdog.
     */
    static Duration watchdogInterval(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        String forPid = env.get("WATCHDOG_PID");
        if (usec == null || !usec.matches("\\d{1,18}") || Long.parseLong(usec) == 0
                || forPid != null && !forPid.equals(Long.toString(pid))) {
            return null;
        }
        return Duration.ofNanos(TimeUnit.MICROSECONDS.toNanos(Long.parseLong(usec)) / 2);
    }

    public boolean active() {
        return socket != null;
    }

    /** How often the arbiter pings the watchdog; null for no watchdog. */
    public Duration watchdogInterval() {
        return watchdogInterval;
    }

    /** The workers are starting: each may take up to --boot-timeout. */
    public void starting(int workers) {
        send("STATUS=starting " + workers + " worker(s)\n" + extend(bootBound));
    }

    /**
     * Every wanted worker is READY. The listening socket goes into systemd's fd store ({@code FDSTORE=1}, named
     * {@value SocketActivation#NAME}; a unit with {@code FileDescriptorStoreMax=} keeps it), so that after a
     * crash the restarted master gets it back in {@code LISTEN_FDS} and the port never closes; systemd ignores a
     * socket it holds already.
     */
    public void ready(int workers, String address, int listener) {
        send("READY=1\nSTATUS=" + workers + " worker(s) serving on " + address);
        if (socketWithFd != null && !muted && !passedBySystemd) {
            socketWithFd.accept("FDSTORE=1\nFDNAME=" + SocketActivation.NAME, listener);
        }
        watchdog();
    }

    @Override
    public void reloading(int generation, int workers) {
        send("RELOADING=1\nMONOTONIC_USEC=" + TimeUnit.NANOSECONDS.toMicros(System.nanoTime())
                + "\nSTATUS=reloading: generation " + generation + " replaces the workers one at a time\n"
                + extend(bootBound.multipliedBy(Math.max(1, workers))));
    }

    @Override
    public void reloadEnded(String how) {
        send("READY=1\nSTATUS=last reload: " + how);
        watchdog();
    }

    @Override
    public void reloadRefused(String why) {
        // a refusal is a reload that ended at once: systemd (Type=notify-reload) waits for both
        send("RELOADING=1\nMONOTONIC_USEC=" + TimeUnit.NANOSECONDS.toMicros(System.nanoTime()));
        send("READY=1\nSTATUS=last reload: " + why);
    }

    /** The master stops: draining, then the exit. */
    public void stopping(String why) {
        send("STOPPING=1\nSTATUS=shutting down (" + why + ")\n" + extend(stopBound));
    }

    /** The old master of an upgrade hands over: the new one is the main process from now. */
    public void handedOver(long pid) {
        send("MAINPID=" + pid + "\nSTATUS=upgraded: pid " + pid + " serves from now; pid "
                + ProcessHandle.current().pid() + " drains");
        muted = true;
    }

    /** The new master of an upgrade took over: it is the main process, and ready (READY=1 follows). */
    public void tookOver() {
        muted = false;
        send("MAINPID=" + ProcessHandle.current().pid());
    }

    /** The listening socket is one systemd passed: it is not stored again. */
    public void listenerFromSystemd() {
        passedBySystemd = true;
    }

    /** The arbiter's loop is alive. */
    public void watchdog() {
        if (watchdogInterval != null) {
            send("WATCHDOG=1");
        }
    }

    public void close() {
        close.run();
    }

    private static String extend(Duration d) {
        return "EXTEND_TIMEOUT_USEC=" + TimeUnit.NANOSECONDS.toMicros(d.toNanos());
    }

    private void send(String message) {
        if (socket != null && !muted) {
            socket.accept(message);
        }
    }
}
