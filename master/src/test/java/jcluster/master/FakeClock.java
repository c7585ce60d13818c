package jcluster.master;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.PriorityQueue;

/** A clock the test winds: timers run in order of their due time as it advances; posted tasks run in order. */
final class FakeClock implements Clock {
    private final PriorityQueue<Timer> timers = new PriorityQueue<>(
            Comparator.comparingLong((Timer t) -> t.due).thenComparingLong(t -> t.seq));
    private final ArrayDeque<Runnable> posted = new ArrayDeque<>();
    private long now = 1_000_000_000L;
    private long seq;

    private static final class Timer {
        final Runnable task;
        final long period;
        final long seq;
        long due;
        boolean cancelled;

        Timer(Runnable task, long due, long period, long seq) {
            this.task = task;
            this.due = due;
            this.period = period;
            this.seq = seq;
        }
    }

    @Override
    public long nanoTime() {
        return now;
    }

    @Override
    public Runnable schedule(Runnable task, Duration delay) {
        Timer t = new Timer(task, now + delay.toNanos(), 0, seq++);
        timers.add(t);
        return () -> t.cancelled = true;
    }

    @Override
    public void every(Runnable task, Duration period) {
        timers.add(new Timer(task, now + period.toNanos(), period.toNanos(), seq++));
    }

    @Override
    public void execute(Runnable task) {
        posted.add(task);
    }

    /** Runs what was posted, and what that posts. */
    void runPending() {
        Runnable r;
        while ((r = posted.poll()) != null) {
            r.run();
        }
    }

    /** Moves time on by {@code d}, running each timer at its due time, and the posted tasks after each. */
    void advance(Duration d) {
        long until = now + d.toNanos();
        runPending();
        while (!timers.isEmpty() && timers.peek().due <= until) {
            Timer t = timers.poll();
            if (t.cancelled) {
                continue;
            }
            now = t.due;
            t.task.run();
            if (t.period > 0) {
                t.due += t.period;
                timers.add(t);
            }
            runPending();
        }
        now = until;
    }
}
