package jcluster.master.supervisor;

import jcluster.common.ExitCodes;
import jcluster.master.ops.Posix;
import jnr.constants.platform.Signal;

import io.netty.channel.Channel;
import io.netty.channel.unix.FileDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * An orphaned worker this master adopted ({@link Orphans}): not its child, so its exit code is not this master's
 * to read (an exit is taken as 0, a kill by this master as SIGKILL's code). Its stdout and stderr were the dead
 * master's pipes: once it connects, this master sends it a new pipe as the first fd on its fd socket, which it
 * makes its stdout and stderr (dup2), and relays what comes out of it like any worker's ({@link WorkerOutput}).
 */
final class AdoptedProcess implements OsProcess {
    private static final Logger log = LoggerFactory.getLogger(AdoptedProcess.class);
    private final ProcessHandle handle;
    private volatile boolean killed;
    private volatile WorkerOutput output;

    AdoptedProcess(ProcessHandle handle) {
        this.handle = handle;
    }

    @Override
    public long pid() {
        return handle.pid();
    }

    @Override
    public boolean isAlive() {
        return handle.isAlive();
    }

    @Override
    public int exitValue() {
        return killed ? ExitCodes.SIGNAL_BASE + 9 : ExitCodes.OK;
    }

    @Override
    public void kill() {
        killed = true;
        handle.destroyForcibly();
    }

    @Override
    public void requestThreadDump() {
        Posix.signal(handle.pid(), Signal.SIGQUIT);
    }

    /** Sends the worker a pipe for its output on its fd socket, and relays the other end. On the master's loop. */
    void relayOutput(int id, Channel fds) {
        if (output != null) {
            return;
        }
        try {
            FileDescriptor[] pipe = FileDescriptor.pipe();
            // a stream of its own on the read end: the JDK reads it, and closes it at the end
            InputStream in = new FileInputStream("/proc/self/fd/" + pipe[0].intValue());
            pipe[0].close();
            output = new WorkerOutput(id, handle.pid(), in);
            fds.writeAndFlush(pipe[1]).addListener(f -> pipe[1].close());
        } catch (IOException e) {
            log.warn("cannot give adopted worker {} an output pipe ({}): its lines are lost", id, e.getMessage());
        }
    }

    @Override
    public CompletionStage<Void> exited() {
        return handle.onExit().thenRun(() -> {
            WorkerOutput o = output;
            if (o != null) {
                o.awaitEnd(1, TimeUnit.SECONDS);
            }
        });
    }

    @Override
    public List<String> lastLines() {
        WorkerOutput o = output;
        return o == null ? List.of() : o.tail();
    }
}
