package jcluster.master.supervisor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Starts the processes the master runs, its workers and an upgrade's new master: {@link WorkerLauncher} starts JVMs;
 * a unit test starts fakes.
 */
public interface Launcher {
    /**
     * @param secret what its HELLO must carry
     * @param claimsFile its claim slots, or null when handoffs are not revocable
     */
    OsProcess start(int id, int generation, byte[] secret, Path claimsFile) throws IOException;

    /**
     * Starts a new master with this one's command line (an upgrade), not as a child of this one: as a child of
     * whatever adopts orphans, systemd for a service, so that systemd can supervise it as its main process.
     * @param environment added to this one's environment; a null value removes the variable
     * @param flags the new master's flags in place of this one's (its JVM and jar stay); empty for this one's
     */
    ProcessHandle startMaster(Map<String, String> environment, List<String> flags) throws IOException;

    /** Makes what speeds up the next workers' start (a class-data archive), in the background. */
    void prepareArchive();

    /** The worker JVM options changed (a reload reread --config): the next workers start with the new ones. */
    default void jvmOptionsChanged() {
    }

    /** Ends what the launcher runs besides workers. */
    void close();
}
