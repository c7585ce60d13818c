package jcluster.master.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Where the process tests put files: one directory of their own in /tmp (short, since runtime directories with
 * Unix sockets live in it), removed with everything in it when the test JVM exits. Every master the tests start
 * gets {@link #CACHE} as its XDG_CACHE_HOME, so the class-data archives it makes stay there and the user's own
 * cache is never touched. {@link LeftoversIT} checks, last, that each test removed what it made.
 */
final class TestFiles {
    static final Path TMP = Path.of(System.getProperty("java.io.tmpdir"));
    static final Path ROOT;
    /** The XDG_CACHE_HOME of every master the tests start. */
    static final Path CACHE;
    /** What /tmp and the user's class-data cache held before the first test made anything. */
    static final Set<String> TMP_BEFORE;
    static final Set<String> USER_CACHE_BEFORE;

    static {
        try {
            TMP_BEFORE = list(TMP);
            USER_CACHE_BEFORE = list(userCache());
            ROOT = Files.createTempDirectory("jcluster-test-");
            // traversable by the other users some tests run a master as, but not listable
            Files.setPosixFilePermissions(ROOT, PosixFilePermissions.fromString("rwx--x--x"));
            CACHE = Files.createDirectory(ROOT.resolve("cache"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(ROOT), "test-files-cleanup"));
    }

    private TestFiles() {
    }

    static Path dir(String prefix) throws IOException {
        return Files.createTempDirectory(ROOT, prefix);
    }

    static Path file(String prefix, String suffix) throws IOException {
        return Files.createTempFile(ROOT, prefix, suffix);
    }

    /** The class-data cache a master started by a user (not by these tests) would use. */
    static Path userCache() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        return xdg != null && !xdg.isBlank() ? Path.of(xdg, "jcluster")
                : Path.of(System.getProperty("user.home"), ".cache", "jcluster");
    }

    static Set<String> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    /** Removes a file or a directory and everything in it; what is already gone is fine. */
    static void deleteTree(Path root) {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> all;
        try (Stream<Path> s = Files.walk(root)) {
            all = s.sorted(Comparator.reverseOrder()).toList();
        } catch (IOException e) {
            return;
        }
        for (Path p : all) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // a file a test still holds: the JVM's exit removes what it can
            }
        }
    }
}
