package dev.ipg.core.testutil;

import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The set-up of the tests on random checkpoints (the parity tests against the PyTorch reference
 * and the engine's own consistency checks): a temporary directory for the checkpoints and the
 * reference's outputs, a pool of two threads, and random token ids. Registered once per test
 * class; the directory and the pool live from before its first test to after its last.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final RandomModels models = new RandomModels();
 *
 * Path dir = models.checkpoint("LLAMA", RandomCheckpoint.Spec.tiny(Family.LLAMA), 7);
 * }</pre>
 */
public final class RandomModels implements BeforeAllCallback, AfterAllCallback {

    private Path dir;
    private Parallel pool;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("ipg-random-models-");
        pool = Parallel.of(2);
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        pool.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The pool of two threads every model of the class runs on. */
    public Parallel pool() {
        return pool;
    }

    /** A path {@code name} in the temporary directory (e.g. for the reference's output). */
    public Path file(String name) {
        return dir.resolve(name);
    }

    /** The checkpoint directory {@code name}: {@code spec} with weights drawn from {@code seed}, written the first time it is asked for. */
    public Path checkpoint(String name, RandomCheckpoint.Spec spec, long seed) {
        Path d = dir.resolve(name);
        if (!Files.exists(d.resolve("model.safetensors"))) {
            RandomCheckpoint.write(d, spec, seed);
        }
        return d;
    }

    /** The checkpoint {@code name} (see {@link #checkpoint}) loaded on the pool; the caller closes it. */
    public Transformer load(String name, RandomCheckpoint.Spec spec, long seed) {
        return Transformer.load(checkpoint(name, spec, seed), KernelsProvider.lookup(), pool);
    }

    /** {@code n} token ids drawn uniformly from {@code 0..vocab-1} by {@code new SplittableRandom(seed)}. */
    public static int[] tokens(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(vocab);
        }
        return ids;
    }
}
