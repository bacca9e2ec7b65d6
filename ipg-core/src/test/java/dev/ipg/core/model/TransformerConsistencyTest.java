package dev.ipg.core.model;

import static dev.ipg.core.testutil.RandomModels.tokens;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.RandomModels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The engine agrees with itself: KV-cache decode vs full sequence, batched vs alone, thread counts.
 * Passes with different row counts may take different matmul paths (row streaming for a few rows,
 * the blocked kernel for many) whose float32 sums are ordered differently: logits of magnitude up
 * to ~30 then agree to {@link #TOL} (about 1e-6 relative), not bit for bit.
 */
class TransformerConsistencyTest {

    static final float TOL = 5e-5f;

    @RegisterExtension
    static final RandomModels models = new RandomModels();

    static Transformer load(Family f) {
        return models.load(f.name(), RandomCheckpoint.Spec.tiny(f), 7);
    }

    static int[] range(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }

    static float maxAbsDiff(float[] a, int ao, float[] b, int bo, int n) {
        float m = 0;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, Math.abs(a[ao + i] - b[bo + i]));
        }
        return m;
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void incrementalDecodeEqualsFullSequence(Family f) {
        try (Transformer m = load(f)) {
            int v = m.config().vocabSize();
            int[] ids = tokens(20, v, 1);
            float[] full = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, 20), Hooks.none(), range(20));
            KVCache cache = m.newCache(1, 20);
            // prefill 7 tokens, then one at a time
            float[] pre = m.forward(Batch.ofSequence(0, 0, Arrays.copyOf(ids, 7)), cache, Hooks.none(), range(7));
            float dp = maxAbsDiff(full, 0, pre, 0, 7 * v);
            assertTrue(dp < TOL, f + " prefill of 7 differs from the full forward by " + dp);
            for (int t = 7; t < 20; t++) {
                float[] step = m.forward(Batch.ofSequence(0, t, new int[] {ids[t]}), cache, Hooks.none(), new int[] {0});
                float d = maxAbsDiff(full, t * v, step, 0, v);
                assertTrue(d < TOL, f + " position " + t + ": decode differs from full forward by " + d);
            }
            assertEquals(20, cache.length(0));
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void batchedEqualsUnbatched(Family f) {
        try (Transformer m = load(f)) {
            int v = m.config().vocabSize();
            int[] a = tokens(9, v, 2);
            int[] b = tokens(5, v, 3);
            float[] alone = m.forward(Batch.ofSequence(0, 0, a), m.newCache(1, 9), Hooks.none(), new int[] {8});
            float[] aloneB = m.forward(Batch.ofSequence(0, 0, b), m.newCache(1, 5), Hooks.none(), new int[] {4});
            // both sequences in one pass: rows 0..8 are a, rows 9..13 are b
            int[] tok = new int[14];
            int[] seq = new int[14];
            int[] pos = new int[14];
            for (int i = 0; i < 14; i++) {
                tok[i] = i < 9 ? a[i] : b[i - 9];
                seq[i] = i < 9 ? 0 : 1;
                pos[i] = i < 9 ? i : i - 9;
            }
            float[] both = m.forward(new Batch(tok, seq, pos), m.newCache(2, 9), Hooks.none(), new int[] {8, 13});
            assertTrue(maxAbsDiff(alone, 0, both, 0, v) < TOL);
            assertTrue(maxAbsDiff(aloneB, 0, both, v, v) < TOL);
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void resultsDoNotDependOnThreadCount(Family f) {
        Path dir = models.checkpoint("t-" + f.name(), RandomCheckpoint.Spec.tiny(f), 11);
        int[] ids = tokens(13, RandomCheckpoint.Spec.tiny(f).vocab(), 4);
        float[] ref = null;
        for (int threads : new int[] {1, 2, 3}) {
            try (Parallel p = Parallel.of(threads); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), p)) {
                float[] out = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, 13), Hooks.none(), range(13));
                if (ref == null) {
                    ref = out;
                } else {
                    assertArrayEquals(ref, out, threads + " threads");
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void identityScaleChangesNothingAndZeroScaleEqualsZeroing(Family f) {
        try (Transformer m = load(f)) {
            int v = m.config().vocabSize();
            int[] ids = tokens(8, v, 5);
            Site site = new Site(1, Site.Kind.RESID_PRE);
            int d = site.width(m.config());
            float[] plain = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, 8), Hooks.none(), range(8));
            float[] ones = new float[d];
            Arrays.fill(ones, 1f);
            float[] same = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, 8),
                    Hooks.none().intervene(site, new Intervention.Scale(ones)), range(8));
            assertArrayEquals(plain, same);
            float[] zero = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, 8),
                    Hooks.none().intervene(site, new Intervention.Scale(new float[d])), range(8));
            float[] zeroed = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, 8),
                    Hooks.none().intervene(site, new Intervention.Callback((s, act, w, b) -> Arrays.fill(act, 0f))), range(8));
            assertArrayEquals(zeroed, zero);
            assertTrue(maxAbsDiff(plain, 0, zero, 0, plain.length) > 1e-3f, "zeroing the residual must change the logits");
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void cachedSitesHaveTheirWidthAndPositions(Family f) {
        try (Transformer m = load(f)) {
            int[] ids = tokens(6, m.config().vocabSize(), 6);
            ActivationCache cache = new ActivationCache();
            Hooks hooks = Hooks.none();
            for (Site.Kind k : EnumSet.range(Site.Kind.RESID_PRE, Site.Kind.RESID_POST)) {
                hooks.read(new Site(0, k), cache);
            }
            m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, 6), hooks, new int[0]);
            for (Site.Kind k : EnumSet.range(Site.Kind.RESID_PRE, Site.Kind.RESID_POST)) {
                Site s = new Site(0, k);
                assertEquals(6 * s.width(m.config()), cache.get(s, 0).length, s.toString());
            }
            // resid_post of block 0 is resid_pre of block 1
            ActivationCache c2 = new ActivationCache();
            m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, 6),
                    Hooks.none().read(new Site(0, Site.Kind.RESID_POST), c2).read(new Site(1, Site.Kind.RESID_PRE), c2), new int[0]);
            assertArrayEquals(c2.get(new Site(0, Site.Kind.RESID_POST), 0), c2.get(new Site(1, Site.Kind.RESID_PRE), 0));
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void refusesSequencesLongerThanTheContext(Family f) {
        try (Transformer m = load(f)) {
            int n = m.config().maxPositions() + 1;
            int[] ids = tokens(n, m.config().vocabSize(), 8);
            var e = assertThrows(IpgException.class,
                    () -> m.forward(Batch.ofSequence(0, 0, ids), new KVCache(m.config(), 1, n), Hooks.none(), new int[0]));
            assertTrue(e.getMessage().contains("exceeds the model's context of " + m.config().maxPositions()), e.getMessage());
        }
    }
}
