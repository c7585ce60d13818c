package jcluster.master.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The admin port's dashboard, loaded in Debian's headless Chromium: a row per worker with its sparkline, checked from
 * the DOM the page's script built, and a screenshot; the page loads nothing from elsewhere.
 */
@Timeout(120)
class DashboardIT {
    @Test
    void headlessChromiumRendersEveryWorkersRowAndItsSparkline() throws Exception {
        Path chromium = Packages.need("chromium", "chromium");
        Path dir = TestFiles.dir("jcluster-dashboard");
        int admin = Cluster.freePort();
        try (Cluster c = Cluster.start("--workers=2", "--admin-port=" + admin);
             Load load = new Load(c.port, 2, "/")) {
            Http.Response page = Http.get(admin, "/");
            assertEquals(200, page.status());
            assertEquals("text/html; charset=utf-8", page.header("content-type"));
            assertTrue(page.header("content-security-policy").startsWith("default-src 'none'"),
                    page.header("content-security-policy"));
            assertFalse(Pattern.compile("(src|href)=\"(https?:)?//").matcher(page.text()).find(),
                    "nothing fetched from elsewhere");
            // a few seconds of history, so every worker's sparkline has points
            Cluster.await(() -> {
                try {
                    return Http.get(admin, "/history").text().split("\"t\":").length > 4;
                } catch (IOException e) {
                    return false;
                }
            }, Duration.ofSeconds(20), () -> "no history");
            List<Long> pids = c.workerPids();
            String dom = chromium(chromium, dir, "--dump-dom", "http://127.0.0.1:" + admin + "/");
            for (long pid : pids) {
                Matcher row = Pattern.compile("<tr data-worker=\"(\\d+)\">(.*?)</tr>").matcher(dom);
                boolean found = false;
                while (row.find()) {
                    if (row.group(2).contains("<td>" + pid + "</td>")) {
                        found = true;
                        Matcher line = Pattern.compile("<polyline points=\"([^\"]*)\"").matcher(row.group(2));
                        assertTrue(line.find(), "a sparkline in worker " + pid + "'s row");
                        assertTrue(line.group(1).split(" ").length >= 3, "points: " + line.group(1));
                        assertTrue(row.group(2).contains("READY"), row.group(2));
                    }
                }
                assertTrue(found, "a row for worker pid " + pid + " in:\n" + dom);
            }
            assertTrue(dom.contains("master pid " + c.pid() + " on "), dom);
            Path shot = dir.resolve("dashboard.png");
            chromium(chromium, dir, "--window-size=1280,700", "--screenshot=" + shot, "http://127.0.0.1:" + admin + "/");
            byte[] png = Files.readAllBytes(shot);
            assertTrue(png.length > 10_000, "a screenshot with something drawn: " + png.length + " bytes");
            assertEquals(0x89504E47, ByteBuffer.wrap(png, 0, 4).getInt(), "a PNG");
            assertEquals(1280, ByteBuffer.wrap(png, 16, 4).getInt(), "its width");
            assertEquals(700, ByteBuffer.wrap(png, 20, 4).getInt(), "its height");
            assertTrue(load.failures.isEmpty(), load.failures.toString());
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    /** Headless Chromium with its profile and home in {@code dir}; its stdout. */
    static String chromium(Path chromium, Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless=new", "--no-sandbox",
                "--disable-gpu", "--no-first-run", "--user-data-dir=" + dir.resolve("profile"),
                "--virtual-time-budget=3000"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", dir.toString());
        pb.environment().put("XDG_CONFIG_HOME", dir.resolve("config").toString());
        pb.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        pb.redirectError(dir.resolve("chromium.err").toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "chromium finished");
        assertEquals(0, p.exitValue(), "chromium: " + Files.readString(dir.resolve("chromium.err")));
        return out;
    }
}
