package dev.ipg.core.grad;

import static dev.ipg.core.testutil.PyTorchReference.assertMaxAbsDiff;
import static dev.ipg.core.testutil.PyTorchReference.assertRelativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.KVCache;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.testutil.PyTorchReference;
import dev.ipg.core.testutil.RandomModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The TransformerLens sites beyond the residual stream, hook_z and mlp.hook_post ({@code hook_embed},
 * {@code hook_pos_embed}, {@code attn.hook_q/k/v}, {@code attn.hook_pattern},
 * {@code attn.hook_z.heads}, {@code hook_attn_out}, {@code hook_mlp_out},
 * {@code ln_final.hook_normalized}) on random checkpoints of every family, against the float64
 * PyTorch reference (hf_reference.py, which hooks the same points):
 * <ul>
 *   <li>the cached activations, full-sequence and decoded token by token: max |diff| <= 1e-4;
 *   <li>random per-component scales at every writable site at once: the logits, both modes, max |diff| <= 1e-4,
 *       and the scales do move the logits;
 *   <li>dL/dh and dL/dalpha at each site against autograd: relative error <= 1e-3.
 * </ul>
 */
class SitesVsPyTorchTest {

    static final float TOL = 1e-4f;
    static final int T = 20;

    @RegisterExtension
    static final RandomModels models = new RandomModels();

    static Path checkpoint(Family f) {
        return models.checkpoint(f.name(), RandomCheckpoint.Spec.tiny(f), f.name().hashCode() + 13);
    }

    static int[] tokens(Family f) {
        return RandomModels.tokens(T, RandomCheckpoint.Spec.tiny(f).vocab(), f.ordinal() + 101);
    }

    /** The new sites of a model of family f: both layers of each block kind, and the global ones it has. */
    static List<Site> sites(Family f) {
        List<Site> out = new ArrayList<>();
        out.add(Site.global(Site.Kind.EMBED));
        if (f == Family.GPT2) {
            out.add(Site.global(Site.Kind.POS_EMBED));
        }
        for (int l = 0; l < 2; l++) {
            for (Site.Kind k : List.of(Site.Kind.ATTN_Q, Site.Kind.ATTN_K, Site.Kind.ATTN_V, Site.Kind.ATTN_PATTERN,
                    Site.Kind.ATTN_HEADS, Site.Kind.ATTN_OUT, Site.Kind.MLP_OUT)) {
                out.add(new Site(l, k));
            }
        }
        out.add(Site.global(Site.Kind.LN_FINAL));
        return out;
    }

    static int[] range(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }

    /** Prefill of the first 5 tokens, then one token per pass; returns the logits of every position (T, V). */
    static float[] decode(Transformer m, int[] ids, Hooks hooks) {
        KVCache cache = m.newCache(1, ids.length);
        int v = m.config().vocabSize();
        float[] out = new float[ids.length * v];
        int pre = 5;
        float[] first = m.forward(Batch.ofSequence(0, 0, Arrays.copyOf(ids, pre)), cache, hooks, range(pre));
        System.arraycopy(first, 0, out, 0, first.length);
        for (int p = pre; p < ids.length; p++) {
            float[] step = m.forward(Batch.ofSequence(0, p, new int[] {ids[p]}), cache, hooks, new int[] {0});
            System.arraycopy(step, 0, out, p * v, v);
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void cachedSitesMatchPyTorchInBothModes(Family f) {
        Path dir = checkpoint(f);
        int[] ids = tokens(f);
        List<Site> sites = sites(f);
        Path ref = PyTorchReference.forModel(dir).tokens(ids).sites(sites.stream().map(Site::toString).toArray(String[]::new))
                .run(models.file(f + "-cache.safetensors"));
        try (Transformer m = Transformer.load(dir, KernelsProvider.lookup(), models.pool()); SafetensorsFile exp = SafetensorsFile.open(ref)) {
            ActivationCache full = new ActivationCache();
            ActivationCache dec = new ActivationCache();
            Hooks hf = Hooks.none();
            Hooks hd = Hooks.none();
            sites.forEach(s -> {
                hf.read(s, full);
                hd.read(s, dec);
            });
            float[] logits = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, T), hf, range(T));
            assertMaxAbsDiff(f + " logits", exp.matrix("logits"), logits, TOL);
            assertMaxAbsDiff(f + " decoded logits", exp.matrix("logits"), decode(m, ids, hd), TOL);
            for (Site s : sites) {
                long[] shape = s.shape(m.config(), T);
                assertEquals(Arrays.stream(shape).reduce(1, (a, b) -> a * b), exp.matrix(s.toString()).size(), s + " size");
                assertMaxAbsDiff(f + " " + s, exp.matrix(s.toString()), full.get(s, 0, m.config()), TOL);
                assertMaxAbsDiff(f + " " + s + " decoded", exp.matrix(s.toString()), dec.get(s, 0, m.config()), TOL);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void scalingEverySiteMovesTheLogitsAsInPyTorch(Family f) {
        Path dir = checkpoint(f);
        int[] ids = tokens(f);
        try (Transformer m = Transformer.load(dir, KernelsProvider.lookup(), models.pool())) {
            SplittableRandom r = new SplittableRandom(f.ordinal() + 7);
            Hooks hooks = Hooks.none();
            var req = PyTorchReference.forModel(dir).tokens(ids);
            for (Site s : sites(f)) {
                if (s.kind().readOnly()) {
                    continue;
                }
                float[] gamma = new float[s.width(m.config())];
                for (int i = 0; i < gamma.length; i++) {
                    gamma[i] = (float) (0.5 + r.nextDouble());
                }
                Path file = models.file(f + "-scale-" + s + ".safetensors");
                new SafetensorsWriter().add("scale", gamma, new long[] {gamma.length}, DType.F32).write(file);
                req = req.scale(s.toString(), file);
                hooks.intervene(s, new Intervention.Scale(gamma));
            }
            Path ref = req.run(models.file(f + "-scaled.safetensors"));
            float[] plain = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, T), Hooks.none(), range(T));
            float[] scaled = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, T), hooks, range(T));
            try (SafetensorsFile exp = SafetensorsFile.open(ref)) {
                assertMaxAbsDiff(f + " scaled logits", exp.matrix("logits"), scaled, TOL);
                assertMaxAbsDiff(f + " scaled logits, decoded", exp.matrix("logits"), decode(m, ids, hooks), TOL);
            }
            float moved = 0;
            for (int i = 0; i < plain.length; i++) {
                moved = Math.max(moved, Math.abs(plain[i] - scaled[i]));
            }
            assertTrue(moved > 1e-2f, "the scales must change the logits (max change " + moved + ")");
        }
    }

    static Stream<Arguments> gradientCases() {
        List<Arguments> a = new ArrayList<>();
        for (Family f : Family.values()) {
            List<Site> s = new ArrayList<>(List.of(Site.global(Site.Kind.EMBED), new Site(0, Site.Kind.ATTN_Q),
                    new Site(0, Site.Kind.ATTN_K), new Site(0, Site.Kind.ATTN_V), new Site(1, Site.Kind.ATTN_HEADS),
                    new Site(0, Site.Kind.ATTN_OUT), new Site(1, Site.Kind.ATTN_OUT), new Site(0, Site.Kind.MLP_OUT),
                    Site.global(Site.Kind.LN_FINAL)));
            if (f == Family.GPT2) {
                s.add(Site.global(Site.Kind.POS_EMBED));
            }
            s.forEach(site -> a.add(Arguments.of(f, site)));
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("gradientCases")
    void siteGradientMatchesAutograd(Family f, Site site) {
        Path dir = checkpoint(f);
        int[] ids = tokens(f);
        int from = 4;
        Path ref = PyTorchReference.forModel(dir).tokens(ids).gradient(site.toString(), from)
                .run(models.file(f + "-grad-" + site + ".safetensors"));
        try (Transformer m = Transformer.load(dir, KernelsProvider.lookup(), models.pool()); SafetensorsFile exp = SafetensorsFile.open(ref)) {
            var res = new ReverseMode(m).siteGradients(List.of(new Trajectory(ids, from)),
                    Interpolation.uniform(site, site.width(m.config()), 1f), true).getFirst();
            assertEquals(exp.matrix("loss").getFlat(0), res.objective(), 1e-4 * Math.abs(res.objective()), "objective");
            assertMaxAbsDiff(f + " " + site + " activation", exp.matrix(site.toString()), res.activation(), TOL);
            assertRelativeError(f + " " + site + " grad", exp.matrix("grad"), res.siteGrad(), 1e-3);
            assertRelativeError(f + " " + site + " scale_grad", exp.matrix("scale_grad"), res.scaleGrad(), 1e-3);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Family.class, names = {"LLAMA", "GPT2"})
    void thePatternIsReadOnly(Family f) {
        try (Transformer m = Transformer.load(checkpoint(f), KernelsProvider.lookup(), models.pool())) {
            Site p = new Site(0, Site.Kind.ATTN_PATTERN);
            var e = assertThrows(IpgException.class, () -> Hooks.none().intervene(p, new Intervention.Scale(new float[4])));
            assertTrue(e.getMessage().contains("blocks.0.attn.hook_pattern is read only"), e.getMessage());
            var g = assertThrows(IpgException.class, () -> new ReverseMode(m).siteGradients(List.of(new Trajectory(tokens(f), 2)),
                    new Interpolation(p, null, new float[4], 0), false));
            assertTrue(g.getMessage().contains("cannot differentiate at blocks.0.attn.hook_pattern"), g.getMessage());
            assertThrows(IpgException.class, () -> p.width(m.config()));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Family.class, names = {"LLAMA", "QWEN3"})
    void rotaryModelsHaveNoPositionEmbeddingSite(Family f) {
        try (Transformer m = Transformer.load(checkpoint(f), KernelsProvider.lookup(), models.pool())) {
            var e = assertThrows(IpgException.class, () -> Site.parse("hook_pos_embed").checkIn(m.config()));
            assertTrue(e.getMessage().contains("rotary position embeddings"), e.getMessage());
        }
    }
}
