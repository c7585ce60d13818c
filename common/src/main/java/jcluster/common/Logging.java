package jcluster.common;

/** Names the process in every log line. Call before the first logger is created. */
public final class Logging {
    private Logging() {
    }

    /** @param process "master" or "worker-N" */
    public static void init(String process) {
        System.setProperty("jcluster.proc", process);
        System.setProperty("jcluster.pid", Long.toString(ProcessHandle.current().pid()));
    }
}
