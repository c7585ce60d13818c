package jcluster.master.ops;

import jnr.constants.platform.Signal;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/** The POSIX call the JDK lacks: sending a worker a signal other than TERM or KILL (QUIT, for a thread dump). */
public final class Posix {
    private static final POSIX POSIX = POSIXFactory.getNativePOSIX();

    private Posix() {
    }

    /** @return false if the process is gone already */
    public static boolean signal(long pid, Signal signal) {
        return POSIX.kill((int) pid, signal.intValue()) == 0;
    }
}
