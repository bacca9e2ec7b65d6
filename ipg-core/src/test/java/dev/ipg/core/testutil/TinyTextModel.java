package dev.ipg.core.testutil;

import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A tiny random Qwen3 checkpoint (hidden 16, one block, context 96) with the real Qwen3
 * tokenizer from {@code ../shared/fixtures/tokenizers/qwen3}, for tests that need text. Fails
 * (never skips) when the shared tokenizer is missing.
 */
public final class TinyTextModel {

    private TinyTextModel() {
    }

    /** Hidden size of the model. */
    public static final int HIDDEN = 16;
    /** MLP width of the model. */
    public static final int INTERMEDIATE = 32;

    /** Writes the model into {@code dir} and returns {@code dir}. */
    public static Path write(Path dir, long seed) {
        Path tokDir = PyTorchReference.repositoryRoot().resolveSibling("shared").resolve("fixtures/tokenizers/qwen3");
        if (!Files.exists(tokDir.resolve("tokenizer.json"))) {
            throw new AssertionError("missing " + tokDir + " (../shared next to the repository)");
        }
        RandomCheckpoint.write(dir, new RandomCheckpoint.Spec(Family.QWEN3, HIDDEN, 1, 2, 1, 8, INTERMEDIATE, 151680, 96, DType.F32,
                true, false, false), seed);
        try {
            Files.copy(tokDir.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
            Files.copy(tokDir.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }
}
