package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.BrokenCheckpoints;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A FIFO (or a directory) in place of a model file is refused before it is opened: opening a FIFO
 * for reading would block until some process writes to it.
 */
class NonRegularModelFilesTest {

    @TempDir
    Path tmp;

    static void mkfifo(Path p) throws IOException, InterruptedException {
        Files.deleteIfExists(p);
        Process pr = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
        String out = new String(pr.getInputStream().readAllBytes());
        if (pr.waitFor() != 0 || !Files.exists(p)) {
            throw new AssertionError("mkfifo " + p + " failed: " + out);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
            "model.safetensors.index.json"})
    void aFifoIsRefusedWithoutBlocking(String file) throws Exception {
        Path dir = BrokenCheckpoints.copy(tmp.resolve("m"));
        mkfifo(dir.resolve(file));
        String msg = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (Parallel pool = Parallel.serial()) {
                return assertThrows(IpgException.class, () -> {
                    Transformer.load(dir, KernelsProvider.lookup(), pool).close();
                    Tokenizer.load(dir).close();
                }).getMessage();
            }
        });
        assertEquals(dir.resolve(file) + ": not a regular file" + (file.startsWith("tokenizer") ? "" : " (it is a FIFO)"), msg);
    }

    @Test
    void aDirectoryInPlaceOfTheWeightsIsRefused() throws IOException {
        Path dir = BrokenCheckpoints.copy(tmp.resolve("d"));
        Files.delete(dir.resolve("model.safetensors"));
        Files.createDirectory(dir.resolve("model.safetensors"));
        IpgException e = assertThrows(IpgException.class, () -> Checkpoint.open(dir).close());
        assertEquals(dir.resolve("model.safetensors") + ": not a regular file (it is a directory)", e.getMessage());
        Files.delete(dir.resolve("config.json"));
        Files.createDirectory(dir.resolve("config.json"));
        assertThrows(IpgException.class, () -> ModelConfig.load(dir));
    }

    @Test
    void aSymbolicLinkToARegularFileIsRead() throws IOException {
        Path dir = tmp.resolve("l");
        Files.createDirectories(dir);
        Path demo = BrokenCheckpoints.demo();
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}) {
            Files.createSymbolicLink(dir.resolve(f), demo.resolve(f).toAbsolutePath());
        }
        try (Parallel pool = Parallel.serial(); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(dir); Tokenizer original = Tokenizer.load(demo)) {
            assertEquals(4, m.config().numLayers());
            assertEquals(original.vocabSize(), tok.vocabSize());
            assertEquals(original.encode("12+7", false).length, tok.encode("12+7", false).length);
        }
    }
}
