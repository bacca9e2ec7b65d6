package dev.ipg.core.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.grad.Interpolation;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.KVCache;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An SAE spliced into a model: with its error term the model is unchanged, scaling the latents by
 * 1 changes nothing, by 0 leaves e + b_dec; decode and full-sequence modes agree; the encoder,
 * TopK and decoder backward passes and the IPG-SAE path gradient match central differences.
 */
class SaeSpliceTest {

    @TempDir
    static Path tmp;

    static Parallel pool;
    static Transformer model;
    static Site site = new Site(0, Site.Kind.RESID_POST);
    static int d;
    static final int[] TOKENS = {3, 17, 5, 9, 30, 2, 11, 40, 7};

    @BeforeAll
    static void start() {
        pool = Parallel.of(2);
        Path dir = RandomCheckpoint.write(tmp.resolve("m"), RandomCheckpoint.Spec.tiny(Family.QWEN3), 5);
        model = Transformer.load(dir, KernelsProvider.lookup(), pool);
        d = site.width(model.config());
    }

    @AfterAll
    static void stop() {
        model.close();
        pool.close();
    }

    static Sae topk() {
        return TestSaes.random(site, d, 3 * d, Sae.Activation.TOPK, 6, Sae.Normalization.NONE, 11);
    }

    static float[] logits(Hooks hooks) {
        int[] rows = new int[TOKENS.length];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i;
        }
        return model.forward(Batch.ofSequence(0, 0, TOKENS), model.newCache(1, TOKENS.length), hooks, rows);
    }

    static float[] fill(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    @Test
    void spliceWithItsErrorTermLeavesTheModelUnchanged() {
        float[] plain = logits(Hooks.none());
        for (Sae sae : new Sae[] {topk(),
                TestSaes.random(site, d, 2 * d, Sae.Activation.JUMPRELU, 0, Sae.Normalization.LAYER_NORM, 12),
                TestSaes.random(site, d, 2 * d, Sae.Activation.RELU, 0, Sae.Normalization.CONSTANT_NORM_RESCALE, 13)}) {
            assertArrayEquals(plain, logits(new SaeSplice(sae).hooks()), sae + ": splice alone");
            assertArrayEquals(plain, logits(new SaeSplice(sae).intervene(new Intervention.Scale(fill(sae.dSae(), 1f))).hooks()),
                    sae + ": every latent scaled by 1");
            float[] two = fill(sae.dSae(), 1f);
            two[1] = 3f;
            two[4] = 0f;
            assertTrue(maxDiff(plain, logits(new SaeSplice(sae).intervene(new Intervention.Scale(fill(sae.dSae(), 0f))).hooks())) > 1e-3,
                    sae + ": scaling by 0 changes the model");
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /** z -> e + b_dec with e = z - (W_dec f + b_dec), computed here from the weights. */
    static Hooks errorPlusBias(Sae sae) {
        return Hooks.none().intervene(site, new Intervention.Callback((s, act, w, b) -> {
            for (int r = 0; r < b.rows(); r++) {
                float[] f = sae.encode(act, r * w).f;
                for (int j = 0; j < w; j++) {
                    double zHat = sae.bDec()[j];
                    for (int i = 0; i < sae.dSae(); i++) {
                        zHat += (double) f[i] * sae.wDec()[i * w + j];
                    }
                    double e = act[r * w + j] - zHat;
                    act[r * w + j] = (float) (e + sae.bDec()[j]);
                }
            }
        }));
    }

    @Test
    void scalingEveryLatentByZeroEqualsTheModelOnTheErrorPlusDecoderBias() {
        Sae sae = topk();
        float[] want = logits(errorPlusBias(sae));
        float[] got = logits(new SaeSplice(sae).intervene(new Intervention.Scale(fill(sae.dSae(), 0f))).hooks());
        assertTrue(maxDiff(want, logits(Hooks.none())) > 1e-3, "the ablation is not a no-op");
        assertTrue(maxDiff(want, got) < 2e-5, "max |difference| " + maxDiff(want, got));
    }

    @Test
    void readersSeeLatentsReconstructionAndErrorAfterTheIntervention() {
        Sae sae = topk();
        float[] gamma = fill(sae.dSae(), 1f);
        gamma[2] = 0f;
        ActivationCache acts = new ActivationCache();
        ActivationCache rec = new ActivationCache();
        ActivationCache err = new ActivationCache();
        ActivationCache z = new ActivationCache();
        Hooks h = Hooks.none().read(site, z);
        logits(h);
        logits(new SaeSplice(sae).intervene(new Intervention.Scale(gamma)).read(SaeSite.Point.ACTS_POST, acts)
                .read(SaeSite.Point.RECONS, rec).read(SaeSite.Point.ERROR, err).hooks());
        float[] zz = z.get(site, 0);
        float[] f = acts.get(site, 0);
        float[] rr = rec.get(site, 0);
        float[] ee = err.get(site, 0);
        assertEquals(TOKENS.length * sae.dSae(), f.length);
        int nonzero = 0;
        for (int t = 0; t < TOKENS.length; t++) {
            Sae.Code c = sae.encode(zz, t * d);
            for (int i = 0; i < sae.dSae(); i++) {
                assertEquals(c.f[i] * gamma[i], f[t * sae.dSae() + i], 0f);
                nonzero += f[t * sae.dSae() + i] != 0 ? 1 : 0;
            }
            float[] fIv = java.util.Arrays.copyOfRange(f, t * sae.dSae(), (t + 1) * sae.dSae());
            float[] recon = sae.recons(fIv);
            float[] zHat = sae.decode(c.f, c);
            for (int j = 0; j < d; j++) {
                assertEquals(recon[j], rr[t * d + j], 1e-6f);
                assertEquals(zz[t * d + j] - zHat[j], ee[t * d + j], 1e-6f);
            }
        }
        assertTrue(nonzero >= TOKENS.length * (sae.k() - 1), "TopK keeps about k latents per row: " + nonzero);
    }

    @Test
    void decodeModeWithTheKvCacheEqualsTheFullSequencePass() {
        Sae sae = topk();
        float[] gamma = fill(sae.dSae(), 1f);
        for (int i = 0; i < sae.dSae(); i += 3) {
            gamma[i] = 2.5f;
        }
        float[] add = new float[sae.dSae()];
        add[5] = 1.5f;
        Hooks hooks = new SaeSplice(sae).intervene(new Intervention.Scale(gamma)).intervene(new Intervention.Add(add)).hooks();
        float[] full = logits(hooks);
        int v = model.config().vocabSize();
        KVCache cache = model.newCache(1, TOKENS.length);
        int prefix = 4;
        float[] got = model.forward(Batch.ofSequence(0, 0, java.util.Arrays.copyOf(TOKENS, prefix)), cache, hooks, new int[] {prefix - 1});
        for (int j = 0; j < v; j++) {
            assertEquals(full[(prefix - 1) * v + j], got[j], 1e-5f);
        }
        for (int t = prefix; t < TOKENS.length; t++) {
            got = model.forward(new Batch(new int[] {TOKENS[t]}, new int[] {0}, new int[] {t}), cache, hooks, new int[] {0});
            for (int j = 0; j < v; j++) {
                assertEquals(full[t * v + j], got[j], 1e-5f, "position " + t);
            }
        }
        assertTrue(maxDiff(full, logits(Hooks.none())) > 1e-3, "the intervention changes the model");
    }

    @Test
    void encoderTopKAndDecoderBackwardMatchCentralDifferences() {
        SplittableRandom r = new SplittableRandom(7);
        List<Sae> saes = new java.util.ArrayList<>(List.of(topk()));
        long seed = 14;
        for (Sae.Normalization norm : Sae.Normalization.values()) {
            for (Sae.Activation act : Sae.Activation.values()) {
                saes.add(TestSaes.random(site, d, 2 * d, act, act == Sae.Activation.TOPK ? 6 : 0, norm, seed++));
            }
        }
        for (Sae sae : saes) {
            float[] z = TestSaes.normal(r, d, 1.5);
            for (int j = 0; j < d; j++) {
                z[j] += 0.7f; // a mean and a norm far from the normalized row's, so the statistics matter
            }
            float[] w = TestSaes.normal(r, sae.dSae(), 1.0);
            Sae.Code c = sae.encode(z, 0);
            float[] dz = sae.encodeBackward(c, w);
            double h = 4e-3; // float32 encoding: smaller steps drown in rounding
            double norm = 0;
            int checked = 0;
            for (int j = 0; j < d; j++) {
                float keep = z[j];
                z[j] = (float) (keep + h);
                double step = z[j];
                Sae.Code cu = sae.encode(z, 0);
                z[j] = (float) (keep - h);
                step -= z[j];
                Sae.Code cd = sae.encode(z, 0);
                z[j] = keep;
                norm += dz[j] * dz[j];
                if (!sameActiveSet(c, cu) || !sameActiveSet(c, cd)) {
                    continue; // a gate or the TopK selection flips inside the step: no derivative to compare
                }
                double fd = (dot(w, cu.f) - dot(w, cd.f)) / step;
                assertEquals(fd, dz[j], 2e-3 * Math.max(1, Math.abs(fd)), sae + " " + sae.normalization() + " encoder, input " + j);
                checked++;
            }
            assertTrue(checked >= d - 4, sae + " " + sae.normalization() + ": only " + checked + " of " + d + " inputs away from a kink");
            assertTrue(norm > 1e-4, "the encoder gradient is not trivially zero");
            // decoder: L = u . z_hat(f), the row's statistics fixed
            float[] u = TestSaes.normal(r, d, 1.0);
            float[] df = sae.decodeBackward(c, u, 0);
            float[] f = c.f.clone();
            for (int i = 0; i < sae.dSae(); i += 5) {
                float keep = f[i];
                f[i] = (float) (keep + h);
                double up = dot(u, sae.decode(f, c));
                f[i] = (float) (keep - h);
                double down = dot(u, sae.decode(f, c));
                f[i] = keep;
                double fd = (up - down) / (2 * h);
                assertEquals(fd, df[i], 2e-3 * Math.max(1, Math.abs(fd)), sae + " decoder, latent " + i);
            }
        }
        // the decoder backward with normalized inputs scales by the row's output statistic
        Sae ln = TestSaes.random(site, d, 2 * d, Sae.Activation.RELU, 0, Sae.Normalization.LAYER_NORM, 16);
        float[] z = TestSaes.normal(r, d, 3.0);
        Sae.Code c = ln.encode(z, 0);
        float[] u = TestSaes.normal(r, d, 1.0);
        float[] df = ln.decodeBackward(c, u, 0);
        float[] f = c.f.clone();
        f[3] += 1e-2f;
        double fd = (dot(u, ln.decode(f, c)) - dot(u, ln.decode(c.f, c))) / (f[3] - c.f[3]);
        assertEquals(fd, df[3], 2e-3 * Math.max(1, Math.abs(fd)));
    }

    @Test
    void foldingTheDecoderNormsScalesTheLatentsAndKeepsTheReconstruction() {
        SplittableRandom r = new SplittableRandom(21);
        for (Sae.Activation act : Sae.Activation.values()) {
            Sae sae = TestSaes.random(site, d, 2 * d, act, act == Sae.Activation.TOPK ? 5 : 0, Sae.Normalization.NONE, 30 + act.ordinal());
            Sae folded = sae.foldDecoderNorm();
            float[] z = TestSaes.normal(r, d, 1.5);
            Sae.Code c = sae.encode(z, 0);
            Sae.Code fc = folded.encode(z, 0);
            double[] n = new double[sae.dSae()];
            for (int i = 0; i < sae.dSae(); i++) {
                double ss = 0;
                for (int j = 0; j < d; j++) {
                    ss += (double) sae.wDec()[i * d + j] * sae.wDec()[i * d + j];
                }
                n[i] = Math.sqrt(ss);
                assertEquals(n[i] * c.pre[i], fc.pre[i], 1e-4 * Math.max(1, Math.abs(fc.pre[i])), act + " pre-activation " + i);
            }
            if (act == Sae.Activation.TOPK) {
                // the k largest of the scaled pre-activations, by a sort
                Integer[] order = new Integer[sae.dSae()];
                for (int i = 0; i < order.length; i++) {
                    order[i] = i;
                }
                java.util.Arrays.sort(order, (a, b) -> Double.compare(n[b] * c.pre[b], n[a] * c.pre[a]));
                java.util.Set<Integer> top = new java.util.HashSet<>(List.of(order).subList(0, sae.k()));
                for (int i = 0; i < sae.dSae(); i++) {
                    double want = top.contains(i) ? Math.max(0, n[i] * c.pre[i]) : 0;
                    assertEquals(want, fc.f[i], 1e-4 * Math.max(1, Math.abs(want)), "TopK latent " + i);
                }
            } else {
                for (int i = 0; i < sae.dSae(); i++) {
                    assertEquals(n[i] * c.f[i], fc.f[i], 1e-4 * Math.max(1, Math.abs(fc.f[i])), act + " latent " + i);
                }
                assertArrayEquals(sae.recons(c.f), folded.recons(fc.f), 1e-4f, act + ": the reconstruction is unchanged");
            }
        }
    }

    /** Whether the same latents are active (non-zero) in both codes. */
    static boolean sameActiveSet(Sae.Code a, Sae.Code b) {
        for (int i = 0; i < a.f.length; i++) {
            if ((a.f[i] != 0f) != (b.f[i] != 0f)) {
                return false;
            }
        }
        return true;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void topKSelectsTheLargestWithTiesToTheLowerIndex() {
        float[] v = {0.5f, 2f, -1f, 2f, 3f, 0.5f, 2f};
        int[] got = Sae.topK(v, 3);
        java.util.Arrays.sort(got);
        assertArrayEquals(new int[] {1, 3, 4}, got);
        got = Sae.topK(v, 5);
        java.util.Arrays.sort(got);
        assertArrayEquals(new int[] {0, 1, 3, 4, 6}, got);
    }

    @Test
    void ipgSaePathGradientMatchesCentralDifferencesThroughTheModel() {
        // normalized inputs too: the row's statistics belong to the real activation, fixed along the path
        for (Sae sae : new Sae[] {topk(), TestSaes.random(site, d, 2 * d, Sae.Activation.JUMPRELU, 0, Sae.Normalization.LAYER_NORM, 17),
                TestSaes.random(site, d, 2 * d, Sae.Activation.TOPK, 8, Sae.Normalization.CONSTANT_NORM_RESCALE, 18)}) {
            pathGradientMatchesCentralDifferences(sae);
        }
    }

    private void pathGradientMatchesCentralDifferences(Sae sae) {
        int n = sae.dSae();
        SplittableRandom r = new SplittableRandom(3);
        float[] alpha = new float[n];
        for (int i = 0; i < n; i++) {
            alpha[i] = (float) (0.2 + 0.7 * r.nextDouble());
        }
        float[] base = TestSaes.normal(r, n, 0.2);
        List<Trajectory> ts = List.of(new Trajectory(TOKENS, 3));
        ReverseMode rm = new ReverseMode(model);
        var res = rm.siteGradients(ts, new Interpolation(site, base, alpha, 0, sae), false).getFirst();
        float[] g = res.scaleGrad();
        assertEquals(n, g.length);
        double h = 1e-2;
        int checked = 0;
        for (int i = 0; i < n; i++) {
            float keep = alpha[i];
            alpha[i] = (float) (keep + h);
            double up = rm.siteGradients(ts, new Interpolation(site, base, alpha, 0, sae), false).getFirst().objective();
            alpha[i] = (float) (keep - h);
            double down = rm.siteGradients(ts, new Interpolation(site, base, alpha, 0, sae), false).getFirst().objective();
            alpha[i] = keep;
            double fd = (up - down) / (2 * h);
            assertEquals(fd, g[i], 2e-3 * Math.max(1, Math.abs(fd)), sae.normalization() + " latent " + i);
            checked += Math.abs(fd) > 1e-3 ? 1 : 0;
        }
        assertTrue(checked > n / 2, sae.normalization() + ": most latents have a non-negligible gradient: " + checked);
        // at alpha = 1 with any baseline the path point is the unmodified model
        var one = rm.siteGradients(ts, Interpolation.at(sae, 1.0, base, 0), false).getFirst();
        var plain = rm.siteGradients(ts, Interpolation.uniform(site, d, 1f), false).getFirst();
        assertEquals(plain.objective(), one.objective(), 1e-9);
        assertNotEquals(0.0, res.objective() - plain.objective());
    }
}
