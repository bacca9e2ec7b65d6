package dev.ipg.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.KVCache;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sizes from the user are bounded before anything is allocated: the budget is clamped to the context. */
class GenerationBoundsTest {

    @TempDir
    Path tmp;

    @Test
    void theLargestTokenBudgetIsClampedToTheContext() {
        Path dir = RandomCheckpoint.write(tmp.resolve("m"), RandomCheckpoint.Spec.tiny(Family.LLAMA), 11);
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool)) {
            int[] prompt = {3, 8, 5};
            var opt = new Generator.Options(SamplingParams.greedy(), Integer.MAX_VALUE, Set.of(), List.of(), null);
            var c = new Generator(m).generate(List.of(prompt, prompt), opt, Hooks.none(), null);
            for (var one : c) {
                assertEquals(Generator.Finish.CONTEXT, one.finish());
                assertEquals(m.config().maxPositions(), prompt.length + one.tokens().length);
            }
        }
    }

    @Test
    void aCacheCapacityBeyondOneArrayIsLowered() {
        Path dir = RandomCheckpoint.write(tmp.resolve("c"), RandomCheckpoint.Spec.tiny(Family.QWEN3), 2);
        try (Parallel pool = Parallel.serial(); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool)) {
            int row = m.config().numKvHeads() * m.config().headDim();
            KVCache c = new KVCache(m.config(), 2, Integer.MAX_VALUE);
            assertEquals(KVCache.MAX_ARRAY / row, c.capacity());
            assertTrue((long) c.capacity() * row <= KVCache.MAX_ARRAY);
            assertEquals(m.config().maxPositions(), m.newCache(1, Integer.MAX_VALUE).capacity());
        }
    }
}
