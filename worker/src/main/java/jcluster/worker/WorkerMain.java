package jcluster.worker;

import jcluster.common.ExitCodes;
import jcluster.common.Logging;
import jcluster.common.WorkerOptions;

import java.util.HexFormat;

/** Entry point of a worker process. Started by the master, never by hand; its exit codes are {@link ExitCodes}. */
public final class WorkerMain {

    private WorkerMain() {
    }

    /** The argument that makes this JVM a training run for the class-data archive instead of a worker. */
    public static final String TRAIN = "--train";

    public static void main(String[] args) {
        jcluster.common.Jffi.withoutUnsafe();
        if (args.length == 1 && args[0].equals(TRAIN)) {
            Logging.init("worker-training");
            System.exit(TrainingRun.run());
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
            System.exit(ExitCodes.USAGE);
            return;
        }
        Logging.init("worker-" + options.id());
        System.exit(new Worker(options, secret).run());
    }
}
