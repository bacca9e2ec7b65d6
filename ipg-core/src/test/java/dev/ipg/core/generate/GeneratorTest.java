package dev.ipg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GeneratorTest {

    @TempDir
    Path tmp;

    Path model() {
        return RandomCheckpoint.write(tmp.resolve("m"), RandomCheckpoint.Spec.tiny(Family.QWEN3), 3);
    }

    static Generator.Options opts(SamplingParams sp, int max) {
        return new Generator.Options(sp, max, Set.of(), List.of(), null);
    }

    @Test
    void greedyGenerationEqualsRepeatedFullForwardArgmax() {
        try (Parallel p = Parallel.of(2); Transformer m = Transformer.load(model(), KernelsProvider.lookup(), p)) {
            int[] prompt = {5, 9, 2};
            var c = new Generator(m).generate(List.of(prompt), opts(SamplingParams.greedy(), 12), Hooks.none(), null).getFirst();
            assertEquals(12, c.tokens().length);
            assertEquals(Generator.Finish.MAX_TOKENS, c.finish());
            // reference: no cache reuse, full forward over the growing sequence each step
            List<Integer> seq = new ArrayList<>(List.of(5, 9, 2));
            int v = m.config().vocabSize();
            for (int step = 0; step < 12; step++) {
                int[] ids = seq.stream().mapToInt(Integer::intValue).toArray();
                float[] l = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length), Hooks.none(), new int[] {ids.length - 1});
                int next = Sampler.argmax(l, 0, v);
                assertEquals(next, c.tokens()[step], "step " + step);
                seq.add(next);
            }
        }
    }

    @Test
    void groupsWithTheirOwnStreamsAndHooksEqualSeparateCalls() {
        Path dir = model();
        SamplingParams sp = new SamplingParams(5.0, 20, 0.95, 0);
        int[] prompt = {4, 1, 6, 2};
        float[] factor = {1f, 0.5f, 1.7f};
        long[] seeds = {11, 12, 13};
        int n = 3;
        Site site = Site.parse("blocks.0.hook_resid_post");
        try (Parallel p = Parallel.of(2); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), p)) {
            int w = site.width(m.config());
            int rows = factor.length * n;
            int[] groups = new int[rows];
            java.util.SplittableRandom[] rng = new java.util.SplittableRandom[rows];
            for (int g = 0; g < factor.length; g++) {
                java.util.SplittableRandom base = new java.util.SplittableRandom(seeds[g]);
                for (int j = 0; j < n; j++) {
                    groups[g * n + j] = g;
                    rng[g * n + j] = base.split();
                }
            }
            Hooks perGroup = Hooks.none().intervene(site, new Intervention.Callback((s, act, width, b) -> {
                for (int r = 0; r < b.rows(); r++) {
                    float f = factor[groups[b.seq()[r]]];
                    for (int i = 0; i < width; i++) {
                        act[r * width + i] *= f;
                    }
                }
            }));
            var together = new Generator(m).generate(java.util.Collections.nCopies(rows, prompt), groups, rng, opts(sp, 12), perGroup, null);
            for (int g = 0; g < factor.length; g++) {
                float[] gamma = new float[w];
                java.util.Arrays.fill(gamma, factor[g]);
                var alone = new Generator(m).generate(java.util.Collections.nCopies(n, prompt),
                        opts(new SamplingParams(5.0, 20, 0.95, seeds[g]), 12), Hooks.none().intervene(site, new Intervention.Scale(gamma)), null);
                for (int j = 0; j < n; j++) {
                    assertArrayEquals(alone.get(j).tokens(), together.get(g * n + j).tokens(), "group " + g + " sample " + j);
                }
            }
        }
    }

    @Test
    void generationStopsWhenPromptAndCompletionFillTheContext() {
        try (Parallel p = Parallel.of(2); Transformer m = Transformer.load(model(), KernelsProvider.lookup(), p)) {
            int ctx = m.config().maxPositions();
            int[] shortPrompt = {5, 9, 2};
            int[] longPrompt = new int[ctx - 1];
            java.util.Arrays.fill(longPrompt, 7);
            var res = new Generator(m).generate(List.of(shortPrompt, longPrompt), opts(new SamplingParams(1.0, 0, 1, 3), 1000),
                    Hooks.none(), null);
            for (var c : res) {
                assertEquals(Generator.Finish.CONTEXT, c.finish());
                assertEquals(ctx, c.prompt().length + c.tokens().length);
                // the whole trajectory can be scored teacher-forced
                int[] all = new int[ctx];
                System.arraycopy(c.prompt(), 0, all, 0, c.prompt().length);
                System.arraycopy(c.tokens(), 0, all, c.prompt().length, c.tokens().length);
                m.forward(Batch.ofSequence(0, 0, all), m.newCache(1, ctx), Hooks.none(), new int[] {ctx - 1});
            }
            int[] full = new int[ctx];
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.ipg.core.IpgException.class,
                    () -> new Generator(m).generate(List.of(full), opts(SamplingParams.greedy(), 1), Hooks.none(), null));
            assertEquals("prompt of " + ctx + " tokens leaves no room in the model's context of " + ctx + " positions", e.getMessage());
        }
    }

    @Test
    void sameSeedSameTokensWhateverThreadsAndBatch() {
        Path dir = model();
        SamplingParams sp = new SamplingParams(5.0, 20, 0.95, 42); // flat enough that samples differ
        int[] a = {1, 2, 3};
        int[] b = {7, 8};
        List<int[]> ref = null;
        for (int threads : new int[] {1, 2}) {
            try (Parallel p = Parallel.of(threads); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), p)) {
                var res = new Generator(m).generate(List.of(a, b, a), opts(sp, 15), Hooks.none(), null);
                List<int[]> toks = res.stream().map(Generator.Completion::tokens).toList();
                if (ref == null) {
                    ref = toks;
                } else {
                    for (int i = 0; i < 3; i++) {
                        assertArrayEquals(ref.get(i), toks.get(i), "sequence " + i + " with " + threads + " threads");
                    }
                }
                // sequence 0 alone (first split of the seed) gives the same tokens as in the batch
                var alone = new Generator(m).generate(List.of(a), opts(sp, 15), Hooks.none(), null).getFirst();
                assertArrayEquals(ref.getFirst(), alone.tokens());
            }
        }
        // two identical prompts draw from different streams
        assertTrue(!java.util.Arrays.equals(ref.get(0), ref.get(2)), "independent samples should differ");
    }

    @Test
    void stopsAtEndOfSequenceAndStopStrings() {
        try (Parallel p = Parallel.of(2); Transformer m = Transformer.load(model(), KernelsProvider.lookup(), p)) {
            int[] prompt = {4, 4, 4};
            int[] free = new Generator(m).generate(List.of(prompt), opts(SamplingParams.greedy(), 10), Hooks.none(), null)
                    .getFirst().tokens();
            int eos = free[3];
            var c = new Generator(m).generate(List.of(prompt),
                    new Generator.Options(SamplingParams.greedy(), 10, Set.of(eos), List.of(), null), Hooks.none(), null).getFirst();
            int firstEos = 0;
            while (free[firstEos] != eos) {
                firstEos++;
            }
            assertEquals(Generator.Finish.EOS, c.finish());
            assertEquals(firstEos + 1, c.tokens().length);
            // a decoder that spells ids as "<id>": stop once "<free[2]>" appears
            var s = new Generator(m).generate(List.of(prompt), new Generator.Options(SamplingParams.greedy(), 10, Set.of(),
                    List.of("<" + free[2] + ">"), ids -> {
                        StringBuilder sb = new StringBuilder();
                        for (int id : ids) {
                            sb.append('<').append(id).append('>');
                        }
                        return sb.toString();
                    }), Hooks.none(), null).getFirst();
            assertEquals(Generator.Finish.STOP_STRING, s.finish());
            assertTrue(s.tokens().length <= 3);
            assertEquals(free[2], s.tokens()[s.tokens().length - 1]);
        }
    }
}
