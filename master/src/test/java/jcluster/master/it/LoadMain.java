package jcluster.master.it;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link Load} as a program, for a client where the test JVM cannot reach (the systemd sandbox's own network):
 * {@code LoadMain PORT CLIENTS STOPFILE} runs the load until STOPFILE exists, printing {@code started} once the
 * first requests succeeded, then {@code ok N}, then one line per failure.
 */
public final class LoadMain {
    private LoadMain() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path stop = Path.of(args[2]);
        try (Load load = new Load(port, Integer.parseInt(args[1]))) {
            load.awaitProgress(20);
            System.out.println("started");
            System.out.flush();
            while (!Files.exists(stop)) {
                Thread.sleep(20);
            }
            load.stop();
            System.out.println("ok " + load.ok.get());
            load.failures.forEach(System.out::println);
        }
    }
}
