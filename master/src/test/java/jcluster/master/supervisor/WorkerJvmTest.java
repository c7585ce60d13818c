package jcluster.master.supervisor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(10)
class WorkerJvmTest {
    @Test
    void nativeHeapTrimmingOnlyWhereTheJvmHasIt() {
        assertTrue(WorkerJvm.canTrimNativeHeap(Runtime.Version.parse("17.0.9")));
        assertTrue(WorkerJvm.canTrimNativeHeap(Runtime.Version.parse("17.0.15+6")));
        assertFalse(WorkerJvm.canTrimNativeHeap(Runtime.Version.parse("17.0.8")));
        assertFalse(WorkerJvm.canTrimNativeHeap(Runtime.Version.parse("18.0.2")));
        assertFalse(WorkerJvm.canTrimNativeHeap(Runtime.Version.parse("21")));
        assertTrue(WorkerJvm.canTrimNativeHeap(Runtime.Version.parse("21.0.1")));
        assertTrue(WorkerJvm.canTrimNativeHeap(Runtime.Version.parse("23")));
    }

    @Test
    void defaultsEndAnOutOfMemoryError() {
        assertTrue(WorkerJvm.defaultOptions().contains("-XX:+ExitOnOutOfMemoryError"));
    }
}
