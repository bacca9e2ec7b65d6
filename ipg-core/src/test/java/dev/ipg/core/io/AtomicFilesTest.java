package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Targets that are not regular files, symbolic links, stale temporaries, and the reasons in messages. */
class AtomicFilesTest {

    @TempDir
    Path dir;

    static void write(Path target, String text) {
        AtomicFiles.write(target, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))));
    }

    static Path fifo(Path p) throws IOException, InterruptedException {
        Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        if (!mk.waitFor(10, TimeUnit.SECONDS) || mk.exitValue() != 0) {
            throw new AssertionError("mkfifo " + p + " failed");
        }
        assertTrue(Files.exists(p) && !Files.isRegularFile(p), "mkfifo made no FIFO");
        return p;
    }

    @Test
    void aFifoTargetIsRefusedAndLeftAsItWas() throws Exception {
        Path f = fifo(dir.resolve("out.safetensors"));
        var e = assertThrows(IpgException.class, () -> write(f, "data"));
        assertEquals(f + ": exists and is a FIFO, not a regular file; refusing to replace it", e.getMessage());
        assertFalse(Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS), "the FIFO was replaced by a regular file");
        assertEquals("p", kind(f));
        assertEquals(List.of(f), list(dir), "no temporary file left behind");
    }

    @Test
    void aDirectoryTargetIsRefused() throws IOException {
        Path d = Files.createDirectory(dir.resolve("sub"));
        var e = assertThrows(IpgException.class, () -> write(d, "data"));
        assertTrue(e.getMessage().startsWith(d + ": exists and is a directory"), e.getMessage());
        assertTrue(Files.isDirectory(d));
    }

    @Test
    void aSymbolicLinkIsWrittenThroughAndStaysALink() throws IOException {
        Path real = Files.writeString(dir.resolve("real.json"), "old");
        Path link = Files.createSymbolicLink(dir.resolve("link.json"), real.getFileName());
        write(link, "new");
        assertTrue(Files.isSymbolicLink(link), "the link was replaced by a file");
        assertEquals("new", Files.readString(real));
        assertEquals("new", Files.readString(link));
        // a link to a file that does not exist yet is refused, not followed into a new file
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.json"), dir.resolve("nowhere.json"));
        var e = assertThrows(IpgException.class, () -> write(dangling, "x"));
        assertTrue(e.getMessage().startsWith(dangling + ": is a symbolic link to nothing"), e.getMessage());
        assertTrue(Files.isSymbolicLink(dangling));
    }

    @Test
    void aSymbolicLinkToAFifoIsRefused() throws Exception {
        Path f = fifo(dir.resolve("pipe"));
        Path link = Files.createSymbolicLink(dir.resolve("out.json"), f);
        var e = assertThrows(IpgException.class, () -> write(link, "data"));
        assertTrue(e.getMessage().contains("which is a FIFO; refusing to replace it"), e.getMessage());
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("p", kind(f));
    }

    @Test
    void staleTemporariesAreRemovedAndNothingElse() throws IOException {
        Path stale = Files.writeString(dir.resolve(".00005.json.0123456789abcdef.tmp"), "{");
        Path keep1 = Files.writeString(dir.resolve("00005.json"), "{}");
        Path keep2 = Files.writeString(dir.resolve(".notes.tmp"), "mine");
        Path keep3 = Files.writeString(dir.resolve(".x.0123456789ABCDEF.tmp"), "not ours: upper-case hex");
        assertEquals(1, AtomicFiles.removeStaleTemporaries(dir));
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(keep1) && Files.exists(keep2) && Files.exists(keep3));
        assertEquals(0, AtomicFiles.removeStaleTemporaries(dir.resolve("missing")));
    }

    @Test
    void messagesGiveTheReason() throws IOException {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        var e = assertThrows(IpgException.class, () -> AtomicFiles.createDirectories(file, "run directory"));
        assertEquals(file + ": cannot create run directory: it exists and is a regular file, not a directory", e.getMessage());
        Path under = file.resolve("run");
        e = assertThrows(IpgException.class, () -> AtomicFiles.createDirectories(under, "run directory"));
        assertTrue(e.getMessage().startsWith(under + ": cannot create run directory: "), e.getMessage());
        assertFalse(e.getMessage().endsWith(": " + under), "the reason is more than the path again: " + e.getMessage());
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
        e = assertThrows(IpgException.class, () -> write(dir.resolve("none").resolve("x.json"), "x"));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    private static String kind(Path p) throws IOException {
        int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & 0170000) == 0010000 ? "p" : Integer.toOctalString(mode);
    }

    private static List<Path> list(Path d) throws IOException {
        try (var s = Files.list(d)) {
            return s.sorted().toList();
        }
    }

    @Test
    void deleteTreeRemovesNestedFilesAndIgnoresWhatIsNotThere() throws IOException {
        Path root = dir.resolve("tree");
        Files.createDirectories(root.resolve("a/b"));
        Files.writeString(root.resolve("a/b/f.txt"), "x");
        Files.writeString(root.resolve("g.txt"), "y");
        Path outside = dir.resolve("kept.txt");
        Files.writeString(outside, "z");
        Files.createSymbolicLink(root.resolve("link"), outside);
        AtomicFiles.deleteTree(root);
        assertFalse(Files.exists(root, LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.exists(outside), "a symlink's target outside the tree stays");
        AtomicFiles.deleteTree(root); // already gone: nothing thrown
    }
}
