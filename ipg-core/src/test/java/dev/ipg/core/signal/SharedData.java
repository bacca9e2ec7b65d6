package dev.ipg.core.signal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.ipg.core.testutil.PyTorchReference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The shared benchmark files under {@code ../shared/data} next to the repository root. */
final class SharedData {

    private SharedData() {}

    /** {@code ../shared/data/<relative>}, failing (never skipping) when it is missing. */
    static Path file(String relative) {
        var dir = PyTorchReference.repositoryRoot().resolve("../shared/data").normalize();
        var file = dir.resolve(relative);
        if (!Files.isRegularFile(file)) {
            throw new AssertionError("missing shared data file " + file
                    + ": these tests need ../shared/data next to the repository root");
        }
        return file;
    }

    /** Every line of {@code ../shared/data/<relative>} as JSON. */
    static List<JsonNode> lines(String relative) {
        var mapper = JsonMapper.builder().build();
        var out = new ArrayList<JsonNode>();
        try {
            for (String line : Files.readAllLines(file(relative))) {
                if (!line.isBlank()) {
                    out.add(mapper.readTree(line));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
