package jcluster.master.supervisor;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Relays a worker's stdout and stderr (pipes the master owns) to the master's stderr, a whole line at a time, so
 * lines of different workers never interleave mid-line; lines the worker's logger did not already tag (a JVM
 * thread dump, a crash report) get the worker's tag. Keeps the last lines for the log when the worker dies.
 */
final class WorkerOutput {
    static final int TAIL_LINES = 20;
    private static final PrintStream OUT = System.err;

    private final String tag;
    private final ArrayDeque<String> tail = new ArrayDeque<>();
    private final List<Thread> readers = new ArrayList<>();

    WorkerOutput(int id, long pid, Process process) {
        this.tag = "[worker-" + id + " pid=" + pid + "]";
        readers.add(relay(process.getInputStream(), "worker-" + id + "-stdout"));
        readers.add(relay(process.getErrorStream(), "worker-" + id + "-stderr"));
    }

    /** An adopted worker's: one pipe, its stdout and stderr both. */
    WorkerOutput(int id, long pid, InputStream output) {
        this.tag = "[worker-" + id + " pid=" + pid + "]";
        readers.add(relay(output, "worker-" + id + "-output"));
    }

    private Thread relay(InputStream in, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String out = line.contains(tag) ? line : tag + " " + line;
                    // one println per line under the stream's lock: whole lines, never interleaved
                    OUT.println(out);
                    synchronized (tail) {
                        if (tail.size() == TAIL_LINES) {
                            tail.removeFirst();
                        }
                        tail.addLast(line);
                    }
                }
            } catch (IOException e) {
                // the pipe broke with the process: what was read is relayed
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Waits (bounded) until everything the dead worker wrote is relayed. Not on the master's loop. */
    void awaitEnd(long timeout, TimeUnit unit) {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (Thread t : readers) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    List<String> tail() {
        synchronized (tail) {
            return List.copyOf(tail);
        }
    }
}
