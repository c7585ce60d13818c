package jcluster.master.it;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * --user, --group, --allow-root, --worker-rlimit-nofile: a root master binds a port below 1024 and runs its workers
 * as nobody; nobody reaches none of its sockets or claims files.
 */
@Timeout(120)
class PrivilegeIT {
    static final List<String> AS_NOBODY = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups");
    static final int NOBODY = 65534;

    @BeforeAll
    static void onlyAsRoot() {
        Assumptions.assumeTrue(Cluster.ROOT, "only root can start workers as another user");
    }

    /** Port 80 if it is free, else another below 1024: ports only root may bind. */
    static int privilegedPort() {
        try (ServerSocket s = new ServerSocket(80)) {
            return 80;
        } catch (IOException e) {
            // taken here (a web server of this machine's): another privileged one
        }
        for (int port = 900; port > 600; port--) {
            try (ServerSocket s = new ServerSocket(port)) {
                return port;
            } catch (IOException e) {
                // taken: the next
            }
        }
        throw new IllegalStateException("no free port between 600 and 900");
    }

    /** The real, effective, saved and file-system uids of every thread of the process. */
    static Set<String> threadUids(long pid) throws IOException {
        Set<String> uids = new HashSet<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                List<String> status;
                try {
                    status = Files.readAllLines(t.resolve("status"));
                } catch (java.nio.file.NoSuchFileException e) {
                    continue; // a thread that ended meanwhile
                }
                for (String line : status) {
                    if (line.startsWith("Uid:") || line.startsWith("Gid:")) {
                        uids.add(line.replaceAll("\\s+", " "));
                    }
                }
            }
        }
        return uids;
    }

    static void assertNobody(long pid) throws IOException {
        assertEquals(Set.of("Uid: 65534 65534 65534 65534", "Gid: 65534 65534 65534 65534"), threadUids(pid),
                "every thread of worker " + pid + " is nobody, root kept nowhere");
        String groups = Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                .filter(l -> l.startsWith("Groups:")).findFirst().orElseThrow();
        assertEquals("Groups: 65534", groups.replaceAll("\\s+", " ").strip(), "no supplementary group of root's");
    }

    @Test
    void workersRunAsNobodyOnAPortTheMasterBoundAsRootAndServeReloadAndRecycle() throws Exception {
        int port = privilegedPort();
        Path runtime = TestFiles.dir("jcluster-priv").resolve("run");
        try (Cluster c = Cluster.startAt(port, runtime, "--workers=2", "--user=nobody", "--max-requests=40")) {
            assertTrue(ClusterIT.holdsAny(c.pid(), ClusterIT.listeningInodes(port)), "the master holds port " + port);
            assertEquals(0, (Integer) Files.getAttribute(Path.of("/proc/" + c.pid()), "unix:uid"), "the master is root");
            for (long w : c.workerPids()) {
                assertNobody(w);
                assertFalse(ClusterIT.holdsAny(w, ClusterIT.listeningInodes(port)), "a worker holds no listener");
            }
            assertEquals(200, Http.get(port, "/worker").status());
            assertEquals(0, CliIT.run("reload", "--runtime-dir=" + runtime).code());
            c.awaitReloadComplete(2, Duration.ofSeconds(60));
            // the new generation, as status lists it: the old one may still be exiting, gone before it is read
            List<Long> reloaded = Cluster.pidsIn(c.status(), "READY");
            assertEquals(2, reloaded.size(), c.status());
            for (long w : reloaded) {
                assertNobody(w);
            }
            // --max-requests=40: past it each worker is recycled, its replacement nobody too
            for (int i = 0; i < 120; i++) {
                assertEquals(200, Http.get(port, "/worker").status());
            }
            String status = c.awaitStatus(s -> Cluster.field(s, "recycled") >= 1
                            && Cluster.states(s).stream().allMatch("READY"::equals)
                            && Cluster.pidsIn(s, "READY").size() == 2,
                    Duration.ofSeconds(60), "a recycle");
            for (long w : Cluster.pidsIn(status, "READY")) {
                assertNobody(w);
            }
        } finally {
            TestFiles.deleteTree(runtime.getParent());
        }
    }

    @Test
    void asNobodyNeitherSocketCanBeReachedNorAClaimsFileRead() throws Exception {
        Path dir = TestFiles.dir("jcluster-priv");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path runtime = dir.resolve("run");
        // a probe nobody can run: the test's class, copied where nobody reads it
        Path classes = dir.resolve("classes/jcluster/master/it");
        Files.createDirectories(classes);
        Files.copy(Path.of("target/test-classes/jcluster/master/it/UnixConnect.class"),
                classes.resolve("UnixConnect.class"));
        for (Path p = classes; !p.equals(dir); p = p.getParent()) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path jar = Files.copy(Cluster.JAR, dir.resolve("master.jar"));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        try (Cluster c = Cluster.startAt(Cluster.freePort(), runtime, "--workers=1", "--user=nobody")) {
            for (String socket : new String[] {"handoff.sock", "control.sock"}) {
                CliIT.Result r = asNobody(Cluster.javaBinary(), "-XX:-UsePerfData", "-cp",
                        dir.resolve("classes").toString(), "jcluster.master.it.UnixConnect",
                        runtime.resolve(socket).toString());
                assertEquals(13, r.code(), socket + ": " + r.out() + r.err());
                assertTrue(r.out().contains("Permission denied"), r.out());
            }
            CliIT.Result status = CliIT.run(AS_NOBODY, jar, "status", "--runtime-dir=" + runtime);
            CliIT.assertOneLineError(status, 1, "permission denied");
            try (Stream<Path> files = Files.list(runtime)) {
                List<Path> claims = files.filter(f -> f.getFileName().toString().startsWith("claims-")).toList();
                assertFalse(claims.isEmpty());
                for (Path f : claims) {
                    CliIT.Result cat = asNobody("cat", f.toString());
                    assertNotEquals(0, cat.code(), "nobody read " + f);
                    assertTrue(cat.err().contains("Permission denied"), cat.err());
                }
            }
            // the probe itself connects where it may: it is not refused for another reason
            assertEquals(0, run(Cluster.javaBinary(), "-XX:-UsePerfData", "-cp", dir.resolve("classes").toString(),
                    "jcluster.master.it.UnixConnect", runtime.resolve("control.sock").toString()).code());
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    /**
     * Every socket the master and its workers hold, from /proc: what listens or is bound for IP is the port (all
     * addresses, as --host says) and the admin port on loopback, nothing else, no UDP at all; the Unix sockets that
     * listen are the two in the private runtime directory, and none has an abstract name (those have no permissions).
     */
    @Test
    void nothingListensButThePortAndTheAdminPortOnLoopback() throws Exception {
        int admin = Cluster.freePort();
        try (Cluster c = Cluster.start("--workers=2", "--admin-port=" + admin)) {
            Set<String> inodes = new HashSet<>();
            List<Long> pids = new ArrayList<>(c.workerPids());
            pids.add(c.pid());
            for (long pid : pids) {
                inodes.addAll(Cluster.socketInodes(pid));
            }
            Set<String> listening = Cluster.listeningAmong(inodes);
            String port = String.format("%04X", c.port);
            String adminPort = String.format("%04X", admin);
            // Netty's sockets are dual-stack: 127.0.0.1 may show as ::ffff:127.0.0.1 in tcp6, loopback all the same
            Set<String> normalized = new HashSet<>();
            for (String l : listening) {
                normalized.add(l.replace("tcp6 0000000000000000FFFF0000", "tcp "));
            }
            assertEquals(Set.of("tcp 00000000:" + port, "tcp 0100007F:" + adminPort), normalized,
                    "the port on every address (--host 0.0.0.0) and the admin port on loopback only: " + listening);
            Set<String> unixListening = new HashSet<>();
            for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 7 && inodes.contains(f[6])) {
                    String path = f.length > 7 ? f[7] : "";
                    assertFalse(path.startsWith("@"), "an abstract socket, open to anyone: " + line);
                    if (f[3].equals("00010000")) {
                        unixListening.add(path);
                    }
                }
            }
            assertEquals(Set.of(c.runtimeDir.resolve("handoff.sock").toString(),
                    c.runtimeDir.resolve("control.sock").toString()), unixListening);
        }
    }

    static CliIT.Result asNobody(String... cmd) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(AS_NOBODY);
        full.addAll(List.of(cmd));
        return run(full.toArray(String[]::new));
    }

    static CliIT.Result run(String... cmd) throws IOException, InterruptedException {
        return AccessLogIT.run(cmd);
    }

    @Test
    void workersThatWouldRunAsRootAreRefusedUnlessAllowed() throws Exception {
        CliIT.assertOneLineError(CliIT.run("--workers=1", "--port=" + Cluster.freePort(), "--user=root"), 2,
                "the workers would run as root", "--user USER", "--allow-root");
        CliIT.assertOneLineError(CliIT.run("--user=nosuchuser"), 2, "--user nosuchuser: no such user");
        CliIT.assertOneLineError(CliIT.run("--user=nobody", "--group=nosuchgroup"), 2,
                "--group nosuchgroup: no such group");
        CliIT.assertOneLineError(CliIT.run("--group=nogroup"), 2, "--group needs --user");
    }

    @Test
    void theWorkersOpenFileLimitIsRaisedAndTheMastersSoftLimitIsItsHardOne() throws Exception {
        try (Cluster c = Cluster.start("--workers=1", "--worker-rlimit-nofile=4321")) {
            String master = openFiles(c.pid());
            String[] m = master.split("\\s+");
            assertEquals(m[0], m[1], "the master's soft limit is its hard limit: " + master);
            String worker = openFiles(c.workerPids().get(0));
            assertEquals("4321 " + m[1], worker, "the worker's soft limit as asked, its hard one the master's");
        }
        if (!capable(24)) {
            // without CAP_SYS_RESOURCE (root in a container, often) a limit above the hard one is a usage error
            CliIT.assertOneLineError(CliIT.run("--worker-rlimit-nofile=" + (1 << 30)), 2,
                    "--worker-rlimit-nofile 1073741824 is above the hard limit");
        }
    }

    /** This test's JVM holds the capability (the master it starts would too). */
    static boolean capable(int cap) throws IOException {
        String line = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("CapEff:"))
                .findFirst().orElseThrow();
        return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << cap)) != 0;
    }

    /** "soft hard" of Max open files. */
    static String openFiles(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/limits"), StandardCharsets.UTF_8)) {
            if (line.startsWith("Max open files")) {
                String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                return f[0] + " " + f[1];
            }
        }
        throw new IllegalStateException("no open-file limit for " + pid);
    }
}
