package jcluster.master.supervisor;

import java.util.List;
import java.util.concurrent.CompletionStage;

/** A worker's operating-system process, as the arbiter acts on it: a child JVM, or a test's fake. */
public interface OsProcess {
    long pid();

    boolean isAlive();

    /** Its exit value, once {@link #exited} has completed: a code, or 128 + the signal that killed it. */
    int exitValue();

    /** SIGKILL. */
    void kill();

    /** SIGQUIT: the JVM writes a thread dump to its output, which the master relays. */
    void requestThreadDump();

    /** Completes once the process has exited and everything it wrote is relayed. Not on the master's loop. */
    CompletionStage<Void> exited();

    /** Its last lines of output, oldest first. */
    List<String> lastLines();
}
