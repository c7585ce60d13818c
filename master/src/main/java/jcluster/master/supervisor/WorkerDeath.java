package jcluster.master.supervisor;

import jcluster.common.ExitCodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/**
 * What a worker's death means, and how it is told in the log: how it ended, and its last output, each line a log
 * line of its own, after the line that says what the master does about it.
 */
public final class WorkerDeath {
    private static final Logger log = LoggerFactory.getLogger(WorkerDeath.class);

    /** What a death outside a shutdown means. */
    public enum Verdict {
        /** The master decided it (drain, timeout, kill): nothing to do. */
        EXPECTED,
        /** It could not load the app, outside a reload: respawning cannot fix that; the master stops. */
        APP_LOAD_FAILED,
        /** A new worker of a reload died before READY: the reload is aborted. */
        RELOAD_FAILED,
        /** A crash: respawned after a delay, or, in a crash loop, the master stops. */
        CRASH
    }

    private WorkerDeath() {
    }

    /** Judges and logs a death outside a shutdown. */
    public static Verdict judge(WorkerProcess w, boolean failedReload) {
        String how = how(w);
        if (w.exitExpected()) {
            log.info("{} {}", w, how);
            return Verdict.EXPECTED;
        }
        if (w.process.exitValue() == ExitCodes.APP_LOAD_FAILED && !failedReload) {
            log.error("cannot load the app: {}; stopping", appLoadError(w));
            return Verdict.APP_LOAD_FAILED;
        }
        if (failedReload) {
            log.error("{} {} before it was ready; reload to generation {} aborted, the workers serving now stay{}",
                    w, how, w.generation, followingLines(w));
            logLastLines(w, true);
            return Verdict.RELOAD_FAILED;
        }
        return Verdict.CRASH;
    }

    /** Logs a crash: the respawn delay, or null for giving up after {@code unstable} unstable deaths in a row. */
    public static void crashed(WorkerProcess w, Duration delay, int unstable, Duration minUptime) {
        if (delay == null) {
            log.error("{} {}; {} unstable worker deaths in a row (before READY or within {} ms of it): giving up{}",
                    w, how(w), unstable, minUptime.toMillis(), followingLines(w));
            logLastLines(w, true);
        } else {
            log.warn("{} {}; respawning in {} ms{}", w, how(w), delay.toMillis(), followingLines(w));
            logLastLines(w, false);
        }
    }

    /** Logs a death during a shutdown; false if it cut requests (killed, or it said so by its exit code). */
    public static boolean stoppedCleanly(WorkerProcess w) {
        int code = w.process.exitValue();
        if (code == ExitCodes.OK) {
            log.info("{} {}", w, how(w));
            return true;
        }
        log.warn("{} {}{}", w, how(w), code == ExitCodes.FORCED_STOP ? " (requests in flight were cut)" : "");
        return false;
    }

    /** "exited with code N" or "was killed by signal N". */
    public static String how(WorkerProcess w) {
        return ExitCodes.describe(w.process.exitValue());
    }

    /** The reason a worker gave for {@link ExitCodes#APP_LOAD_FAILED}, from its last output. */
    private static String appLoadError(WorkerProcess w) {
        List<String> tail = w.process.lastLines();
        for (int i = tail.size() - 1; i >= 0; i--) {
            int at = tail.get(i).indexOf(ExitCodes.APP_LOAD_FAILED_LINE);
            if (at >= 0) {
                return tail.get(i).substring(at + ExitCodes.APP_LOAD_FAILED_LINE.length());
            }
        }
        return w + " exited with code " + ExitCodes.APP_LOAD_FAILED;
    }

    /** The end of a line that {@link #logLastLines} follows. */
    private static String followingLines(WorkerProcess w) {
        int n = w.process.lastLines().size();
        return n == 0 ? "" : "; its last " + n + " line(s) of output follow";
    }

    /** A dead worker's last output, tagged, and never glued to another line; at ERROR or WARN. */
    private static void logLastLines(WorkerProcess w, boolean error) {
        for (String line : w.process.lastLines()) {
            if (error) {
                log.error("worker {} output: {}", w.id, line);
            } else {
                log.warn("worker {} output: {}", w.id, line);
            }
        }
    }
}
