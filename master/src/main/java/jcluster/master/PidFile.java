package jcluster.master;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code --pid-file}: the master's pid, one line, written at start and removed at exit. */
final class PidFile {
    private PidFile() {
    }

    static void write(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.writeString(file, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new StartupException("cannot write the pid file " + file + ": " + e.getMessage()
                    + "; check --pid-file");
        }
    }

    static void remove(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // nothing to do at exit
        }
    }

    /** The pid in a pid file, for the control commands. */
    static long read(Path file) {
        try {
            return Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            throw new StartupException("cannot read a pid from " + file + " (" + e.getMessage()
                    + "); is the server running with --pid-file " + file + "?");
        }
    }
}
