package jcluster.common;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The claim protocol of a revocable handoff: exactly one worker ever reads a connection, though the master may
 * take back one that a stalled worker has not picked up and give it to another.
 *
 * <p>A small file shared by the master and one worker (in the private runtime directory, mode 0600), mapped by
 * both: a ring of {@link #SLOTS} 8-byte slots. The n-th connection the master hands to this worker (n from 1, in
 * the order they travel on the fd socket, which is the order the worker reads them) owns slot {@code n % SLOTS},
 * whose value is {@code n << 2 | state}:
 * <ul>
 *   <li>the master writes {@code PENDING} before it sends the fd ({@link #offer});</li>
 *   <li>the worker, on reading the fd, moves {@code PENDING → CLAIMED} with a compare-and-set and serves the
 *   connection only if that succeeded ({@link #claim}); otherwise it closes its copy unread;</li>
 *   <li>the master, when the worker has not acknowledged in time, moves {@code PENDING → REVOKED} with a
 *   compare-and-set and hands the connection to another worker only if that succeeded ({@link #revoke}).</li>
 * </ul>
 * The compare-and-set is one atomic instruction on memory both processes map, so the hot path costs no system
 * call. A slot is reused only after its connection was acknowledged (the master holds at most {@link #SLOTS}
 * unacknowledged connections per worker); the sequence number in the value makes a late claim of an old
 * connection fail instead of matching a newer one.
 */
public final class ClaimSlots implements AutoCloseable {
    /** Slots per worker, and so the most connections a worker may hold unacknowledged. */
    public static final int SLOTS = 128;
    private static final long PENDING = 1;
    private static final long CLAIMED = 2;
    private static final long REVOKED = 3;
    private static final VarHandle SLOT = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private final Path path;
    private final FileChannel file;
    private final MappedByteBuffer map;

    private ClaimSlots(Path path) throws IOException {
        this.path = path;
        this.file = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            this.map = file.map(FileChannel.MapMode.READ_WRITE, 0, (long) SLOTS * Long.BYTES);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * The master's side: a new file only this user can open, its slots zero (mapping grows it to size).
     * @throws java.nio.file.FileAlreadyExistsException the file is there already: another master's worker's
     */
    public static ClaimSlots create(Path path) throws IOException {
        Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return new ClaimSlots(path);
    }

    /** The worker's side: the file the master made for it. */
    public static ClaimSlots open(Path path) throws IOException {
        return new ClaimSlots(path);
    }

    private static int index(long seq) {
        return (int) (seq % SLOTS) * Long.BYTES;
    }

    /** Master: connection {@code seq} is about to be sent. */
    public void offer(long seq) {
        SLOT.setRelease(map, index(seq), seq << 2 | PENDING);
    }

    /** Worker: true if connection {@code seq} is this worker's to serve; false if the master took it back. */
    public boolean claim(long seq) {
        return SLOT.compareAndSet(map, index(seq), seq << 2 | PENDING, seq << 2 | CLAIMED);
    }

    /** Master: true if connection {@code seq} was taken back before the worker claimed it. */
    public boolean revoke(long seq) {
        return SLOT.compareAndSet(map, index(seq), seq << 2 | PENDING, seq << 2 | REVOKED);
    }

    @Override
    public void close() throws IOException {
        file.close();
    }

    /** Master: closes the slots and removes their file, once the worker is gone. */
    public void delete() throws IOException {
        close();
        Files.deleteIfExists(path);
    }
}
