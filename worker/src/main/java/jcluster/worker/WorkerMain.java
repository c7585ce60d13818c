package jcluster.worker;

import jcluster.common.Logging;
import jcluster.common.WorkerOptions;

import java.util.HexFormat;

/** Entry point of a worker process. Started by the master, never by hand. */
public final class WorkerMain {
    /** The master and this jar disagree on the worker's command line. */
    public static final int EXIT_BAD_ARGUMENTS = 2;
    /** The worker could not reach the master or start its event loop. */
    public static final int EXIT_BOOT_FAILED = 3;
    /** The app could not be loaded or started (bad jar, class, constructor, static directory): never respawned. */
    public static final int EXIT_APP_LOAD_FAILED = 4;
    /** The worker stopped (STOP, or its own drain deadline) with requests in flight: they were cut. */
    public static final int EXIT_REQUESTS_CUT = 5;
    /** How the worker's log line explaining {@link #EXIT_APP_LOAD_FAILED} begins; the master quotes the rest. */
    public static final String APP_LOAD_FAILED = "app failed to load: ";

    private WorkerMain() {
    }

    /** The argument that makes this JVM a training run for the class-data archive instead of a worker. */
    public static final String TRAIN = "--train";

    public static void main(String[] args) {
        if (args.length == 1 && args[0].equals(TRAIN)) {
            Logging.init("worker-training");
            System.exit(Worker.train());
        }
        WorkerOptions options;
        byte[] secret;
        try {
            options = WorkerOptions.fromArgs(args);
            String hex = System.getenv(WorkerOptions.SECRET_ENV);
            if (hex == null) {
                throw new IllegalArgumentException(WorkerOptions.SECRET_ENV + " is not set");
            }
            secret = HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            System.err.println("worker: " + e.getMessage() + " (workers are started by the master, not by hand)");
            System.exit(EXIT_BAD_ARGUMENTS);
            return;
        }
        Logging.init("worker-" + options.id());
        System.exit(new Worker(options, secret).run());
    }
}
