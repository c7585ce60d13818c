package jcluster.master.it;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import java.util.ArrayList;
import java.util.List;

/**
 * When a process test fails, prints the log of every master it ran: {@link Cluster#close} removes its log file,
 * and a failure that does not quote the log (a client's exception, say) would otherwise leave nothing to go on.
 * Registered for every test through ServiceLoader (junit-platform.properties turns that on); the suite runs one
 * test at a time.
 */
public final class ClusterLogs implements BeforeEachCallback, TestWatcher {
    private static final List<String> LOGS = new ArrayList<>();

    /** Keeps a closed master's log until the test it belongs to has passed or failed. */
    static synchronized void closed(long pid, String log) {
        LOGS.add("---- log of the master " + pid + " ----\n" + log);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        clear();
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        synchronized (ClusterLogs.class) {
            for (String log : LOGS) {
                System.err.println(log);
            }
        }
        clear();
    }

    @Override
    public void testSuccessful(ExtensionContext context) {
        clear();
    }

    private static synchronized void clear() {
        LOGS.clear();
    }
}
