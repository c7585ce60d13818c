package jcluster.worker;

import io.netty.channel.unix.FileDescriptor;
import jnr.posix.POSIXFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The worker's stdout and stderr: pipes its master relays. A master that dies takes their other ends with it; the
 * master that adopts the worker sends a new pipe, which becomes both (dup2 onto fds 1 and 2), so that everything
 * the worker writes, its logger's lines and the JVM's own (a thread dump), reaches the log again.
 */
final class Output {
    private static final Logger log = LoggerFactory.getLogger(Output.class);

    private Output() {
    }

    /** Never throws: a worker that cannot take the pipe serves on, its lines lost as they were while orphaned. */
    static void redirectTo(FileDescriptor pipe) {
        try {
            var posix = POSIXFactory.getNativePOSIX();
            if (posix.dup2(pipe.intValue(), 1) < 0 || posix.dup2(pipe.intValue(), 2) < 0) {
                log.warn("cannot take the new master's pipe as output (errno {})", posix.errno());
            } else {
                log.info("output goes to the master that adopted this worker");
            }
        } catch (RuntimeException | LinkageError e) {
            log.warn("cannot take the new master's pipe as output: {}", e.toString());
        } finally {
            try {
                pipe.close();
            } catch (IOException e) {
                // its copies on 1 and 2 are what count
            }
        }
    }
}
