package dev.ipg.core.io;

import dev.ipg.core.IpgException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Exclusive use of a run directory by one process: an operating-system lock ({@link
 * FileChannel#tryLock()}) on the file {@code .ipg-lock} in the directory, held until {@link
 * #close()} or the end of the process (the system releases it when the process dies, so a
 * killed run never leaves the directory locked). A second process, or a second run in the same
 * process, is refused at once rather than made to wait.
 */
public final class RunLock implements AutoCloseable {

    /** The lock file's name inside a run directory. */
    public static final String FILE = ".ipg-lock";

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code dir} (which must exist).
     *
     * @throws IpgException if another run holds the directory or the lock file cannot be opened
     */
    public static RunLock acquire(Path dir) {
        Path file = dir.resolve(FILE);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IpgException(file + ": cannot open the run directory's lock file: " + AtomicFiles.reason(e), e);
        }
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this process
        } catch (IOException e) {
            closeQuietly(ch);
            throw new IpgException(file + ": cannot lock the run directory: " + AtomicFiles.reason(e), e);
        }
        if (lock == null) {
            closeQuietly(ch);
            throw new IpgException(dir + ": another ipg process is writing into this run directory; wait for it to finish "
                    + "or use another output directory");
        }
        return new RunLock(ch, lock);
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was written through it
        }
    }
}
