package jcluster.master;

/**
 * The JVM options workers get unless --worker-jvm-opts replaces them, chosen for a small event-loop process and
 * measured (bench/run.sh's footprint run): the serial collector; a heap that starts at 16 MiB with an 8 MiB young
 * generation, so the pages a worker touches stay few (with the JVM's defaults on a large machine, the young
 * generation alone grew a worker to about 160 MiB of RSS under load; these keep it near 85 MiB at the same
 * throughput) and may grow to 256 MiB for the app; the C heap trimmed every second where the JVM can (17.0.9+,
 * 21.0.1+, 22+: about 8 MiB less after load); an OutOfMemoryError ends the process, so the master respawns it;
 * and Netty's buffer leak detection is off. Even sampling one buffer in 128 (Netty's default), it wraps every buffer
 * and records a stack trace per sample: measured, it was a fifth of a worker's user CPU per keep-alive request
 * (3.8 against 2.9 µs). The test suite runs workers with it at {@code paranoid} and fails on any leak report; a user
 * who suspects an app of leaking passes these options with {@code -Dio.netty.leakDetection.level=simple} instead.
 * {@code main} prints them, for scripts that start a JVM like a worker (bench/run.sh).
 */
final class WorkerJvm {
    private WorkerJvm() {
    }

    static String defaultOptions() {
        StringBuilder sb = new StringBuilder("-XX:+UseSerialGC -Xms16m -Xmn8m -Xmx256m");
        if (canTrimNativeHeap(Runtime.version())) {
            sb.append(" -XX:+UnlockExperimentalVMOptions -XX:TrimNativeHeapInterval=1000");
        }
        return sb.append(" -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled").toString();
    }

    /** The JVMs that know -XX:TrimNativeHeapInterval (JDK-8293114 and its backports). */
    static boolean canTrimNativeHeap(Runtime.Version v) {
        return v.feature() >= 22 || (v.feature() == 21 && v.update() >= 1) || (v.feature() == 17 && v.update() >= 9);
    }

    public static void main(String[] args) {
        System.out.println(defaultOptions());
    }
}
