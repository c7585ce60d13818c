package jcluster.master.supervisor;

import java.io.IOException;
import java.nio.file.Path;

/** Starts worker processes: {@link WorkerLauncher} starts JVMs; a unit test starts fakes. */
public interface Launcher {
    /**
     * @param secret what its HELLO must carry
     * @param claimsFile its claim slots, or null when handoffs are not revocable
     */
    OsProcess start(int id, byte[] secret, Path claimsFile) throws IOException;

    /** Makes what speeds up the next workers' start (a class-data archive), in the background. */
    void prepareArchive();

    /** Ends what the launcher runs besides workers. */
    void close();
}
