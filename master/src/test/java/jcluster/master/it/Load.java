package jcluster.master.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded HTTP load for process tests: client threads each open a connection, make 1 to 20 requests on it
 * (keep-alive, or fewer when the server says {@code Connection: close}), close it and start again, until stopped.
 * Every failure (an I/O error or a status other than 200) is recorded with its reason.
 */
final class Load implements AutoCloseable {
    static final int MAX_REQUESTS_PER_CONNECTION = 20;

    final AtomicLong ok = new AtomicLong();
    final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    final Set<Long> pids = ConcurrentHashMap.newKeySet();
    /** The distinct bodies seen, for a path other than /worker. */
    final Set<String> bodies = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final int port;
    private final String path;

    /** Load on {@code /worker}, whose answers name the worker. */
    Load(int port, int clients) {
        this(port, clients, "/worker");
    }

    Load(int port, int clients, String path) {
        this.port = port;
        this.path = path;
        for (int i = 0; i < clients; i++) {
            Thread t = new Thread(this::client, "load-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
    }

    private void client() {
        while (running.get()) {
            int n = 1 + ThreadLocalRandom.current().nextInt(MAX_REQUESTS_PER_CONNECTION);
            try (Http h = new Http(port)) {
                for (int i = 0; i < n && running.get(); i++) {
                    Http.Response r = h.get(path);
                    if (r.status() != 200) {
                        failures.add("status " + r.status());
                        break;
                    }
                    ok.incrementAndGet();
                    if (path.equals("/worker")) {
                        pids.add(r.pid());
                    } else {
                        bodies.add(r.text());
                    }
                    if ("close".equals(r.header("connection"))) {
                        break;
                    }
                }
            } catch (IOException e) {
                failures.add(e.toString());
            }
        }
    }

    /** Waits until at least {@code n} more requests have succeeded (bounded by the caller's test timeout). */
    void awaitProgress(long n) throws InterruptedException {
        long target = ok.get() + n;
        while (ok.get() < target && running.get()) {
            Thread.sleep(5);
        }
    }

    /** Stops the clients and waits for them (each finishes the request it is in), so the counts are final. */
    void stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(20_000);
        }
    }

    @Override
    public void close() {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
