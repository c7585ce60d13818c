package jcluster.master;

import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.util.function.Consumer;

/**
 * Routes the signals the master acts on to its event loop. A handler only posts the signal's name: the JVM runs
 * each delivery on a new thread, and only the loop thread may touch the master's state. Trapping TERM, INT and
 * HUP replaces the JVM's own shutdown, so the master exits by itself. QUIT is the JVM's (thread dump) and cannot
 * be trapped.
 */
final class Signals {
    private static final Logger log = LoggerFactory.getLogger(Signals.class);
    static final String[] HANDLED = {"TERM", "INT", "HUP", "TTIN", "TTOU"};

    private Signals() {
    }

    static void install(EventLoop loop, Consumer<String> onSignal) {
        for (String name : HANDLED) {
            try {
                Signal.handle(new Signal(name), s -> loop.execute(() -> onSignal.accept(s.getName())));
            } catch (IllegalArgumentException e) {
                log.warn("cannot trap SIG{} in this JVM: {}", name, e.getMessage());
            }
        }
    }
}
