package jcluster.master.ops;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import jcluster.master.supervisor.WorkerProcess;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * {@code /metrics}: the master's counters and the workers' heartbeat figures, per worker and in total, in the
 * Prometheus text format (written by the Prometheus client's own writer).
 */
final class Metrics {
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
    private static final PrometheusTextFormatWriter WRITER = PrometheusTextFormatWriter.create();

    private Metrics() {
    }

    static String text(Status s) {
        List<MetricSnapshot> m = new ArrayList<>();
        m.add(counter("jcluster_connections_accepted", "Connections the master accepted.", s.accepted()));
        m.add(counter("jcluster_connections_handed_off", "Connection handoffs to workers.", s.handedOff()));
        m.add(counter("jcluster_connections_redispatched",
                "Connections re-sent to another worker because theirs was lost before acknowledging them.",
                s.redispatched()));
        m.add(counter("jcluster_connections_handed_back",
                "Idle keep-alive connections draining workers handed back, for other workers to serve.",
                s.handedBack()));
        m.add(counter("jcluster_requests", "Requests served by all workers, as of their last heartbeats.",
                s.requests()));
        m.add(counter("jcluster_messages_routed", "App messages queued for a worker (one per recipient).",
                s.messagesRouted()));
        m.add(counter("jcluster_messages_dropped",
                "App messages a worker did not get: its queue on the master was full (stalled or slow).",
                s.messagesDropped()));
        m.add(CounterSnapshot.builder().name("jcluster_worker_restarts")
                .help("Workers replaced, by cause: crash (died unexpectedly), timeout (hung), recycle (a limit).")
                .dataPoint(counterPoint(s.restarts(), Labels.of("cause", "crash")))
                .dataPoint(counterPoint(s.timeouts(), Labels.of("cause", "timeout")))
                .dataPoint(counterPoint(s.recycled(), Labels.of("cause", "recycle")))
                .build());
        GaugeSnapshot.Builder states = GaugeSnapshot.builder().name("jcluster_workers").help("Workers by state.");
        for (WorkerProcess.State state : WorkerProcess.State.values()) {
            if (state != WorkerProcess.State.EXITED) {
                states.dataPoint(gaugePoint(s.workers().stream().filter(w -> w.state().equals(state.name())).count(),
                        Labels.of("state", state.name().toLowerCase(Locale.ROOT))));
            }
        }
        m.add(states.build());
        m.add(gauge("jcluster_workers_wanted", "Workers the master keeps running.", s.desired()));
        m.add(gauge("jcluster_generation", "The generation new workers belong to (each reload adds one).",
                s.generation()));
        m.add(perWorker(s, "jcluster_worker_open_connections", "Open connections of a worker.",
                Status.Worker::connections));
        m.add(perWorker(s, "jcluster_worker_open_websockets", "Open WebSockets of a worker (counted among its "
                + "connections too).", Status.Worker::webSockets));
        m.add(perWorker(s, "jcluster_worker_in_flight_requests", "Requests a worker is answering.",
                Status.Worker::inFlight));
        m.add(perWorker(s, "jcluster_worker_requests", "Requests a worker served (it restarts from 0 with a new "
                + "worker).", Status.Worker::requests));
        m.add(perWorker(s, "jcluster_worker_event_loop_lag_seconds", "How late a worker's last heartbeat ran on "
                + "its event loop.", w -> w.loopLagMicros() / 1e6));
        m.add(perWorker(s, "jcluster_worker_rss_bytes", "Resident memory of a worker.", Status.Worker::rssBytes));
        m.add(perWorker(s, "jcluster_worker_cpu_ratio", "CPU a worker used between its last two heartbeats, in "
                + "cores.", w -> w.cpuPercent() / 100));
        m.add(perWorker(s, "jcluster_worker_uptime_seconds", "Age of a worker.", w -> w.uptimeMillis() / 1e3));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            WRITER.write(out, new MetricSnapshots(m));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static CounterSnapshot counter(String name, String help, double value) {
        return CounterSnapshot.builder().name(name).help(help).dataPoint(counterPoint(value, Labels.EMPTY)).build();
    }

    private static CounterDataPointSnapshot counterPoint(double value, Labels labels) {
        return CounterDataPointSnapshot.builder().value(value).labels(labels).build();
    }

    private static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help).dataPoint(gaugePoint(value, Labels.EMPTY)).build();
    }

    private static GaugeDataPointSnapshot gaugePoint(double value, Labels labels) {
        return GaugeDataPointSnapshot.builder().value(value).labels(labels).build();
    }

    /** A gauge with one point per live worker, labelled with its id, pid and generation. */
    private static GaugeSnapshot perWorker(Status s, String name, String help, ToDoubleFunction<Status.Worker> f) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        for (Status.Worker w : s.workers()) {
            b.dataPoint(gaugePoint(f.applyAsDouble(w), Labels.of("worker", Integer.toString(w.id()), "pid",
                    Long.toString(w.pid()), "generation", Integer.toString(w.generation()))));
        }
        return b.build();
    }
}
