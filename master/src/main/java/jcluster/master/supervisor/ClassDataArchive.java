package jcluster.master.supervisor;

import jcluster.worker.WorkerMain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A class-data archive (AppCDS) of what a worker loads on its way to READY, so a worker starts in about half the
 * CPU time and 40% sooner: that is what respawns, recycles and every step of a rolling reload pay.
 * <p>The archive is made once per jar by a training run ({@code WorkerMain --train}) in the background: on JDK 25
 * and later an AOT cache ({@code -XX:AOTCacheOutput}, JEP 483 and 515: classes loaded and linked, and the training
 * run's method profiles), before that a dynamic CDS archive ({@code -XX:ArchiveClassesAtExit}). A dynamic archive
 * sits on the JDK's own base archive, dumped without the workers' {@code --enable-native-access}, and JDK 25 then
 * prints three lines of error at each worker's start; an AOT cache is dumped with the workers' own options.
 * <p>It is kept in the user's cache directory
 * ({@code $XDG_CACHE_HOME/jcluster}, else {@code ~/.cache/jcluster}, mode 0700), named after the jar's path, the
 * JVM (an archive works only with the JVM that made it), and the jar's size and modification time: a new deploy
 * gets a new archive, and until it exists workers simply start without one.
 * <p>The cache stays small: once an archive is made, the older ones of the same jar path and JVM are removed (a
 * deploy replaces its archive), and past {@link #MAX_ARCHIVES} in all the least recently used go. Removing one is
 * safe while another master uses it: a JVM maps its archive when it starts, and a file removed meanwhile stays
 * mapped; a worker started with an archive that was just removed starts without one.
 * <p>Nothing here is needed for correctness; any failure only logs and leaves workers on the JVM's defaults.
 */
final class ClassDataArchive {
    private static final Logger log = LoggerFactory.getLogger(ClassDataArchive.class);
    private static final long TRAINING_TIMEOUT_SECONDS = 60;
    /** The most archives kept, of any jar and JVM (about 12 MiB each). */
    static final int MAX_ARCHIVES = 4;
    /** {@code worker-JARHASH-JVMHASH-SIZE-MTIME.jsa}: what {@link #key} names. */
    private static final Pattern ARCHIVE = Pattern.compile("worker-[0-9a-f]{8}-[0-9a-f]{8}-\\d+-\\d+\\.jsa");

    /** JDK 25 makes an AOT cache in one training run (JEP 514); 24 needs two steps, and before it there is none. */
    static final int AOT_CACHE_FEATURE = 25;
    private final String javaBinary;
    private final List<String> jvmOptions;
    /** The workers' JVM is this one (the same binary): whether it makes and takes an AOT cache. */
    private final boolean aot = Runtime.version().feature() >= AOT_CACHE_FEATURE;
    private final Path jar;
    private final Path cacheDir;
    // written by the training thread, read on the master's loop
    private volatile String trainingFor;
    private volatile String failedFor;
    private volatile Process training;
    private volatile boolean stopped;

    private ClassDataArchive(String javaBinary, List<String> jvmOptions, Path jar, Path cacheDir) {
        this.javaBinary = javaBinary;
        this.jvmOptions = jvmOptions;
        this.jar = jar;
        this.cacheDir = cacheDir;
    }

    /** An archive manager, or null when workers cannot use one (not run from a single jar; the user chose). */
    static ClassDataArchive forWorkers(String javaBinary, List<String> jvmOptions, String classPath) {
        if (classPath.contains(File.pathSeparator) || !classPath.endsWith(".jar")
                || jvmOptions.stream().anyMatch(o -> o.contains("SharedArchiveFile") || o.startsWith("-Xshare")
                        || o.startsWith("-XX:AOT"))) {
            return null;
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg, "jcluster")
                : Path.of(System.getProperty("user.home"), ".cache", "jcluster");
        return new ClassDataArchive(javaBinary, jvmOptions, Path.of(classPath).toAbsolutePath(), cache);
    }

    /** The worker's option that uses {@code archive}. */
    String option(Path archive) {
        return (aot ? "-XX:AOTCache=" : "-XX:SharedArchiveFile=") + archive;
    }

    /** The archive for the jar as it is now on disk, or null (none yet: one is made in the background). */
    Path current() {
        String key = key();
        if (key == null) {
            return null;
        }
        Path archive = cacheDir.resolve(key + ".jsa");
        if (Files.isRegularFile(archive)) {
            try {
                // its time is when it was last used: the least recently used go first when the cache is full
                Files.setLastModifiedTime(archive, FileTime.fromMillis(System.currentTimeMillis()));
            } catch (IOException e) {
                // a read-only cache: the archive still serves
            }
            return archive;
        }
        if (!key.equals(trainingFor) && !key.equals(failedFor)) {
            trainingFor = key;
            Thread t = new Thread(() -> train(key, archive), "cds-training");
            t.setDaemon(true);
            t.start();
        }
        return null;
    }

    /** The jar's identity: its path, the JVM, its size and modification time; null when it cannot be read. */
    private String key() {
        try {
            BasicFileAttributes a = Files.readAttributes(jar, BasicFileAttributes.class);
            return group() + a.size() + "-" + a.lastModifiedTime().toMillis();
        } catch (IOException e) {
            return null;
        }
    }

    /** What the archives of this jar path and JVM share: the start of their names. */
    private String group() {
        return String.format("worker-%08x-%08x-", jar.toString().hashCode(),
                (javaBinary + " " + Runtime.version()).hashCode());
    }

    /**
     * Removes the archives in {@code cacheDir} that {@code current} replaces (the same jar path and JVM), any in an
     * older naming, and, past {@code max} in all, the least recently used; never {@code current}.
     */
    static void prune(Path cacheDir, String current, int max) throws IOException {
        String group = current.replaceFirst("^(worker-[^-]+-[^-]+-).*", "$1");
        List<Path> kept = new ArrayList<>();
        try (var files = Files.list(cacheDir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if (!name.startsWith("worker-") || !name.endsWith(".jsa") || name.equals(current + ".jsa")) {
                    continue;
                }
                if (!ARCHIVE.matcher(name).matches() || name.startsWith(group)) {
                    deleteQuietly(p);
                } else {
                    kept.add(p);
                }
            }
        }
        kept.sort(Comparator.comparing(ClassDataArchive::lastUsed).reversed());
        for (Path p : kept.subList(Math.min(kept.size(), max - 1), kept.size())) {
            deleteQuietly(p);
        }
    }

    private static FileTime lastUsed(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    /** Ends a training run still going (the master is exiting): it is a child of the master like the workers. */
    void stop() {
        stopped = true;
        Process p = training;
        if (p != null) {
            p.destroyForcibly();
        }
    }

    /** Runs off the master's loop. */
    private void train(String key, Path archive) {
        Path tmp = null;
        Path out = null;
        try {
            try {
                Files.createDirectories(cacheDir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            } catch (IOException e) {
                failedFor = key;
                log.warn("no class-data archive for workers: cannot create the cache directory {} ({}); workers "
                        + "start without one, about 0.3 s slower each; set XDG_CACHE_HOME to a directory this user can "
                        + "write", cacheDir, reason(e));
                return;
            }
            removeLeftovers();
            tmp = Files.createTempFile(cacheDir, key, ".jsa.tmp");
            out = Files.createTempFile(cacheDir, key, ".log");
            Files.delete(tmp);
            List<String> cmd = new ArrayList<>();
            cmd.add(javaBinary);
            cmd.addAll(jvmOptions);
            cmd.add((aot ? "-XX:AOTCacheOutput=" : "-XX:ArchiveClassesAtExit=") + tmp);
            cmd.add("-cp");
            cmd.add(jar.toString());
            cmd.add(WorkerMain.class.getName());
            cmd.add(WorkerMain.TRAIN);
            Process p = WorkerJvm.processBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            training = p;
            if (!p.waitFor(TRAINING_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("the training run took over " + TRAINING_TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() != 0 || !Files.isRegularFile(tmp)) {
                throw new IOException("the training run exited with code " + p.exitValue() + ": "
                        + String.join(" | ", Files.readAllLines(out).stream().limit(5).toList()));
            }
            Files.move(tmp, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            // the older archives go first: once this line is in the log, the cache holds what it will hold
            prune(cacheDir, key, MAX_ARCHIVES);
            log.info("class-data archive for workers ready ({} MiB): new workers start faster",
                    Files.size(archive) >> 20);
        } catch (IOException | RuntimeException e) {
            failedFor = key;
            if (!stopped) {
                log.warn("no class-data archive for workers (training in {}: {}); they start without one, about "
                        + "0.3 s slower each", cacheDir, e instanceof IOException io ? reason(io) : e.toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            training = null;
            trainingFor = null;
            deleteQuietly(tmp);
            deleteQuietly(out);
        }
    }

    /** Temporary files of a training run a killed master left behind. */
    private void removeLeftovers() throws IOException {
        long old = System.currentTimeMillis() - TimeUnit.SECONDS.toMillis(TRAINING_TIMEOUT_SECONDS);
        try (var files = Files.list(cacheDir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if ((name.endsWith(".jsa.tmp") || name.endsWith(".log"))
                        && Files.getLastModifiedTime(p).toMillis() < old) {
                    deleteQuietly(p);
                }
            }
        }
    }

    /** What went wrong with a file, without repeating its path (which a FileSystemException's message is). */
    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException f) {
            return "no such file or directory: " + f.getFile();
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return String.valueOf(e.getMessage());
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // a leftover temp file in our own cache directory
            }
        }
    }
}
