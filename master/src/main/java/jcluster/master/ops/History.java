package jcluster.master.ops;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The last minutes of the admin port's figures, a sample a second, for the dashboard's sparklines: requests a
 * second (from the difference of two samples), connections, RSS and CPU, in total and per worker. Sampled and read
 * on the master's loop only. A worker's series begins when it does.
 */
final class History {
    /** Five minutes of one-second samples. */
    static final int SAMPLES = 300;

    private record Sample(long epochMillis, double rps, int connections, Map<Integer, double[]> workers) {
    }

    private final Supplier<Status> status;
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private final RequestRates rates = new RequestRates();

    History(Supplier<Status> status) {
        this.status = status;
    }

    void sample() {
        Status s = status.get();
        rates.sample(System.nanoTime());
        Map<Integer, double[]> workers = new HashMap<>();
        int connections = 0;
        for (Status.Worker w : s.workers()) {
            // no rate yet is drawn as 0
            double rps = Math.max(0, rates.worker(w.id(), w.requests()));
            workers.put(w.id(), new double[] {rps, w.connections(), w.rssBytes(), w.cpuPercent(), w.loopLagMicros()});
            connections += w.connections();
        }
        double total = Math.max(0, rates.total(s.requests()));
        if (samples.size() == SAMPLES) {
            samples.removeFirst();
        }
        samples.addLast(new Sample(System.currentTimeMillis(), total, connections, workers));
    }

    /** {"intervalMs":1000,"samples":[{"t":…,"rps":…,"connections":…,"workers":{"1":[rps,conns,rss,cpu,lag]}}]}. */
    String json() {
        StringBuilder sb = new StringBuilder("{\"intervalMs\":1000,\"samples\":[");
        boolean first = true;
        for (Sample x : samples) {
            sb.append(first ? "" : ",").append("{\"t\":").append(x.epochMillis()).append(",\"rps\":")
                    .append(String.format(Locale.ROOT, "%.1f", x.rps())).append(",\"connections\":")
                    .append(x.connections()).append(",\"workers\":{");
            boolean firstWorker = true;
            for (Map.Entry<Integer, double[]> w : x.workers().entrySet()) {
                double[] v = w.getValue();
                sb.append(firstWorker ? "" : ",").append('"').append(w.getKey()).append("\":[")
                        .append(String.format(Locale.ROOT, "%.1f,%.0f,%.0f,%.1f,%.0f", v[0], v[1], v[2], v[3], v[4]))
                        .append(']');
                firstWorker = false;
            }
            sb.append("}}");
            first = false;
        }
        return sb.append("]}\n").toString();
    }
}
