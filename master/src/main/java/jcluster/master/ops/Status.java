package jcluster.master.ops;

import java.util.List;
import java.util.Locale;

/** A snapshot of the master and its workers, as the {@code status} table and as JSON. */
public record Status(long pid, String version, long uptimeMillis, String app, String address, int desired, int generation,
              boolean reloading, boolean draining, long accepted, long handedOff, long redispatched, long handedBack,
              long restarts, long recycled, long timeouts, long requests, long messagesRouted, long messagesDropped,
              String lastReload, String upgrade, List<Worker> workers) {

    /** @param restarts unexpected deaths of the workers before this one in its place */
    public record Worker(int id, long pid, int generation, int restarts, String state, long uptimeMillis, int connections,
                  int inFlight, long requests, long rssBytes, double cpuPercent, long loopLagMicros,
                  int heapAfterGcPercent, int webSockets) {
    }

    String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "master pid %d on %s, up %s, jcluster %s, app: %s%n", pid, address,
                duration(uptimeMillis), version, app));
        sb.append(String.format(Locale.ROOT, "%d worker(s) wanted, generation %d%s%s, %d restart(s), %d recycled%n",
                desired, generation, reloading ? ", reloading" : "", draining ? ", shutting down" : "", restarts,
                recycled));
        if (lastReload != null) {
            sb.append("last reload: ").append(lastReload).append(System.lineSeparator());
        }
        if (upgrade != null) {
            sb.append("upgrade: ").append(upgrade).append(System.lineSeparator());
        }
        sb.append(String.format(Locale.ROOT, "%-4s %-8s %-4s %-9s %9s %8s %6s %10s %9s %6s%n",
                "id", "pid", "gen", "state", "uptime", "restarts", "conns", "requests", "rss", "cpu%"));
        for (Worker w : workers) {
            sb.append(String.format(Locale.ROOT, "%-4d %-8d %-4d %-9s %9s %8d %6d %10d %9s %6.1f%n", w.id, w.pid,
                    w.generation, w.state.toLowerCase(Locale.ROOT), duration(w.uptimeMillis), w.restarts,
                    w.connections, w.requests, bytes(w.rssBytes), w.cpuPercent));
        }
        return sb.toString();
    }

    String json() {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"pid\":").append(pid).append(",\"version\":").append(str(version)).append(",\"uptimeMs\":")
                .append(uptimeMillis).append(",\"app\":").append(str(app)).append(",\"address\":")
                .append(str(address)).append(",\"desired\":")
                .append(desired).append(",\"generation\":").append(generation).append(",\"reloading\":")
                .append(reloading).append(",\"draining\":").append(draining).append(",\"accepted\":")
                .append(accepted).append(",\"handedOff\":").append(handedOff).append(",\"redispatched\":")
                .append(redispatched).append(",\"handedBack\":").append(handedBack).append(",\"restarts\":").append(restarts).append(",\"recycled\":")
                .append(recycled).append(",\"timeouts\":").append(timeouts).append(",\"requests\":")
                .append(requests).append(",\"messagesRouted\":").append(messagesRouted)
                .append(",\"messagesDropped\":").append(messagesDropped).append(",\"lastReload\":").append(lastReload == null ? "null" : str(lastReload))
                .append(",\"upgrade\":").append(upgrade == null ? "null" : str(upgrade))
                .append(",\"webSockets\":").append(workers.stream().mapToInt(Worker::webSockets).sum())
                .append(",\"workers\":[");
        for (int i = 0; i < workers.size(); i++) {
            Worker w = workers.get(i);
            sb.append(i == 0 ? "" : ",").append("{\"id\":").append(w.id).append(",\"pid\":").append(w.pid)
                    .append(",\"generation\":").append(w.generation).append(",\"state\":\"").append(w.state)
                    .append("\",\"uptimeMs\":").append(w.uptimeMillis).append(",\"restarts\":").append(w.restarts)
                    .append(",\"connections\":").append(w.connections).append(",\"inFlight\":").append(w.inFlight)
                    .append(",\"requests\":").append(w.requests).append(",\"rssBytes\":").append(w.rssBytes)
                    .append(",\"cpuPercent\":").append(String.format(Locale.ROOT, "%.1f", w.cpuPercent))
                    .append(",\"loopLagMicros\":").append(w.loopLagMicros).append(",\"heapAfterGcPercent\":")
                    .append(w.heapAfterGcPercent).append(",\"webSockets\":").append(w.webSockets).append('}');
        }
        return sb.append("]}\n").toString();
    }

    /** A JSON string: quotes, backslashes and control characters escaped. */
    static String str(String s) {
        return jcluster.common.Json.string(new StringBuilder(), s).toString();
    }

    /** Serving: running, not shutting down, and at least one worker READY. */
    boolean ready() {
        return !draining && workers.stream().anyMatch(w -> w.state.equals("READY"));
    }

    static String duration(long millis) {
        long s = millis / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m" + s % 60 + "s";
        }
        return s / 3600 + "h" + s % 3600 / 60 + "m";
    }

    public static String bytes(long b) {
        if (b < 0) {
            return "-";
        }
        return b >= 1 << 30 ? String.format(Locale.ROOT, "%.1fG", b / (double) (1 << 30))
                : String.format(Locale.ROOT, "%.1fM", b / (double) (1 << 20));
    }
}
