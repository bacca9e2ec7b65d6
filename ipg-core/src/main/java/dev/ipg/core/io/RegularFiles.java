package dev.ipg.core.io;

import dev.ipg.core.IpgException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The check every model file passes before it is opened: a path that exists must be a regular
 * file (or a symbolic link to one, as in the Hugging Face cache). Opening a FIFO for reading
 * would block until some other process writes to it, and a device or directory is never a
 * checkpoint.
 */
public final class RegularFiles {

    private RegularFiles() {
    }

    /**
     * Returns normally when {@code file} is a regular file or does not exist (the caller reports
     * a missing file in its own words).
     *
     * @throws IpgException naming the file when it exists and is something else
     */
    public static void require(Path file) {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new IpgException(file + ": not a regular file (it is " + kind(file) + ")");
        }
    }

    /** What a non-regular path is, for messages. */
    static String kind(Path file) {
        if (Files.isDirectory(file)) {
            return "a directory";
        }
        try {
            Object type = Files.getAttribute(file, "unix:mode");
            if (type instanceof Integer mode) {
                return switch (mode & 0xF000) {
                    case 0x1000 -> "a FIFO";
                    case 0x2000 -> "a character device";
                    case 0x6000 -> "a block device";
                    case 0xC000 -> "a socket";
                    default -> "not a plain file";
                };
            }
        } catch (java.io.IOException | UnsupportedOperationException | IllegalArgumentException | SecurityException e) {
            // no unix view: fall through
        }
        return "not a plain file";
    }
}
