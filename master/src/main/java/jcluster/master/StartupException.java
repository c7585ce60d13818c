package jcluster.master;

/** A start-up failure the user can fix; its message is the one line they see. */
public final class StartupException extends RuntimeException {
    public StartupException(String message) {
        super(message, null, false, false);
    }
}
