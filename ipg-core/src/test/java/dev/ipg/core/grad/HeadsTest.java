package dev.ipg.core.grad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.Selection;
import dev.ipg.core.steer.Steering;
import dev.ipg.core.steer.Top;
import dev.ipg.core.testutil.RandomModels;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Whole heads ({@code blocks.L.attn.hook_z.heads}): the path point and the gradient of a head are
 * those of hook_z with the head's head_dim coefficients tied, so
 * <ul>
 *   <li>the activations and dL/dz are bit for bit those at hook_z with alpha repeated over each head,
 *       and dL/dalpha of a head is the sum of the per-dimension dL/dalpha over its head_dim (the same
 *       float terms summed in another order: relative 1e-5), with a zero or a per-dimension baseline;
 *   <li>dL/dalpha of every head agrees with central differences of L in alpha;
 *   <li>scaling or ablating whole heads is scaling hook_z by the head's factor repeated (bitwise
 *       equal logits), and a {@link Selection} of heads steers them.
 * </ul>
 * (The same gradients against PyTorch autograd are in {@link SitesVsPyTorchTest}.)
 */
class HeadsTest {

    @RegisterExtension
    static final RandomModels models = new RandomModels();

    static Transformer load(Family f) {
        return models.load(f.name(), RandomCheckpoint.Spec.tiny(f), f.ordinal() + 31);
    }

    static int[] tokens(ModelConfig c, int n, long seed) {
        return RandomModels.tokens(n, c.vocabSize(), seed);
    }

    /** alpha of each head repeated over its head_dim values. */
    static float[] repeat(float[] perHead, int hd) {
        float[] out = new float[perHead.length * hd];
        for (int i = 0; i < out.length; i++) {
            out[i] = perHead[i / hd];
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = Family.class, names = {"LLAMA", "QWEN3", "GPT2"})
    void headGradientIsTheSumOverItsDimensions(Family f) {
        try (Transformer m = load(f)) {
            ModelConfig c = m.config();
            int heads = c.numHeads();
            int hd = c.headDim();
            int[] ids = tokens(c, 16, 5);
            SplittableRandom r = new SplittableRandom(9);
            float[] alpha = new float[heads];
            float[] baseline = new float[heads * hd];
            for (int i = 0; i < heads; i++) {
                alpha[i] = (float) (0.2 + 0.7 * r.nextDouble());
            }
            for (int i = 0; i < baseline.length; i++) {
                baseline[i] = (float) (0.1 * r.nextGaussian());
            }
            for (int layer = 0; layer < c.numLayers(); layer++) {
                for (float[] base : Arrays.asList(null, baseline)) {
                    Site headSite = new Site(layer, Site.Kind.ATTN_HEADS);
                    Site zSite = new Site(layer, Site.Kind.ATTN_Z);
                    ReverseMode rm = new ReverseMode(m);
                    var h = rm.siteGradients(List.of(new Trajectory(ids, 3)), new Interpolation(headSite, base, alpha, 2), true).getFirst();
                    var z = rm.siteGradients(List.of(new Trajectory(ids, 3)), new Interpolation(zSite, base, repeat(alpha, hd), 2), true)
                            .getFirst();
                    String what = f + " layer " + layer + (base == null ? "" : " with a baseline");
                    assertEquals(z.objective(), h.objective(), 0.0, what + ": objective");
                    assertArrayEquals(z.activation(), h.activation(), what + ": activation");
                    assertArrayEquals(z.siteGrad(), h.siteGrad(), what + ": dL/dz");
                    assertEquals(heads, h.scaleGrad().length);
                    for (int head = 0; head < heads; head++) {
                        double sum = 0;
                        double abs = 0;
                        for (int d = 0; d < hd; d++) {
                            sum += z.scaleGrad()[head * hd + d];
                            abs += Math.abs(z.scaleGrad()[head * hd + d]);
                        }
                        assertTrue(abs > 0, what + ": head " + head + " has no gradient");
                        assertEquals(sum, h.scaleGrad()[head], 1e-5 * abs, what + ": head " + head);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Family.class, names = {"MISTRAL", "GPT2"})
    void headGradientMatchesCentralDifferences(Family f) {
        try (Transformer m = load(f)) {
            ModelConfig c = m.config();
            int heads = c.numHeads();
            int[] ids = tokens(c, 14, 11);
            List<Trajectory> tr = List.of(new Trajectory(ids, 2));
            Site site = new Site(1, Site.Kind.ATTN_HEADS);
            ReverseMode rm = new ReverseMode(m);
            float[] grad = rm.siteGradients(tr, Interpolation.uniform(site, heads, 1f), false).getFirst().scaleGrad();
            double largest = 0;
            for (float g : grad) {
                largest = Math.max(largest, Math.abs(g));
            }
            assertTrue(largest > 0.05, f + ": the head gradients are too small to test (" + Arrays.toString(grad) + ")");
            double eps = 0.05;
            for (int head = 0; head < heads; head++) {
                float[] up = new float[heads];
                float[] down = new float[heads];
                Arrays.fill(up, 1f);
                Arrays.fill(down, 1f);
                up[head] = (float) (1 + eps);
                down[head] = (float) (1 - eps);
                // L at alpha, through the scale intervention (forward only)
                double lUp = sum(rm.logProbs(tr, Hooks.none().intervene(site, new Intervention.Scale(up))).getFirst());
                double lDown = sum(rm.logProbs(tr, Hooks.none().intervene(site, new Intervention.Scale(down))).getFirst());
                double fd = (lUp - lDown) / (2 * eps);
                assertEquals(fd, grad[head], 2e-3 + 1e-2 * Math.abs(fd), f + " head " + head + ": central difference " + fd
                        + ", reverse mode " + grad[head]);
            }
        }
    }

    static double sum(float[] a) {
        double s = 0;
        for (float v : a) {
            s += v;
        }
        return s;
    }

    @ParameterizedTest
    @EnumSource(value = Family.class, names = {"QWEN2", "GPT2"})
    void scalingAndAblatingWholeHeadsIsScalingTheirValues(Family f) {
        try (Transformer m = load(f)) {
            ModelConfig c = m.config();
            int heads = c.numHeads();
            int hd = c.headDim();
            int[] ids = tokens(c, 12, 3);
            int[] all = new int[ids.length];
            Arrays.setAll(all, i -> i);
            Site headSite = new Site(0, Site.Kind.ATTN_HEADS);
            Site zSite = new Site(0, Site.Kind.ATTN_Z);
            float[] plain = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length), Hooks.none(), all);
            float[] gamma = new float[heads];
            Arrays.fill(gamma, 1f);
            gamma[1] = 0f;       // ablate head 1
            gamma[heads - 1] = 2.5f;
            float[] byHead = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length),
                    Hooks.none().intervene(headSite, new Intervention.Scale(gamma)), all);
            float[] byValue = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length),
                    Hooks.none().intervene(zSite, new Intervention.Scale(repeat(gamma, hd))), all);
            assertArrayEquals(byValue, byHead);
            assertTrue(maxDiff(plain, byHead) > 1e-3f, "ablating a head must change the logits");

            // a selection of the two top-scoring heads, scaled by 0, ablates exactly those
            float[] scores = new float[heads];
            scores[0] = 3f;
            scores[2] = 2f;
            Selection sel = Selection.of(headSite, scores, new Top.Count(2), Rank.SIGNED);
            assertArrayEquals(new int[] {0, 2}, Arrays.stream(sel.components()).sorted().toArray());
            Steering s = new Steering.Scale(sel, 0, "top 2 heads").checkIn(c);
            float[] steered = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length), s.hooks(), all);
            float[] g2 = new float[heads];
            Arrays.fill(g2, 1f);
            g2[0] = 0f;
            g2[2] = 0f;
            float[] expected = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length),
                    Hooks.none().intervene(zSite, new Intervention.Scale(repeat(g2, hd))), all);
            assertArrayEquals(expected, steered);

            var wrong = assertThrows(IpgException.class, () -> m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length),
                    Hooks.none().intervene(headSite, new Intervention.Scale(new float[heads * hd])), all));
            assertTrue(wrong.getMessage().contains("the site has " + heads), wrong.getMessage());
            var add = assertThrows(IpgException.class, () -> m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length),
                    Hooks.none().intervene(headSite, new Intervention.Add(new float[heads])), all));
            assertTrue(add.getMessage().contains("whole heads"), add.getMessage());
        }
    }

    static float maxDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
