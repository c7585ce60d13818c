package jcluster.master.supervisor;

import jcluster.common.Json;
import jcluster.common.Logging;

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
 * thread dump, a crash report) get the worker's tag (or, with --log-format=json, become a JSON object of their
 * own). Keeps the last lines for the log when the worker dies. With the access log on stdout, the worker's stdout
 * carries only its lines, and they go to the master's stdout as they are.
 */
final class WorkerOutput {
    static final int TAIL_LINES = 20;
    private static final PrintStream OUT = System.err;

    private final String tag;
    private final String jsonTag;
    private final long pid;
    private final int id;
    private final ArrayDeque<String> tail = new ArrayDeque<>();
    private final List<Thread> readers = new ArrayList<>();

    /** @param accessLog the worker's stdout is the access log */
    WorkerOutput(int id, long pid, Process process, boolean accessLog) {
        this(id, pid);
        readers.add(accessLog ? copy(process.getInputStream(), "worker-" + id + "-access-log")
                : relay(process.getInputStream(), "worker-" + id + "-stdout"));
        readers.add(relay(process.getErrorStream(), "worker-" + id + "-stderr"));
    }

    /** An adopted worker's: one pipe, its stdout and stderr both. */
    WorkerOutput(int id, long pid, InputStream output) {
        this(id, pid);
        readers.add(relay(output, "worker-" + id + "-output"));
    }

    private WorkerOutput(int id, long pid) {
        this.id = id;
        this.pid = pid;
        this.tag = "[worker-" + id + " pid=" + pid + "]";
        this.jsonTag = "\"process\":\"worker-" + id + "\"";
    }

    /** Access log lines, whole, to the master's stdout. */
    private Thread copy(InputStream in, String name) {
        return reader(in, name, System.out::println);
    }

    /** A line as the master's log shows it: the worker's own lines as they are, others tagged. */
    private String tagged(String line) {
        if (Logging.json()) {
            if (line.contains(jsonTag)) {
                return line;
            }
            StringBuilder sb = new StringBuilder("{\"@timestamp\":\"").append(java.time.OffsetDateTime.now())
                    .append("\",\"level\":\"INFO\",\"logger_name\":\"stdout\",\"process\":\"worker-").append(id)
                    .append("\",\"pid\":").append(pid).append(",\"message\":");
            Json.string(sb, line);
            return sb.append('}').toString();
        }
        return line.contains(tag) ? line : tag + " " + line;
    }

    private Thread relay(InputStream in, String name) {
        return reader(in, name, line -> {
            OUT.println(tagged(line));
            synchronized (tail) {
                if (tail.size() == TAIL_LINES) {
                    tail.removeFirst();
                }
                tail.addLast(line);
            }
        });
    }

    /**
     * A thread that hands each whole line of {@code in} to {@code each} until the pipe ends; {@code each} prints it
     * with one println, under the stream's lock, so lines of different workers never interleave.
     */
    private static Thread reader(InputStream in, String name, java.util.function.Consumer<String> each) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    each.accept(line);
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
