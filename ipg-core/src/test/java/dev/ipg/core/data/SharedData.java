package dev.ipg.core.data;

import dev.ipg.core.testutil.PyTorchReference;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shared benchmark files under {@code ../shared/data} next to the repository root. */
final class SharedData {

    private SharedData() {}

    /** {@code ../shared/data/<relative>}, failing (never skipping) when it is missing. */
    static Path file(String relative) {
        var file = PyTorchReference.repositoryRoot().resolve("../shared/data").normalize().resolve(relative);
        if (!Files.isRegularFile(file)) {
            throw new AssertionError("missing shared data file " + file
                    + ": these tests need ../shared/data next to the repository root");
        }
        return file;
    }
}
