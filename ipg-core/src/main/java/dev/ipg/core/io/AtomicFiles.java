package dev.ipg.core.io;

import dev.ipg.core.IpgException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes a file atomically: the content goes to a hidden temporary file {@code .NAME.<16 hex>.tmp}
 * in the target's directory, is forced to disk, and is then renamed over the target with
 * {@link StandardCopyOption#ATOMIC_MOVE}. Readers see the old file or the complete new one;
 * on any failure the temporary file is deleted and the target is untouched.
 *
 * <p>Targets: a missing path or an existing regular file is written. An existing target that is
 * not a regular file (a device such as {@code /dev/full}, a FIFO, a directory, a socket) is
 * refused, since renaming over it would replace the node itself. A symbolic link is written
 * through: the file it points to is replaced (atomically, in that file's directory) and the link
 * stays; a link to something that is not a regular file, or to nothing, is refused.
 */
public final class AtomicFiles {

    /** The names of this class's temporary files: {@code .NAME.<16 hex digits>.tmp}. */
    private static final Pattern TEMPORARY = Pattern.compile("\\..+\\.[0-9a-f]{16}\\.tmp");

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
     * @throws IpgException if the file cannot be written (missing directory, no permission, disk
     *     full, a target that is not a regular file)
     */
    public static void write(Path target, Body body) {
        Path abs = destination(target);
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
            throw new IpgException(target + ": cannot write: directory " + dir + " does not exist", e);
        } catch (IOException e) {
            throw new IpgException(target + ": cannot write: " + reason(e), e);
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

    /**
     * The absolute path that {@link #write} replaces for {@code target}: itself, or the file a
     * symbolic link points to.
     *
     * @throws IpgException if the target exists and is not a regular file, or is a dangling link
     */
    public static Path destination(Path target) {
        Path abs = target.toAbsolutePath();
        if (Files.isSymbolicLink(abs)) {
            Path real;
            try {
                real = abs.toRealPath();
            } catch (IOException e) {
                throw new IpgException(target + ": is a symbolic link to nothing that exists; refusing to write through it");
            }
            if (!Files.isRegularFile(real)) {
                throw new IpgException(target + ": is a symbolic link to " + real + ", which is " + kind(real)
                        + "; refusing to replace it");
            }
            return real;
        }
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new IpgException(target + ": exists and is " + kind(abs) + ", not a regular file; refusing to replace it");
        }
        return abs;
    }

    /**
     * Removes the directory tree (or file) {@code p}, best effort: whatever cannot be removed
     * stays, and nothing is thrown (for temporary work directories and half-built outputs).
     */
    public static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(x);
                } catch (IOException ignored) {
                    // best effort: it stays
                }
            }
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: gone already, or unreadable
        }
    }

    /**
     * Deletes the temporary files of {@link #write} in {@code dir} (not in its subdirectories):
     * left behind by a process that was killed before it could clean up. Only call it when no
     * other process writes into {@code dir} (under a {@link RunLock}).
     *
     * @return the number of files deleted
     */
    public static int removeStaleTemporaries(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int n = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
                p -> TEMPORARY.matcher(p.getFileName().toString()).matches())) {
            for (Path p : files) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.delete(p);
                    n++;
                }
            }
        } catch (IOException e) {
            throw new IpgException(dir + ": cannot remove stale temporary files: " + reason(e), e);
        }
        return n;
    }

    /** Writes all remaining bytes of {@code buf}. */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /**
     * Creates {@code dir} and its parents if needed.
     *
     * @param what how the directory is named in messages ("run directory")
     * @throws IpgException with the reason (a path component is a file, no permission, ...)
     */
    public static void createDirectories(Path dir, String what) {
        if (Files.isDirectory(dir)) {
            return;
        }
        if (Files.exists(dir)) {
            throw new IpgException(dir + ": cannot create " + what + ": it exists and is " + kind(dir) + ", not a directory");
        }
        try {
            Files.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw new IpgException(dir + ": cannot create " + what + ": " + e.getFile() + " exists and is not a directory", e);
        } catch (IOException e) {
            throw new IpgException(dir + ": cannot create " + what + ": " + reason(e), e);
        }
    }

    /**
     * Why an I/O operation failed, in words, without repeating the path: "permission denied",
     * "does not exist", "a parent is not a directory", the system's reason, ...
     */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "does not exist";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof FileSystemException f) {
            String r = f.getReason();
            if (r != null && !r.isBlank()) {
                return Json.oneLine(lowerFirst(r));
            }
            return e.getClass().getSimpleName().replace("Exception", "").toLowerCase(java.util.Locale.ROOT);
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : Json.oneLine(lowerFirst(m));
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() || s.length() > 1 && Character.isUpperCase(s.charAt(1)) ? s
                : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    /** What kind of file {@code p} is, for messages: "a directory", "a FIFO or device", ... */
    static String kind(Path p) {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            return "a directory";
        }
        if (Files.isSymbolicLink(p)) {
            return "a symbolic link";
        }
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return "a regular file";
        }
        try {
            var attrs = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (attrs.isOther()) {
                Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                if (mode instanceof Integer m) {
                    return switch (m & 0170000) {
                        case 0010000 -> "a FIFO";
                        case 0020000 -> "a character device";
                        case 0060000 -> "a block device";
                        case 0140000 -> "a socket";
                        default -> "a special file";
                    };
                }
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // fall through
        }
        return "a special file";
    }
}
