package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** master.jar top: in a terminal (tmux's pseudo-terminal) it shows every worker, updates, and quits on q. */
@Timeout(90)
class TopIT {
    /** A worker's row: id, pid, generation, state, req/s. */
    static final Pattern ROW = Pattern.compile("^\\s*(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(READY|STARTING|DRAINING|SUSPECT)\\s+"
            + "(-|\\d+)\\s", Pattern.MULTILINE);

    @Test
    void inATerminalItShowsEveryWorkerUpdatesAndQuitsOnQ() throws Exception {
        Path tmux = Packages.need("tmux", "tmux");
        Path dir = TestFiles.dir("jcluster-top");
        Path socket = dir.resolve("tmux.sock");
        try (Cluster c = Cluster.start("--workers=2");
             Load load = new Load(c.port, 2, "/")) {
            run(tmux.toString(), "-S", socket.toString(), "new-session", "-d", "-s", "top", "-x", "140", "-y", "30",
                    Cluster.javaBinary() + " -jar " + Cluster.JAR + " top --runtime-dir=" + c.runtimeDir);
            List<Long> pids = c.workerPids();
            String[] screen = {""};
            // every worker's row, with a rate, once the second refresh has a difference to show
            Cluster.await(() -> {
                screen[0] = capture(tmux, socket);
                Matcher m = ROW.matcher(screen[0]);
                int rows = 0;
                while (m.find()) {
                    if (pids.contains(Long.parseLong(m.group(2))) && !m.group(5).equals("-")) {
                        rows++;
                    }
                }
                return rows == 2 && screen[0].contains("q: quit");
            }, Duration.ofSeconds(20), () -> "no row with a rate for each of " + pids + ":\n" + screen[0]);
            String first = clockOf(screen[0]);
            Cluster.await(() -> !clockOf(capture(tmux, socket)).equals(first), Duration.ofSeconds(10),
                    () -> "the screen is not redrawn");
            run(tmux.toString(), "-S", socket.toString(), "send-keys", "-t", "top", "q");
            // top exits on q, and its session with it
            Cluster.await(() -> {
                try {
                    return run(tmux.toString(), "-S", socket.toString(), "has-session", "-t", "top").code() != 0;
                } catch (Exception e) {
                    return false;
                }
            }, Duration.ofSeconds(10), () -> "top did not quit on q");
            assertTrue(load.failures.isEmpty(), load.failures.toString());
        } finally {
            try {
                run(tmux.toString(), "-S", socket.toString(), "kill-server");
            } finally {
                TestFiles.deleteTree(dir);
            }
        }
    }

    @Test
    void withoutATerminalItPrintsPlainLines() throws Exception {
        try (Cluster c = Cluster.start("--workers=2")) {
            CliIT.Result r = CliIT.run("top", "--runtime-dir=" + c.runtimeDir, "--count=2", "--interval=200");
            assertEquals(0, r.code(), r.err());
            assertFalse(r.out().contains("\033"), "no escape sequence: " + r.out());
            assertEquals(2, r.out().lines().filter(l -> l.startsWith("jcluster top  master pid " + c.pid())).count(),
                    r.out());
            for (long pid : c.workerPids()) {
                assertTrue(r.out().contains(" " + pid + " "), pid + " in:\n" + r.out());
            }
        }
    }

    static String clockOf(String screen) {
        Matcher m = Pattern.compile("workers(?: \\(\\w+\\))?\\s+(\\d\\d:\\d\\d:\\d\\d)").matcher(screen);
        return m.find() ? m.group(1) : "";
    }

    static String capture(Path tmux, Path socket) {
        try {
            return run(tmux.toString(), "-S", socket.toString(), "capture-pane", "-p", "-t", "top").out();
        } catch (IOException | InterruptedException e) {
            return e.toString();
        }
    }

    static CliIT.Result run(String... cmd) throws IOException, InterruptedException {
        return AccessLogIT.run(cmd);
    }
}
