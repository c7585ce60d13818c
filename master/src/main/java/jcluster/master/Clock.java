package jcluster.master;

import io.netty.channel.EventLoop;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The arbiter's time and timers. In the server, the master's event loop ({@link #of}): every task runs on its one
 * thread. In a unit test, a clock the test winds by hand, so every timeout is tested without waiting for it.
 */
public interface Clock extends Executor {
    /** Monotonic time, as {@link System#nanoTime}. */
    long nanoTime();

    /** Runs {@code task} once, {@code delay} from now; the answer cancels it. */
    Runnable schedule(Runnable task, Duration delay);

    /** Runs {@code task} every {@code period}, from one period from now. */
    void every(Runnable task, Duration period);

    static Clock of(EventLoop loop) {
        return new Clock() {
            @Override
            public long nanoTime() {
                return System.nanoTime();
            }

            @Override
            public Runnable schedule(Runnable task, Duration delay) {
                var f = loop.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
                return () -> f.cancel(false);
            }

            @Override
            public void every(Runnable task, Duration period) {
                loop.scheduleAtFixedRate(task, period.toNanos(), period.toNanos(), TimeUnit.NANOSECONDS);
            }

            @Override
            public void execute(Runnable task) {
                loop.execute(task);
            }
        };
    }
}
