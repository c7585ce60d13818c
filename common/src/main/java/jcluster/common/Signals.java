package jcluster.common;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The signals a jcluster process traps, master and worker alike: every one whose default action would end (or
 * stop) a JVM and that the JVM lets a program handle. Each process acts on some and logs and ignores the rest, so
 * no stray {@code kill} ends a server silently. A handler only posts the signal's name to the process's event loop:
 * the JVM runs each delivery on a new thread, and only the loop thread may touch the process's state.
 * <p>Not trapped, on purpose:
 * <ul>
 *   <li>QUIT, ILL, FPE, SEGV: the JVM's own (QUIT is its thread dump), and refused by it;</li>
 *   <li>BUS: the JVM turns a bus error in a mapped file into an exception, which a handler would replace;</li>
 *   <li>PIPE and XFSZ: the JVM ignores them already (a write to a closed socket or past a file limit fails
 *   instead);</li>
 *   <li>ABRT: asks for a core dump, and gets one;</li>
 *   <li>KILL and STOP cannot be caught; CHLD, CONT, URG and WINCH do nothing by default; the real-time signals
 *   have no names the JVM knows.</li>
 * </ul>
 * Trapping TERM, INT and HUP replaces the JVM's own shutdown on them: the process exits by itself.
 * <p>On JDK 17 the JVM also suspends threads with USR2 (for JFR's thread sampler); trapped here, an external USR2
 * no longer crashes it (it did: a SIGSEGV in its handler), at the cost of that sampler in a master or worker.
 */
public final class Signals {
    private static final Logger log = LoggerFactory.getLogger(Signals.class);
    /** Every signal trapped, by name without {@code SIG}. */
    public static final List<String> TRAPPED = List.of("TERM", "INT", "HUP", "TTIN", "TTOU", "USR1", "USR2", "ALRM",
            "VTALRM", "PROF", "IO", "PWR", "STKFLT", "XCPU", "SYS", "TRAP");

    /** The signals a worker drains on by itself, by their numbers on Linux (what LEAVING carries). */
    private static final List<String> BY_NUMBER = java.util.Arrays.asList(null, null, "INT", null, null, null, null,
            null, null, null, null, null, null, null, null, "TERM");

    private Signals() {
    }

    /** The number of a signal a worker reports draining on: INT or TERM. */
    public static int number(String name) {
        int n = BY_NUMBER.indexOf(name);
        if (n < 0) {
            throw new IllegalArgumentException("no number for SIG" + name);
        }
        return n;
    }

    /** "SIGTERM" for 15, "SIGINT" for 2; "signal N" for any other. */
    public static String name(int number) {
        String n = number >= 0 && number < BY_NUMBER.size() ? BY_NUMBER.get(number) : null;
        return n != null ? "SIG" + n : "signal " + number;
    }

    /**
     * Routes every {@link #TRAPPED} signal to {@code handler}, run on {@code loop}.
     * @return the names of those this JVM would not let us trap (logged)
     */
    public static List<String> install(Executor loop, Consumer<String> handler) {
        List<String> refused = new java.util.ArrayList<>();
        for (String name : TRAPPED) {
            try {
                Signal.handle(new Signal(name), s -> loop.execute(() -> handler.accept(s.getName())));
            } catch (IllegalArgumentException e) {
                refused.add(name);
                log.warn("cannot trap SIG{} in this JVM ({}): it keeps its default action", name, e.getMessage());
            }
        }
        return refused;
    }
}
