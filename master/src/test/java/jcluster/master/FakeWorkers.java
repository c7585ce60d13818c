package jcluster.master;

import io.netty.channel.embedded.EmbeddedChannel;
import jcluster.common.Frame;
import jcluster.common.MessageType;
import jcluster.common.WorkerStats;
import jcluster.master.supervisor.Launcher;
import jcluster.master.supervisor.OsProcess;
import jcluster.master.supervisor.WorkerProcess;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** A launcher of fake worker processes, and what each worker says to the master, for arbiter unit tests. */
final class FakeWorkers implements Launcher {
    final List<Fake> started = new ArrayList<>();
    final Map<Integer, Fake> byId = new HashMap<>();
    /** The next start fails, as a missing java binary would. */
    boolean failNext;
    int archivesPrepared;

    /** One fake worker process, and its two sockets once it connects. */
    static final class Fake implements OsProcess {
        final int id;
        final EmbeddedChannel control = new EmbeddedChannel();
        final EmbeddedChannel fds = new EmbeddedChannel();
        final CompletableFuture<Void> exited = new CompletableFuture<>();
        List<String> lastLines = List.of();
        int exitValue = -1;
        int dumps;
        boolean killed;

        Fake(int id) {
            this.id = id;
        }

        @Override
        public long pid() {
            return 100_000 + id;
        }

        @Override
        public boolean isAlive() {
            return !exited.isDone();
        }

        @Override
        public int exitValue() {
            return exitValue;
        }

        @Override
        public void kill() {
            killed = true;
            exit(128 + 9);
        }

        @Override
        public void requestThreadDump() {
            dumps++;
        }

        @Override
        public CompletionStage<Void> exited() {
            return exited;
        }

        @Override
        public List<String> lastLines() {
            return lastLines;
        }

        void exit(int code) {
            if (!exited.isDone()) {
                exitValue = code;
                exited.complete(null);
            }
        }

        /** The message types the master sent on the control socket so far, oldest first; consumes them. */
        List<MessageType> received() {
            List<MessageType> out = new ArrayList<>();
            Object m;
            while ((m = control.readOutbound()) != null) {
                out.add(((Frame) m).type());
            }
            return out;
        }
    }

    @Override
    public OsProcess start(int id, int generation, byte[] secret, Path claimsFile) throws IOException {
        if (failNext) {
            failNext = false;
            throw new IOException("Cannot run program \"java\": error=2, No such file or directory");
        }
        Fake f = new Fake(id);
        started.add(f);
        byId.put(id, f);
        return f;
    }

    /** The new masters of upgrades started, oldest first. */
    final List<FakeMaster> masters = new ArrayList<>();
    final List<Map<String, String>> masterEnvironments = new ArrayList<>();

    /** An upgrade's new master: it exits when told to. */
    static final class FakeMaster implements ProcessHandle {
        final long pid;
        final CompletableFuture<ProcessHandle> exited = new CompletableFuture<>();
        boolean terminated;

        FakeMaster(long pid) {
            this.pid = pid;
        }

        void exit() {
            exited.complete(this);
        }

        @Override
        public long pid() {
            return pid;
        }

        @Override
        public boolean isAlive() {
            return !exited.isDone();
        }

        @Override
        public CompletableFuture<ProcessHandle> onExit() {
            return exited;
        }

        @Override
        public boolean destroy() {
            terminated = true;
            exit();
            return true;
        }

        @Override
        public boolean destroyForcibly() {
            return destroy();
        }

        @Override
        public boolean supportsNormalTermination() {
            return true;
        }

        @Override
        public java.util.Optional<ProcessHandle> parent() {
            return java.util.Optional.empty();
        }

        @Override
        public java.util.stream.Stream<ProcessHandle> children() {
            return java.util.stream.Stream.empty();
        }

        @Override
        public java.util.stream.Stream<ProcessHandle> descendants() {
            return java.util.stream.Stream.empty();
        }

        @Override
        public Info info() {
            return ProcessHandle.current().info();
        }

        @Override
        public int compareTo(ProcessHandle other) {
            return Long.compare(pid, other.pid());
        }
    }

    @Override
    public ProcessHandle startMaster(Map<String, String> environment, List<String> flags) {
        FakeMaster m = new FakeMaster(200_001 + masters.size());
        masters.add(m);
        masterEnvironments.add(environment);
        return m;
    }

    @Override
    public void prepareArchive() {
        archivesPrepared++;
    }

    @Override
    public void close() {
    }

    /** Worker {@code id} connects both sockets and says READY. */
    void ready(Master m, int id) {
        Fake f = byId.get(id);
        WorkerProcess w = m.byId(id);
        m.attached(w, Frame.ChannelKind.CONTROL, f.control);
        m.attached(w, Frame.ChannelKind.FDS, f.fds);
        m.frame(w, Frame.of(MessageType.READY));
    }

    /** Worker {@code id} sends a heartbeat. */
    void beat(Master m, int id, long requestsServed) {
        m.frame(m.byId(id), Frame.stats(new WorkerStats(0, 0, requestsServed, 0, 50 << 20, 0, 10, 0)));
    }
}
