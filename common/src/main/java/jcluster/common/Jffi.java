package jcluster.common;

/**
 * jffi (under jnr-posix and jnr-unixsocket) reads and writes native memory through {@code sun.misc.Unsafe} when
 * it can, and JDK 24 and later print four lines of warning at the first such call (JEP 498), in the master and in
 * every worker. Its JNI path does the same work without Unsafe; the server calls jffi only off the request path
 * (signals, scheduling policy, sd_notify, the drop to --user), so it costs nothing measurable. Call before any
 * jnr class loads.
 */
public final class Jffi {
    private Jffi() {
    }

    public static void withoutUnsafe() {
        if (System.getProperty("jffi.unsafe.disabled") == null) {
            System.setProperty("jffi.unsafe.disabled", "true");
        }
    }
}
