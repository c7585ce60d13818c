package jcluster.common;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Names the process in every log line, and finds whether its stderr is the journal, for {@link LogConfigurator}. Call
 * before the first logger.
 */
public final class Logging {
    /**
     * The system property that says stderr is the journal: set by {@link #init} from {@code JOURNAL_STREAM}, and
     * given by the master to its workers, whose stderr is a pipe the master relays into the journal line by line.
     */
    public static final String JOURNAL_PROPERTY = "jcluster.log.journal";
    /** The log's format: text (the default) or json; the master gives its own to its workers. */
    public static final String FORMAT_PROPERTY = "jcluster.log.format";

    private Logging() {
    }

    /**
     * @param process "master" or "worker-N"
     * @param format text or json
     */
    public static void init(String process, String format) {
        System.setProperty(FORMAT_PROPERTY, format);
        init(process);
    }

    /** @param process "master" or "worker-N"; the format as {@link #FORMAT_PROPERTY} says */
    public static void init(String process) {
        System.setProperty("jcluster.proc", process);
        System.setProperty("jcluster.pid", Long.toString(ProcessHandle.current().pid()));
        if (System.getProperty(JOURNAL_PROPERTY) == null && stderrIs(System.getenv("JOURNAL_STREAM"))) {
            System.setProperty(JOURNAL_PROPERTY, "true");
        }
    }

    /** Log lines are JSON objects. */
    public static boolean json() {
        return "json".equals(System.getProperty(FORMAT_PROPERTY));
    }

    /** Log lines carry journald's priority prefixes. */
    public static boolean toJournal() {
        return Boolean.getBoolean(JOURNAL_PROPERTY);
    }

    /**
     * {@code JOURNAL_STREAM} ("device:inode", as systemd sets it for a service whose stderr goes to the journal)
     * names this process's stderr; not just any inherited variable: a shell started from such a service passes it on
     * with its own stderr elsewhere.
     */
    static boolean stderrIs(String journalStream) {
        if (journalStream == null || !journalStream.matches("\\d+:\\d+")) {
            return false;
        }
        try {
            Path stderr = Path.of("/proc/self/fd/2");
            long dev = ((Number) Files.getAttribute(stderr, "unix:dev")).longValue();
            long ino = ((Number) Files.getAttribute(stderr, "unix:ino")).longValue();
            return journalStream.equals(Long.toUnsignedString(dev) + ":" + Long.toUnsignedString(ino));
        } catch (Exception e) {
            return false;
        }
    }
}
