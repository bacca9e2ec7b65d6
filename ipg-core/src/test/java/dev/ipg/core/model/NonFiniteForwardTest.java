package dev.ipg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.grad.Interpolation;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A copy of the demo model with a NaN or an infinity in one place: generation, the teacher-forced
 * log-probabilities and the site gradients each end in one line naming the tensor (or, for an
 * overflow of finite weights, the site) instead of returning NaN logits, empty text or zero scores.
 */
class NonFiniteForwardTest {

    @TempDir
    static Path tmp;

    static final String PROMPT = "What is 12+7? 19";

    static int[] digitIds() {
        try (Tokenizer tok = Tokenizer.load(BrokenCheckpoints.demo())) {
            return "0123456789".chars().map(ch -> tok.tokenId(String.valueOf((char) ch)).orElseThrow()).toArray();
        }
    }

    static Stream<Arguments> brokenModels() {
        int[] digits = digitIds();
        int d = 128;
        int firstDigit = Arrays.stream(digits).min().orElseThrow();
        return Stream.of(
                Arguments.of("lm_head all NaN", (Function<Path, Path>) out ->
                        BrokenCheckpoints.withValue(out, "lm_head.weight", -1, Float.NaN),
                        "tensor lm_head.weight holds NaN at [0, 0]"),
                Arguments.of("one NaN in a q_proj", (Function<Path, Path>) out ->
                        BrokenCheckpoints.withValue(out, "model.layers.1.self_attn.q_proj.weight", 4 * d + 5, Float.NaN),
                        "tensor model.layers.1.self_attn.q_proj.weight holds NaN at [4, 5]"),
                Arguments.of("Inf embeddings of the digits", (Function<Path, Path>) out ->
                        BrokenCheckpoints.withWeights(out, (name, v) -> {
                            if (name.equals("model.embed_tokens.weight")) {
                                for (int id : digits) {
                                    Arrays.fill(v, id * d, (id + 1) * d, Float.POSITIVE_INFINITY);
                                }
                            }
                        }),
                        "tensor model.embed_tokens.weight holds +Inf at [" + firstDigit + ", 0]"),
                Arguments.of("Inf in the final norm", (Function<Path, Path>) out ->
                        BrokenCheckpoints.withValue(out, "model.norm.weight", 5, Float.POSITIVE_INFINITY),
                        "tensor model.norm.weight holds +Inf at [0, 5]"),
                Arguments.of("3e38 in a down_proj (finite weights that overflow)", (Function<Path, Path>) out ->
                        BrokenCheckpoints.withValue(out, "model.layers.2.mlp.down_proj.weight", -1, 3e38f),
                        "blocks.2.hook_resid_post is "),
                Arguments.of("one NaN in an up_proj", (Function<Path, Path>) out ->
                        BrokenCheckpoints.withValue(out, "model.layers.0.mlp.up_proj.weight", 7 * d + 104, Float.NaN),
                        "tensor model.layers.0.mlp.up_proj.weight holds NaN at [7, 104]"));
    }

    private static void assertNamed(IpgException e, Path dir, String expected) {
        String m = e.getMessage();
        assertTrue(m.startsWith(dir + ": "), m);
        assertTrue(m.contains(expected), m);
        assertTrue(m.contains("position "), m);
        assertFalse(m.contains("\n"), m);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenModels")
    void everyPassEndsInOneLineNamingTheCause(String what, Function<Path, Path> build, String expected) {
        Path dir = build.apply(tmp.resolve(what.replaceAll("[^a-z0-9]+", "-")));
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(dir)) {
            int[] ids = tok.encode(PROMPT, false);
            var opt = new Generator.Options(SamplingParams.greedy(), 8, Set.of(), List.of(), null);
            IpgException gen = assertThrows(IpgException.class,
                    () -> new Generator(m).generate(List.of(ids), opt, Hooks.none(), null));
            assertNamed(gen, dir, expected);

            ReverseMode rm = new ReverseMode(m);
            List<Trajectory> ts = List.of(new Trajectory(ids, 4));
            assertNamed(assertThrows(IpgException.class, () -> rm.logProbs(ts, Hooks.none())), dir, expected);
            Site site = new Site(1, Site.Kind.RESID_POST);
            IpgException grad = assertThrows(IpgException.class,
                    () -> rm.siteGradients(ts, Interpolation.uniform(site, site.width(m.config()), 0.5f), false));
            assertTrue(grad.getMessage().contains(expected.startsWith("blocks.") ? "blocks.2." : expected), grad.getMessage());
        }
    }

    @Test
    void theOverflowIsPlacedInTheBlockWhereItHappens() {
        Path dir = BrokenCheckpoints.withValue(tmp.resolve("overflow"), "model.layers.2.mlp.down_proj.weight", -1, 3e38f);
        try (Parallel pool = Parallel.of(1); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool)) {
            int[] ids = {1, 5, 9, 12};
            IpgException e = assertThrows(IpgException.class,
                    () -> m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length), Hooks.none(), new int[] {3}));
            assertEquals(dir + ": blocks.2.hook_resid_post is NaN at position 0 of sequence 0 (component 0), the first"
                    + " non-finite value of the pass: the MLP output projection of block 2 overflows the float range"
                    + " (every weight is finite)", e.getMessage());
        }
    }

    @Test
    void theHealthyModelPassesTheSameChecks() {
        Path dir = BrokenCheckpoints.demo();
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(dir)) {
            int[] ids = tok.encode(PROMPT, false);
            var opt = new Generator.Options(SamplingParams.greedy(), 8, Set.of(), List.of(), null);
            assertEquals(8, new Generator(m).generate(List.of(ids), opt, Hooks.none(), null).getFirst().tokens().length);
            Site site = new Site(1, Site.Kind.RESID_POST);
            var r = new ReverseMode(m).siteGradients(List.of(new Trajectory(ids, 4)),
                    Interpolation.uniform(site, site.width(m.config()), 0.5f), false).getFirst();
            assertTrue(Double.isFinite(r.objective()) && r.objective() < 0, "objective " + r.objective());
        }
    }

    @Test
    void theCheapCheckIsExactAboutFiniteness() {
        var k = KernelsProvider.lookup();
        float[] big = new float[1000];
        Arrays.fill(big, 1e20f); // squares overflow; every value is finite
        assertTrue(NonFinite.all(k, big, 0, big.length));
        float[] a = new float[1000];
        Arrays.fill(a, 0.25f);
        assertTrue(NonFinite.all(k, a, 0, a.length));
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            a[733] = bad;
            assertFalse(NonFinite.all(k, a, 0, a.length));
            assertTrue(NonFinite.all(k, a, 734, 266), "a range after the bad value");
            assertEquals(733, NonFinite.first(a, 0, a.length));
        }
    }
}
