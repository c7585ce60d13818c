package jcluster.common;

/**
 * The exit codes of both processes, one meaning each: the master's are documented in the README; a worker's tell
 * the master how it ended. A code above 128 is the shell's (and {@link Process#exitValue}'s) spelling of "killed by
 * signal code − 128".
 */
public final class ExitCodes {
    /** A clean exit: the master stopped after its workers drained; a worker drained. */
    public static final int OK = 0;
    /**
     * A runtime failure: the master's port in use, permission denied, runtime directory unusable; a worker that could
     * not reach the master or start its event loop.
     */
    public static final int FAILURE = 1;
    /** A usage error: the master's unknown flag or bad value; a worker's command line its jar does not understand. */
    public static final int USAGE = 2;
    /** The master only: workers kept dying (before READY or before --min-uptime), so it gave up respawning them. */
    public static final int CRASH_LOOP = 3;
    /**
     * The app could not be loaded or started (bad jar, class, constructor, static directory): a worker that exits so
     * is never respawned, and the master then exits so too.
     */
    public static final int APP_LOAD_FAILED = 4;
    /**
     * A stop that cut requests in flight: a worker told to STOP, or past its own drain deadline; the master whose stop
     * was forced (a second SIGTERM/SIGINT, --shutdown-timeout) while requests were in flight.
     */
    public static final int FORCED_STOP = 5;
    /** How a worker's log line explaining {@link #APP_LOAD_FAILED} begins; the master quotes the rest. */
    public static final String APP_LOAD_FAILED_LINE = "app failed to load: ";

    public static final int SIGNAL_BASE = 128;

    private ExitCodes() {
    }

    /** "exited with code N", or "was killed by signal N" for an exit value above 128. */
    public static String describe(int code) {
        return code > SIGNAL_BASE ? "was killed by signal " + (code - SIGNAL_BASE) : "exited with code " + code;
    }
}
