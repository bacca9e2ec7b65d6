package dev.ipg.core.io;

import dev.ipg.core.IpgException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file atomically: the content goes to a hidden temporary file in the target's
 * directory, is forced to disk, and is then renamed over the target with
 * {@link StandardCopyOption#ATOMIC_MOVE}. Readers see the old file or the complete new one;
 * on any failure the temporary file is deleted and the target is untouched.
 */
public final class AtomicFiles {

    /** Writes the content of a file to an open channel. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} atomically with {@code body}.
     *
     * @throws IpgException if the file cannot be written (missing directory, no permission, disk full)
     */
    public static void write(Path target, Body body) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        String suffix = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        Path tmp = dir.resolve("." + abs.getFileName() + "." + suffix + ".tmp");
        boolean moved = false;
        try {
            // CREATE_NEW: default permissions (umask), unlike Files.createTempFile's 0600.
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
        } catch (NoSuchFileException e) {
            throw new IpgException("cannot write " + target + ": directory " + dir + " does not exist", e);
        } catch (AccessDeniedException e) {
            throw new IpgException("cannot write " + target + ": permission denied", e);
        } catch (IOException e) {
            throw new IpgException("cannot write " + target + ": " + Json.oneLine(e), e);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original failure is the one to report
                }
            }
        }
    }

    /** Writes all remaining bytes of {@code buf}. */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
