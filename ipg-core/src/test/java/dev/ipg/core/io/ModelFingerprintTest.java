package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.testutil.PyTorchReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The weights' content hash against Python's hashlib, and its cache keyed by the file's version. */
class ModelFingerprintTest {

    @TempDir
    Path dir;

    /** sha256(sha256(chunk_0) || ... || sha256(chunk_k) || le64(size)) by Python's hashlib. */
    static String pythonHash(Path f) throws Exception {
        String script = "import hashlib, struct, sys\n"
                + "d = hashlib.sha256(); n = 0\n"
                + "with open(sys.argv[1], 'rb') as f:\n"
                + "    while True:\n"
                + "        b = f.read(64 << 20)\n"
                + "        if not b and n > 0: break\n"
                + "        d.update(hashlib.sha256(b).digest()); n += len(b)\n"
                + "        if not b: break\n"
                + "d.update(struct.pack('<q', n)); print(d.hexdigest())\n";
        Process p = new ProcessBuilder(PyTorchReference.python().toString(), "-c", script, f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        return out;
    }

    static Path random(Path f, long size, long seed) throws IOException {
        byte[] b = new byte[(int) size];
        new Random(seed).nextBytes(b);
        return Files.write(f, b);
    }

    @Test
    void theFileHashIsThatOfPythonOverChunkDigests() throws Exception {
        Path empty = Files.write(dir.resolve("empty.bin"), new byte[0]);
        Path small = random(dir.resolve("small.bin"), 1000, 1);
        Path twoChunks = random(dir.resolve("two.bin"), ModelFingerprint.CHUNK + 12345L, 2);
        for (Path f : List.of(empty, small, twoChunks)) {
            assertEquals(pythonHash(f), ModelFingerprint.fileHash(f), f.getFileName().toString());
        }
    }

    @Test
    void theCacheIsUsedUntilTheFileChangesEvenWithTheSameSizeAndTime() throws Exception {
        Path w = random(dir.resolve("model.safetensors"), 5000, 3);
        String real = ModelFingerprint.fileHash(w);
        assertEquals(Map.of("model.safetensors", real), ModelFingerprint.weightsHash(dir, List.of(w), true));
        Path cache = dir.resolve(ModelFingerprint.CACHE_FILE);
        assertTrue(Files.exists(cache), "the cache is written beside a writable model");
        // a planted hash in the cache is returned: the cache is read, the file not hashed again
        ObjectNode c = Json.readObject(cache);
        ((ObjectNode) c.get("files").get("model.safetensors")).put("sha256", "0".repeat(64));
        Json.write(cache, c);
        assertEquals("0".repeat(64), ModelFingerprint.weightsHash(dir, List.of(w), true).get("model.safetensors"));
        assertEquals(real, ModelFingerprint.weightsHash(dir, List.of(w), false).get("model.safetensors"));
        // other weights of the same size moved into place with the old modification time: hashed again
        var mtime = Files.getLastModifiedTime(w);
        Path other = random(dir.resolve("other.bin"), 5000, 4);
        Files.setLastModifiedTime(other, mtime);
        Files.move(other, w, StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(w, mtime);
        String swapped = ModelFingerprint.weightsHash(dir, List.of(w), true).get("model.safetensors");
        assertEquals(ModelFingerprint.fileHash(w), swapped);
        assertNotEquals(real, swapped);
        // a damaged cache is ignored
        Files.writeString(cache, "{ not json");
        assertEquals(swapped, ModelFingerprint.weightsHash(dir, List.of(w), true).get("model.safetensors"));
    }

    @Test
    void theUserCacheIsTheFallbackForAModelDirectoryThatIsNotWritable() {
        Path[] where = ModelFingerprint.cacheFiles(dir);
        assertEquals(dir.resolve(ModelFingerprint.CACHE_FILE), where[0]);
        assertEquals(2, where.length);
        assertTrue(where[1].startsWith(ModelFingerprint.userCacheDir()), where[1].toString());
        // another directory gets another cache file
        Path[] other = ModelFingerprint.cacheFiles(dir.resolve("x"));
        assertEquals(1, other.length, "a directory that cannot be written gets the user cache only");
        assertNotEquals(where[1], other[0]);
    }
}
