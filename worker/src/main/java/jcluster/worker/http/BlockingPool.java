package jcluster.worker.http;

import jcluster.app.Response;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A worker's pool for blocking work: a fixed number of threads (started as needed) and a bounded queue. A task
 * that finds both full is refused at once with 503 and {@code Retry-After}, so an overloaded worker sheds load
 * instead of queueing without bound while its clients time out.
 */
public final class BlockingPool {
    /** Seconds a refused client is asked to wait. */
    static final String RETRY_AFTER_SECONDS = "1";

    private final ThreadPoolExecutor executor;

    /** {@code queue} 0 hands tasks only to an idle thread. */
    public BlockingPool(int threads, int queue, ClassLoader appLoader) {
        BlockingQueue<Runnable> q = queue == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(queue);
        AtomicInteger n = new AtomicInteger();
        executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, q, r -> {
            Thread t = new Thread(r, "blocking-" + n.incrementAndGet());
            t.setDaemon(true);
            t.setContextClassLoader(appLoader);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    }

    /** Runs {@code task} on the pool; its response completes later, or at once with 503 if the pool is full. */
    Response submit(java.util.concurrent.Callable<Response> task) {
        CompletableFuture<Response> done = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    done.complete(task.call());
                } catch (Throwable e) {
                    done.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            return Response.text(503, "503 Service Unavailable: too much blocking work queued here, retry later\n")
                    .header("Retry-After", RETRY_AFTER_SECONDS);
        }
        return Response.later(done);
    }

    /** Tasks running or queued. */
    public int busy() {
        return executor.getActiveCount() + executor.getQueue().size();
    }

    /** Stops taking tasks and waits a little for the running ones. */
    public void shutdown(long millis) throws InterruptedException {
        executor.shutdown();
        executor.awaitTermination(millis, TimeUnit.MILLISECONDS);
    }
}
