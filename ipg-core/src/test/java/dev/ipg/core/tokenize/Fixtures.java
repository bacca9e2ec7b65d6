package dev.ipg.core.tokenize;

import java.nio.file.Files;
import java.nio.file.Path;

/** Shared test data: the real Qwen3 tokenizer files, kept beside the repository in ../shared. */
final class Fixtures {

    private Fixtures() {}

    /** The repository root: the nearest directory above the working directory holding {@code mvnw}. */
    static Path repoRoot() {
        Path start = Path.of("").toAbsolutePath();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("mvnw"))) {
                return p;
            }
        }
        throw new IllegalStateException("no directory containing mvnw above " + start);
    }

    /** {@code ../shared/fixtures/tokenizers/qwen3} relative to the repository root; fails if absent. */
    static Path qwen3() {
        Path dir = repoRoot().resolve("../shared/fixtures/tokenizers/qwen3").normalize();
        if (!Files.isRegularFile(dir.resolve("tokenizer.json")) || !Files.isRegularFile(dir.resolve("tokenizer_config.json"))) {
            throw new IllegalStateException("test fixture missing: " + dir
                    + " must hold Qwen3's tokenizer.json and tokenizer_config.json");
        }
        return dir;
    }
}
