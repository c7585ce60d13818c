package jcluster.common;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %journalPriority}: a line's syslog priority as journald reads it at the start of a line ({@code <3>} for
 * ERROR, {@code <4>} WARN, {@code <6>} INFO, {@code <7>} DEBUG and TRACE), so {@code journalctl -p err} finds the
 * errors; nothing unless {@link Logging} found stderr connected to the journal.
 */
public final class JournalPriority extends ClassicConverter {
    /** Decided once, when logging starts (after {@link Logging#init}). */
    private boolean on;

    @Override
    public void start() {
        on = Logging.toJournal();
        super.start();
    }

    @Override
    public String convert(ILoggingEvent event) {
        if (!on) {
            return "";
        }
        int level = event.getLevel().toInt();
        return level >= Level.ERROR_INT ? "<3>" : level >= Level.WARN_INT ? "<4>" : level >= Level.INFO_INT ? "<6>"
                : "<7>";
    }
}
