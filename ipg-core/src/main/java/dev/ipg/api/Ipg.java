package dev.ipg.api;

import dev.ipg.core.IpgException;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;

/**
 * Entry point: {@code try (Model m = Ipg.load(Path.of("models/ipg-demo"))) { ... }}.
 *
 * <p>The engine uses the incubating Vector API and the foreign-memory API, so the JVM that runs a
 * program using ipg needs {@value #JVM_FLAGS} (and {@code --add-modules jdk.incubator.vector} when
 * compiling). Without the first flag classes of {@code jdk.incubator.vector} are not found;
 * without the second the JVM warns on every native access (and later JDKs refuse it).
 */
public final class Ipg {

    /** The JVM flags every program using ipg needs. */
    public static final String JVM_FLAGS = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

    private Ipg() {
    }

    /**
     * Loads a Hugging Face model directory ({@code config.json}, safetensors weights, tokenizer
     * files) with one worker thread per available processor.
     *
     * @param modelDir the checkpoint directory
     * @return the loaded model; close it to release its threads and memory mappings
     * @throws dev.ipg.core.IpgException with a one-line message when the checkpoint is unusable
     */
    public static Model load(Path modelDir) {
        return load(modelDir, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Loads a model with {@code threads} worker threads (results do not depend on the count).
     *
     * @param modelDir the checkpoint directory
     * @param threads  worker threads, at least 1
     * @return the loaded model
     */
    public static Model load(Path modelDir, int threads) {
        if (threads < 1) {
            throw new IpgException("threads must be >= 1, got " + threads);
        }
        return Model.open(modelDir, Parallel.of(threads));
    }
}
