package dev.ipg.core.steer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Interventions through components: exact identities of gamma = 1, gamma = 0 and strength 0; selections; specs. */
class SteeringTest {

    @TempDir
    static Path tmp;

    static Parallel pool;
    static Transformer model;

    static final Site SITE = new Site(0, Site.Kind.RESID_POST);
    static final List<int[]> PROMPTS = List.of(new int[] {5, 17, 9, 42}, new int[] {3, 88}, new int[] {60, 61, 62});

    @BeforeAll
    static void setUp() {
        Path dir = RandomCheckpoint.write(tmp.resolve("m"), RandomCheckpoint.Spec.tiny(Family.QWEN3), 11);
        pool = Parallel.of(2);
        model = Transformer.load(dir, KernelsProvider.lookup(), pool);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        pool.close();
    }

    static List<Generator.Completion> generate(Hooks hooks) {
        var opt = new Generator.Options(new SamplingParams(1.0, 0, 1.0, 1234), 12, Set.of(), List.of(), null);
        return new Generator(model).generate(PROMPTS, opt, hooks, null);
    }

    static void assertSameTokens(List<Generator.Completion> a, List<Generator.Completion> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).tokens(), b.get(i).tokens(), "sequence " + i);
        }
    }

    static float[] logits(Hooks hooks) {
        int[] p = PROMPTS.getFirst();
        int[] rows = new int[p.length];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i;
        }
        return model.forward(Batch.ofSequence(0, 0, p), model.newCache(1, p.length), hooks, rows);
    }

    static float[] scores(int width, long seed) {
        var rng = new java.util.SplittableRandom(seed);
        float[] s = new float[width];
        for (int i = 0; i < width; i++) {
            s[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return s;
    }

    @Test
    void gammaOneReproducesTheUnmodifiedGenerationTokenForToken() {
        int width = SITE.width(model.config());
        Selection sel = Selection.of(SITE, scores(width, 1), new Top.Percent(25), Rank.SIGNED);
        var plain = generate(Hooks.none());
        var steered = generate(new Steering.Scale(sel, 1.0, "test").hooks());
        assertSameTokens(plain, steered);
        // the same selection with another gamma does change the sampled text (the test can fail)
        var changed = generate(new Steering.Scale(sel, 4.0, "test").hooks());
        boolean differs = false;
        for (int i = 0; i < plain.size(); i++) {
            differs |= !Arrays.equals(plain.get(i).tokens(), changed.get(i).tokens());
        }
        assertTrue(differs, "gamma 4 on a quarter of the residual should change some sampled token");
    }

    @Test
    void gammaZeroOnEveryComponentEqualsZeroingTheResidual() {
        Selection all = Selection.of(SITE, scores(SITE.width(model.config()), 2), new Top.Percent(100), Rank.SIGNED);
        assertEquals(model.config().hiddenSize(), all.size());
        float[] steered = logits(new Steering.Scale(all, 0.0, "test").hooks());
        float[] zeroed = logits(Hooks.none().intervene(SITE, new Intervention.Callback((s, act, w, b) -> Arrays.fill(act, 0f))));
        assertArrayEquals(zeroed, steered);
        assertFalse(Arrays.equals(logits(Hooks.none()), steered));
        // with the residual zeroed after block 0, every position of the prompt yields the same logits row
        // up to what attention and RoPE see: the tokens themselves no longer matter
        int[] other = {1, 2, 3, 4};
        float[] o = model.forward(Batch.ofSequence(0, 0, other), model.newCache(1, 4), new Steering.Scale(all, 0.0, "t").hooks(),
                new int[] {0, 1, 2, 3});
        assertArrayEquals(steered, o);
    }

    @Test
    void scalingActsOnTheChosenComponentsAtEveryPosition() {
        int width = SITE.width(model.config());
        Selection sel = Selection.of(SITE, scores(width, 3), new Top.Count(7), Rank.ABS);
        ActivationCache before = new ActivationCache();
        ActivationCache after = new ActivationCache();
        logits(Hooks.none().read(SITE, before));
        logits(new Steering.Scale(sel, 2.5, "test").addTo(Hooks.none().read(SITE, after)));
        float[] a = before.get(SITE, 0);
        float[] b = after.get(SITE, 0);
        for (int t = 0; t < PROMPTS.getFirst().length; t++) {
            for (int i = 0; i < width; i++) {
                float expect = sel.contains(i) ? a[t * width + i] * 2.5f : a[t * width + i];
                assertEquals(expect, b[t * width + i], 0f, "position " + t + " component " + i);
            }
        }
    }

    @Test
    void aSteeringVectorOfStrengthZeroIsANoOp() {
        float[] v = scores(SITE.width(model.config()), 4);
        var add0 = new Steering.Add(new SteeringVector(SITE, v), 0.0, "test");
        assertSameTokens(generate(Hooks.none()), generate(add0.hooks()));
        assertArrayEquals(logits(Hooks.none()), logits(add0.hooks()));
        var add3 = new Steering.Add(new SteeringVector(SITE, v), 3.0, "test");
        assertFalse(Arrays.equals(logits(Hooks.none()), logits(add3.hooks())));
        assertEquals(3.0f * v[5], add3.added()[5], 0f);
    }

    @Test
    void selectionSizesFollowTheRoundingRule() {
        assertEquals(2, new Top.Percent(5).size(32));   // 1.6
        assertEquals(2, new Top.Percent(5).size(40));   // exactly 2
        assertEquals(2, new Top.Percent(50).size(3));   // 1.5 rounds up
        assertEquals(1, new Top.Percent(1).size(32));   // 0.32, but at least one
        assertEquals(0, new Top.Percent(0).size(32));
        assertEquals(32, new Top.Percent(100).size(32));
        assertEquals(768, new Top.Percent(50).size(1536));
        assertEquals(77, new Top.Percent(5).size(1536)); // 76.8
        assertEquals(10, new Top.Count(10).size(32));
        assertEquals(32, new Top.Count(100).size(32));
        assertEquals(new Top.Percent(2.5), Top.percent(" 2.5% "));
        assertEquals(new Top.Percent(5), Top.percent("5")); // the unit is in the name: 5 is 5 %
        assertEquals(new Top.Count(12), Top.count("12"));
        assertEquals("top-percent=2.5", new Top.Percent(2.5).specOption());
        assertEquals("top-count=12", new Top.Count(12).specOption());
        assertThrows(IpgException.class, () -> Top.percent("5 percent"));
        assertThrows(IpgException.class, () -> Top.percent("NaN"));
        assertEquals("top-percent 150 is not a percentage in [0, 100]", assertThrows(IpgException.class, () -> Top.percent("150%")).getMessage());
        assertEquals("top-count must be >= 0, got -5", assertThrows(IpgException.class, () -> Top.count("-5")).getMessage());
        assertThrows(IpgException.class, () -> Top.count("5%"));
    }

    @Test
    void selectionRanksBySignedScoreOrMagnitudeWithTiesToTheLowerIndex() {
        float[] s = {0.5f, -3f, 2f, 0.5f, -0.1f, 1f};
        Site site = new Site(0, Site.Kind.MLP_POST);
        assertArrayEquals(new int[] {2, 5, 0}, Selection.of(site, s, new Top.Count(3), Rank.SIGNED).components());
        assertArrayEquals(new int[] {2, 5, 0, 3}, Selection.of(site, s, new Top.Count(4), Rank.SIGNED).components());
        assertArrayEquals(new int[] {1, 2, 5}, Selection.of(site, s, new Top.Count(3), Rank.ABS).components());
        assertArrayEquals(new float[] {1, 0.25f, 0.25f, 1, 1, 0.25f},
                Selection.of(site, s, new Top.Count(3), Rank.ABS).factors(0.25));
        s[3] = Float.NaN;
        assertThrows(IpgException.class, () -> Selection.of(site, s, new Top.Count(1), Rank.SIGNED));
    }

    static Path writeScores(Path dir, Site site, float[] v) {
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        new SafetensorsWriter().add(site + "/scores", v, new long[] {v.length}, DType.F32)
                .add("scores", v, new long[] {v.length}, DType.F32)
                .metadata("ipg.config", "{\"method\":\"activation\",\"site\":\"" + site + "\"}")
                .write(dir.resolve("scores.safetensors"));
        return dir;
    }

    @Test
    void specsLoadScoresAndVectors() {
        int width = SITE.width(model.config());
        float[] v = scores(width, 5);
        Path run = writeScores(tmp.resolve("odd:name"), SITE, v);
        Steering s = Steering.parse("scale:" + run + ":top-percent=10:gamma=0:rank=abs");
        var scale = assertInstanceOf(Steering.Scale.class, s);
        assertEquals(0.0, scale.gamma());
        assertEquals(Selection.of(SITE, v, new Top.Count(6), Rank.ABS), scale.selection()); // 6.4 -> 6
        assertEquals(scale, scale.checkIn(model.config()));
        assertTrue(s.describe().contains("6 of 64 components of blocks.0.hook_resid_post"), s.describe());
        var signed = assertInstanceOf(Steering.Scale.class, Steering.parse("scale:" + run.resolve("scores.safetensors") + ":gamma=1.5:top-count=3"));
        assertArrayEquals(Selection.of(SITE, v, new Top.Count(3), Rank.SIGNED).components(), signed.selection().components());

        Path vec = tmp.resolve("v.safetensors");
        new SteeringVector(SITE, v).write(vec);
        var add = assertInstanceOf(Steering.Add.class, Steering.parse("add:" + vec + ":strength=-2"));
        assertEquals(-2.0, add.strength());
        assertArrayEquals(v, add.vector().values());
        assertEquals(SITE, add.vector().site());
        assertInstanceOf(Steering.None.class, Steering.parse("none"));
    }

    @Test
    void badSpecsAreOneLineErrors() {
        Path run = writeScores(tmp.resolve("r2"), SITE, scores(SITE.width(model.config()), 6));
        String[][] cases = {
                {"scale:" + run + ":top-percent=5", "needs one of top-percent=P or top-count=K, and gamma=G"},
                {"scale:" + run + ":top-percent=5:top-count=3:gamma=0", "needs one of top-percent=P or top-count=K"},
                {"scale:" + run + ":top=5%:gamma=0", "top= is retired: write top-percent=P (a percentage) or top-count=K"},
                {"scale:" + run + ":top-percent=-1:gamma=0", "top-percent -1 is not a percentage in [0, 100]"},
                {"scale:" + run + ":top-count=many:gamma=0", "top-count 'many' is not a whole number"},
                {"scale:" + run + ":top-percent=5:gamma=x", "gamma 'x' is not a finite number"},
                {"scale:" + run + ":top-percent=5:gamma=1:colour=red", "unknown option 'colour'"},
                {"scale:" + run + ":top-percent=5:gamma=1:gamma=2", "given twice"},
                {"scale:" + run + ":top-percent=5:gamma=1:site=blocks.1.hook_resid_post", "has no scores for blocks.1.hook_resid_post"},
                {"scale:" + tmp.resolve("nothing") + ":top-percent=5:gamma=1", "does not exist"},
                {"add:" + tmp.resolve("none.safetensors") + ":strength=1", "does not exist"},
                {"add:" + run + ":strength=1", "does not exist"},
                {"mul:x", "expected none, scale:"},
                {"scale::top-percent=5:gamma=1", "no path"},
        };
        for (String[] c : cases) {
            var e = assertThrows(IpgException.class, () -> Steering.parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        // a selection made for a different width is refused before generating
        Selection sel = Selection.of(SITE, new float[10], new Top.Count(1), Rank.SIGNED);
        var e = assertThrows(IpgException.class, () -> new Steering.Scale(sel, 0, "x").checkIn(model.config()));
        assertTrue(e.getMessage().contains("has 10 components, the model's site has 64"), e.getMessage());
    }
}
