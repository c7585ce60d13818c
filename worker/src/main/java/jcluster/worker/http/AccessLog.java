package jcluster.worker.http;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import jcluster.common.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * One line per request, in nginx's combined format plus the request time and the worker id, or as one JSON object.
 * <p>How lines of several workers never split or merge: every worker opens the file itself with {@code O_APPEND}
 * and writes only whole lines, each batch of them with one {@code write(2)}. On Linux a write to a regular file
 * holds the inode's lock for its whole length and appends at the end as it is then, so two workers' writes never
 * interleave, whatever their size. Each event loop gathers the lines of its responses and writes them once per
 * pass of the loop (a task queued behind the pass's I/O), at most {@link #BATCH} bytes at a time: one system call
 * for many requests under load, and a line is on disk within a pass of its response. {@code -}: the lines go to
 * the worker's stdout, a pipe only this worker writes, which the master relays to its own stdout a whole line at a
 * time; the worker's other output then goes to stderr.
 * <p>{@link #reopen} (the master's {@code reopen-logs}) opens the path again, for a log rotated by a rename: lines
 * written meanwhile go to the renamed file, none is lost.
 */
public final class AccessLog {
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    /** A loop writes what it gathered once it holds this much, without waiting for the end of its pass. */
    static final int BATCH = 32 * 1024;
    /** How long a replaced file stays open after a reopen, for a write another loop may have begun on it. */
    static final long CLOSE_REPLACED_AFTER_MILLIS = 1000;
    private static final DateTimeFormatter COMMON_TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z",
            Locale.ROOT);

    public enum Format {
        COMBINED, JSON;

        public static Format of(String name) {
            return switch (name) {
                case "combined" -> COMBINED;
                case "json" -> JSON;
                default -> throw new IllegalArgumentException("unknown access log format '" + name
                        + "'; use combined or json");
            };
        }
    }

    private final Path path;
    private final Format format;
    private final int workerId;
    private final ZoneId zone = ZoneId.systemDefault();
    private volatile FileChannel out;
    private long lost;
    private long lostReportedNanos;
    private final FastThreadLocal<Batch> batches = new FastThreadLocal<>() {
        @Override
        protected Batch initialValue() {
            return new Batch();
        }
    };

    private AccessLog(Path path, Format format, int workerId, FileChannel out) {
        this.path = path;
        this.format = format;
        this.workerId = workerId;
        this.out = out;
    }

    /** @param where a file, or {@code -} for stdout */
    public static AccessLog open(String where, Format format, int workerId) throws IOException {
        if (where.equals("-")) {
            return new AccessLog(null, format, workerId, new FileOutputStream(FileDescriptor.out).getChannel());
        }
        Path path = Path.of(where);
        return new AccessLog(path, format, workerId, append(path));
    }

    /** Created if missing, appended to (the master's check at start opens it the same way). */
    private static FileChannel append(Path path) throws IOException {
        return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    public boolean toStdout() {
        return path == null;
    }

    /** What one request was, taken before its request is released. */
    public record Entry(InetSocketAddress client, String method, String uri, String version, String referer,
                        String userAgent, long startedNanos) {
    }

    /** Logs one answered request; on its connection's event loop. */
    public void log(EventLoop loop, Entry e, int status, long bodyBytes) {
        long nanos = System.nanoTime() - e.startedNanos();
        Batch b = batches.get();
        StringBuilder sb = b.lines;
        if (format == Format.COMBINED) {
            combined(sb, e, status, bodyBytes, nanos, b);
        } else {
            json(sb, e, status, bodyBytes, nanos);
        }
        sb.append('\n');
        if (sb.length() >= BATCH) {
            b.write();
        } else if (!b.queued) {
            b.queued = true;
            loop.execute(b);
        }
    }

    private void combined(StringBuilder sb, Entry e, int status, long bytes, long nanos, Batch b) {
        sb.append(e.client() == null ? "-" : e.client().getAddress().getHostAddress()).append(" - - [")
                .append(b.commonTime()).append("] \"");
        quoted(sb, e.method());
        sb.append(' ');
        quoted(sb, e.uri());
        sb.append(' ').append(e.version()).append("\" ").append(status).append(' ').append(bytes).append(" \"");
        quoted(sb, e.referer() == null ? "-" : e.referer());
        sb.append("\" \"");
        quoted(sb, e.userAgent() == null ? "-" : e.userAgent());
        sb.append("\" rt=");
        seconds(sb, nanos);
        sb.append(" worker=").append(workerId);
    }

    private void json(StringBuilder sb, Entry e, int status, long bytes, long nanos) {
        sb.append("{\"time\":\"").append(Instant.now()).append("\",\"client\":");
        Json.string(sb, e.client() == null ? null : e.client().getAddress().getHostAddress());
        sb.append(",\"method\":");
        Json.string(sb, e.method());
        sb.append(",\"uri\":");
        Json.string(sb, e.uri());
        sb.append(",\"protocol\":\"").append(e.version()).append("\",\"status\":").append(status)
                .append(",\"bytes\":").append(bytes).append(",\"referer\":");
        Json.string(sb, e.referer());
        sb.append(",\"user_agent\":");
        Json.string(sb, e.userAgent());
        sb.append(",\"request_time\":");
        seconds(sb, nanos);
        sb.append(",\"worker\":").append(workerId).append('}');
    }

    /** Seconds with microseconds: 0.000123. */
    private static void seconds(StringBuilder sb, long nanos) {
        long micros = TimeUnit.NANOSECONDS.toMicros(nanos);
        sb.append(micros / 1_000_000).append('.');
        String frac = Long.toString(micros % 1_000_000);
        sb.append("000000", 0, 6 - frac.length()).append(frac);
    }

    /** As nginx escapes a logged value: a quote, a backslash, a control or non-ASCII byte as \xHH. */
    static void quoted(StringBuilder sb, String s) {
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            int u = c & 0xff;
            if (u < 0x20 || u > 0x7e || u == '"' || u == '\\') {
                sb.append("\\x").append(Character.forDigit(u >> 4, 16)).append(Character.forDigit(u & 15, 16));
            } else {
                sb.append((char) u);
            }
        }
    }

    /**
     * Opens the path again (a rotation renamed the file); any thread. The replaced file closes a moment later: a loop
     * may have begun a write on it, which then lands in the renamed file, where it belongs as much.
     */
    public void reopen(java.util.concurrent.ScheduledExecutorService later) {
        if (path == null) {
            return;
        }
        FileChannel replaced = out;
        try {
            out = append(path);
        } catch (IOException e) {
            log.error("cannot reopen the access log {}: {}; still writing to the file it was", path, e.toString());
            return;
        }
        later.schedule(() -> closeQuietly(replaced), CLOSE_REPLACED_AFTER_MILLIS, TimeUnit.MILLISECONDS);
        log.info("access log {} reopened", path);
    }

    /** After the loops stopped (their last lines written). */
    public void close() {
        if (path != null) {
            closeQuietly(out);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing buffered here: every write went out whole
        }
    }

    /** One event loop's lines not yet written; only that loop touches it. */
    private final class Batch implements Runnable {
        final StringBuilder lines = new StringBuilder(4096);
        boolean queued;
        private long second = Long.MIN_VALUE;
        private String commonTime;

        /** The end of the loop's pass. */
        @Override
        public void run() {
            queued = false;
            write();
        }

        void write() {
            if (lines.length() == 0) {
                return;
            }
            ByteBuffer buf = ByteBuffer.wrap(lines.toString().getBytes(StandardCharsets.UTF_8));
            int count = 0;
            for (int i = 0; i < lines.length(); i++) {
                if (lines.charAt(i) == '\n') {
                    count++;
                }
            }
            lines.setLength(0);
            try {
                while (buf.hasRemaining()) {
                    // a short write happens only as the disk fills; what follows may then land after another's
                    out.write(buf);
                }
            } catch (IOException e) {
                lost(count, e);
            }
        }

        String commonTime() {
            long now = System.currentTimeMillis() / 1000;
            if (now != second) {
                second = now;
                commonTime = COMMON_TIME.format(ZonedDateTime.ofInstant(Instant.ofEpochSecond(now), zone));
            }
            return commonTime;
        }
    }

    /** A write failed (disk full, file gone): counted, and said at most every ten seconds. */
    private synchronized void lost(int lines, IOException e) {
        lost += lines;
        long now = System.nanoTime();
        if (lostReportedNanos == 0 || now - lostReportedNanos > TimeUnit.SECONDS.toNanos(10)) {
            lostReportedNanos = now;
            log.error("access log {}: a write failed ({}); {} line(s) lost so far", path == null ? "stdout" : path,
                    e.toString(), lost);
        }
    }
}
