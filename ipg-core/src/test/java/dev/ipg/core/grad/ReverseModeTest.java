package dev.ipg.core.grad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.testutil.RandomModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The reverse mode against finite differences of its own objective, and its bookkeeping. */
class ReverseModeTest {

    @RegisterExtension
    static final RandomModels models = new RandomModels();

    static Transformer model;

    @BeforeAll
    static void start() {
        model = models.load("m", RandomCheckpoint.Spec.tiny(Family.QWEN3), 5);
    }

    @AfterAll
    static void stop() {
        model.close();
    }

    static int[] tokens(int n, long seed) {
        return RandomModels.tokens(n, model.config().vocabSize(), seed);
    }

    static float[] random(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    @Test
    void alphaGradientMatchesFiniteDifferencesOffThePathEndWithABaseline() {
        Site site = new Site(1, Site.Kind.MLP_POST);
        int width = site.width(model.config());
        float[] alpha = random(width, 1, 0.2, 0.9);
        float[] base = random(width, 2, -0.3, 0.3);
        List<Trajectory> ts = List.of(new Trajectory(tokens(14, 3), 4, random(10, 4, 0.5, 1.5)));
        ReverseMode rm = new ReverseMode(model);
        float[] g = rm.siteGradients(ts, new Interpolation(site, base, alpha, 2), false).getFirst().scaleGrad();
        double h = 1e-2;
        for (int i : new int[] {0, 7, 33, width - 1}) {
            float keep = alpha[i];
            alpha[i] = (float) (keep + h);
            double up = rm.siteGradients(ts, new Interpolation(site, base, alpha, 2), false).getFirst().objective();
            alpha[i] = (float) (keep - h);
            double down = rm.siteGradients(ts, new Interpolation(site, base, alpha, 2), false).getFirst().objective();
            alpha[i] = keep;
            double fd = (up - down) / (2 * h);
            assertEquals(fd, g[i], 2e-3 * Math.max(1, Math.abs(fd)), "component " + i);
        }
    }

    @Test
    void packedTrajectoriesEqualOneAtATime() {
        Site site = new Site(0, Site.Kind.RESID_POST);
        int width = site.width(model.config());
        List<Trajectory> ts = List.of(new Trajectory(tokens(9, 5), 3), new Trajectory(tokens(17, 6), 10),
                new Trajectory(tokens(4, 7), 1));
        ReverseMode rm = new ReverseMode(model);
        var packed = rm.siteGradients(ts, Interpolation.uniform(site, width, 0.7f), true);
        for (int s = 0; s < ts.size(); s++) {
            var alone = rm.siteGradients(List.of(ts.get(s)), Interpolation.uniform(site, width, 0.7f), true).getFirst();
            assertEquals(alone.objective(), packed.get(s).objective(), 1e-5 * Math.abs(alone.objective()));
            float[] a = alone.scaleGrad();
            float[] b = packed.get(s).scaleGrad();
            for (int i = 0; i < width; i++) {
                assertEquals(a[i], b[i], 1e-5f * Math.max(1f, Math.abs(a[i])), "trajectory " + s + " component " + i);
            }
            assertEquals(ts.get(s).tokens().length * width, packed.get(s).siteGrad().length);
        }
    }

    @Test
    void objectiveIsTheSumOfForwardLogProbs() {
        Site site = new Site(1, Site.Kind.RESID_PRE);
        List<Trajectory> ts = List.of(new Trajectory(tokens(12, 8), 6));
        ReverseMode rm = new ReverseMode(model);
        var res = rm.siteGradients(ts, Interpolation.uniform(site, site.width(model.config()), 1f), false).getFirst();
        float[] lp = rm.logProbs(ts, Hooks.none()).getFirst();
        assertArrayEquals(lp, res.logProbs(), 1e-5f);
        double sum = 0;
        for (float x : lp) {
            sum += x;
            assertTrue(x < 0, "log-probabilities are negative");
        }
        assertEquals(sum, res.objective(), 1e-5);
    }

    @Test
    void positionsBeforeTheFirstInterpolatedOneDoNotContribute() {
        Site site = new Site(0, Site.Kind.RESID_POST);
        int width = site.width(model.config());
        int[] ids = tokens(10, 9);
        ReverseMode rm = new ReverseMode(model);
        var all = rm.siteGradients(List.of(new Trajectory(ids, 6)), new Interpolation(site, null, ones(width), 0), true).getFirst();
        var late = rm.siteGradients(List.of(new Trajectory(ids, 6)), new Interpolation(site, null, ones(width), 6), true).getFirst();
        // at alpha = 1 the forward is the same; scale_grad restricted to t >= 6
        float[] expected = new float[width];
        for (int t = 6; t < 10; t++) {
            for (int i = 0; i < width; i++) {
                expected[i] += all.activation()[t * width + i] * all.siteGrad()[t * width + i];
            }
        }
        assertArrayEquals(expected, late.scaleGrad(), 1e-5f);
    }

    @Test
    void weightGradientsMatchFiniteDifferences() throws Exception {
        Path dir = models.checkpoint("w", RandomCheckpoint.Spec.tiny(Family.LLAMA), 9);
        List<Trajectory> ts = List.of(new Trajectory(tokens(11, 10), 1), new Trajectory(tokens(6, 11), 2));
        Map<String, float[]> named;
        try (Transformer m = Transformer.load(dir, KernelsProvider.lookup(), models.pool())) {
            named = new ReverseMode(m).weightGradients(ts).gradients().byName();
        }
        int n = 0;
        for (String name : new String[] {"model.embed_tokens.weight", "model.layers.0.self_attn.k_proj.weight",
                "model.layers.1.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight", "model.norm.weight",
                "lm_head.weight", "model.layers.1.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight"}) {
            float[] g = named.get(name);
            for (int idx : new int[] {0, 5, g.length - 1}) {
                double h = 1e-2;
                double up = objective(perturbed(dir, name, idx, h, n++), ts);
                double down = objective(perturbed(dir, name, idx, -h, n++), ts);
                double fd = (up - down) / (2 * h);
                assertEquals(fd, g[idx], 3e-3 * Math.max(1, Math.abs(fd)), name + "[" + idx + "]");
            }
        }
    }

    static double objective(Path dir, List<Trajectory> ts) {
        try (Transformer m = Transformer.load(dir, KernelsProvider.lookup(), models.pool())) {
            double s = 0;
            for (float[] lp : new ReverseMode(m).logProbs(ts, Hooks.none())) {
                for (float x : lp) {
                    s += x;
                }
            }
            return s;
        }
    }

    /** A copy of the checkpoint in dir with one weight entry moved by delta. */
    static Path perturbed(Path dir, String name, int idx, double delta, int n) throws IOException {
        Path out = models.file("p" + n);
        Files.createDirectories(out);
        Files.copy(dir.resolve("config.json"), out.resolve("config.json"));
        var w = new SafetensorsWriter();
        try (var f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            for (String t : f.names()) {
                var mtx = f.matrix(t);
                float[] v = new float[(int) mtx.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = mtx.getFlat(i);
                }
                if (t.equals(name)) {
                    v[idx] += (float) delta;
                }
                w.add(t, v, f.info(t).shape(), DType.F32);
            }
        }
        w.write(out.resolve("model.safetensors"));
        return out;
    }

    @Test
    void refusesBeforeAllocatingWhenOverBudget() {
        Site site = new Site(0, Site.Kind.RESID_POST);
        ReverseMode rm = new ReverseMode(model).budget(1 << 20);
        var e = assertThrows(IpgException.class, () -> rm.siteGradients(List.of(new Trajectory(tokens(100, 1), 1)),
                Interpolation.uniform(site, site.width(model.config()), 1f), false));
        assertTrue(e.getMessage().contains("more than the budget"), e.getMessage());
        assertTrue(rm.plannedBytes(100, site, false) > rm.plannedBytes(50, site, false));
    }

    static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }
}
