package jcluster.master.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The tools some process tests drive (HAProxy, wrk, logrotate): found on the PATH, or installed from Debian's
 * packages, as the bench installs its own, so a fresh machine runs the same tests.
 */
final class Packages {
    private static final String[] BIN = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"};
    private static boolean updated;

    private Packages() {
    }

    /** The path of {@code command}, installing {@code pkg} first if it is missing. */
    static synchronized Path need(String command, String pkg) throws IOException, InterruptedException {
        Path found = find(command);
        if (found != null) {
            return found;
        }
        if (!updated) {
            apt("update", "-q");
            updated = true;
        }
        apt("install", "-y", "-q", "--no-install-recommends", pkg);
        found = find(command);
        assertNotNull(found, pkg + " is installed but has no " + command);
        return found;
    }

    private static Path find(String command) {
        for (String dir : BIN) {
            Path p = Path.of(dir, command);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static void apt(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "apt-get";
        System.arraycopy(args, 0, cmd, 1, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "apt-get " + String.join(" ", args) + " took too long");
        assertEquals(0, p.exitValue(), "apt-get " + String.join(" ", args) + ":\n" + new String(out));
    }
}
