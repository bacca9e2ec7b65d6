package dev.ipg.core.attribution.baselines;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.run.Seeds;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.SteeringVector;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.TinyTextModel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every baseline on a tiny model: one score per component, the run format, determinism, and its defining statistic. */
class BaselinesTest {

    @TempDir
    static Path tmp;

    static Parallel pool;
    static Transformer model;
    static Tokenizer tok;
    static Dataset data;

    static final Site RESID = new Site(0, Site.Kind.RESID_POST);
    static final Site MLP = new Site(0, Site.Kind.MLP_POST);

    @BeforeAll
    static void setUp() throws IOException {
        Path dir = TinyTextModel.write(tmp.resolve("m"), 5);
        pool = Parallel.of(2);
        model = Transformer.load(dir, KernelsProvider.lookup(), pool);
        tok = Tokenizer.load(dir);
        Path f = tmp.resolve("support.jsonl");
        Files.writeString(f, """
                {"question": "What is 2 + 3?", "answer": "Add them: 2 + 3 = <<2+3=5>>5\\n#### 5"}
                {"question": "What is 7 - 4?", "answer": "Take away: 7 - 4 = <<7-4=3>>3\\n#### 3"}
                {"question": "What is 6 * 2?", "answer": "Double it: 6 * 2 = <<6*2=12>>12\\n#### 12"}
                """);
        data = Dataset.load(f);
    }

    @AfterAll
    static void tearDown() {
        tok.close();
        model.close();
        pool.close();
    }

    static Support support() {
        return new Support(model, tok, data, 0, PromptFormat.plain(), Set.of(), ProgressListener.NONE);
    }

    static float[] read(Path dir, String tensor) {
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("scores.safetensors"))) {
            var m = f.matrix(tensor);
            float[] v = new float[(int) m.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = m.getFlat(i);
            }
            return v;
        }
    }

    static void assertRunFormat(Path dir, Site site, String method, boolean perPrompt) throws IOException {
        int d = site.width(model.config());
        assertEquals(d, read(dir, "scores").length);
        assertArrayEquals(read(dir, "scores"), read(dir, site + "/scores"));
        if (perPrompt) {
            assertEquals(3 * d, read(dir, "per_prompt").length);
            assertArrayEquals(read(dir, "per_prompt"), read(dir, site + "/per_prompt"));
        }
        ScoresFile sf = ScoresFile.load(dir, null);
        assertEquals(site, sf.site());
        assertEquals(method, sf.method());
        JsonNode run = Json.read(dir.resolve("run.json"));
        assertEquals(method, run.at("/config/method").asText());
        List<String> top = Files.readAllLines(dir.resolve("top.csv"));
        assertEquals("site,rank,component,score,abs_score,std_err,positive_prompts,prompts", top.getFirst());
        assertEquals(Math.min(50, d) + 1, top.size());
        float[] s = read(dir, "scores");
        int best = Integer.parseInt(top.get(1).split(",")[2]);
        for (float v : s) {
            assertTrue(v <= s[best], "top.csv starts with the largest score");
        }
    }

    // ------------------------------------------------------------------ random

    @Test
    void randomIsSeededAndUniform() throws IOException {
        Path a = tmp.resolve("rand-a");
        Path b = tmp.resolve("rand-b");
        Path c = tmp.resolve("rand-c");
        RandomBaseline.run(model, RESID, 1, a);
        RandomBaseline.run(model, RESID, 1, b);
        RandomBaseline.run(model, RESID, 2, c);
        assertRunFormat(a, RESID, "random", false);
        assertArrayEquals(read(a, "scores"), read(b, "scores"));
        assertFalse(java.util.Arrays.equals(read(a, "scores"), read(c, "scores")));
        // across many seeds each component is chosen about equally often (top 4 of 16: p = 1/4)
        int[] hits = new int[16];
        for (int seed = 0; seed < 2000; seed++) {
            var sel = dev.ipg.core.steer.Selection.of(RESID, RandomBaseline.scores(16, seed), new dev.ipg.core.steer.Top.Count(4),
                    dev.ipg.core.steer.Rank.SIGNED);
            for (int i : sel.components()) {
                hits[i]++;
            }
        }
        for (int h : hits) {
            assertEquals(500, h, 80, "binomial(2000, 1/4) has sd 19.4");
        }
        var e = assertThrows(IpgException.class, () -> RandomBaseline.run(model, RESID, 3, a));
        assertTrue(e.getMessage().contains("hyperparameters.seed 1 vs 3"), e.getMessage());
    }

    // ------------------------------------------------------------------ activation

    static List<int[]> greedyCompletions(int max) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int[] p = PromptFormat.plain().encode(data.get(i).question(), tok);
            out.add(new Generator(model).generate(List.of(p), new Generator.Options(SamplingParams.greedy(), max, Set.of(), List.of(), null),
                    Hooks.none(), null).getFirst().tokens());
        }
        return out;
    }

    /** Activations of a site over the whole teacher-forced sequence, (T, d). */
    static float[] teacherForced(int[] ids, Site site) {
        ActivationCache cache = new ActivationCache();
        model.forward(Batch.ofSequence(0, 0, ids), model.newCache(1, ids.length), Hooks.none().read(site, cache), new int[0]);
        return cache.get(site, 0);
    }

    static int[] concat(int[] a, int[] b) {
        return Support.concat(a, b);
    }

    @Test
    void activationIsTheMeanMagnitudeOverTheModelsOwnCompletions() throws IOException {
        var dec = EvalRun.Decoding.greedy(6, 2);
        Path a = tmp.resolve("act-a");
        ActivationBaseline.run(support(), MLP, dec, null, a);
        assertRunFormat(a, MLP, "activation", true);
        int d = MLP.width(model.config());
        List<int[]> comps = greedyCompletions(6);
        float[] expect = new float[d];
        for (int i = 0; i < 3; i++) {
            int[] p = PromptFormat.plain().encode(data.get(i).question(), tok);
            float[] h = teacherForced(concat(p, comps.get(i)), MLP);
            float[] row = java.util.Arrays.copyOfRange(read(a, "per_prompt"), i * d, (i + 1) * d);
            for (int k = 0; k < d; k++) {
                double s = 0;
                for (int t = p.length; t < p.length + 6; t++) {
                    s += Math.abs(h[t * d + k]);
                }
                assertEquals(s / 6, row[k], 1e-5, "problem " + i + " component " + k);
                expect[k] += (float) (s / 6 / 3);
            }
        }
        assertArrayEquals(expect, read(a, "scores"), 1e-5f);
        assertTrue(Files.exists(a.resolve("completions/completions.jsonl")));
        // the same again from scratch: identical
        Path b = tmp.resolve("act-b");
        ActivationBaseline.run(support(), MLP, dec, null, b);
        assertArrayEquals(read(a, "scores"), read(b, "scores"));
        // a finished run is found, not recomputed
        long before = Files.getLastModifiedTime(a.resolve("scores.safetensors")).toMillis();
        JsonNode again = ActivationBaseline.run(support(), MLP, dec, null, a);
        assertEquals(before, Files.getLastModifiedTime(a.resolve("scores.safetensors")).toMillis());
        assertEquals("activation", again.at("/config/method").asText());
    }

    // ------------------------------------------------------------------ reasoning neuron

    /** Reasoning words with a contrast conjunction and a two-token phrase, to exercise the matching. */
    static final List<String> WORDS = List.of("wait", "but", "double-check", "hmm");

    @Test
    void reasoningTokensAreThoseOverlappingAReasoningWord() {
        String text = "So x = 5. Wait, but the button... Hmm, let me double-check: BUT waiting is fine. 等等, wait!";
        int[] ids = tok.encode(text, false);
        boolean[] mark = ReasoningNeuronBaseline.reasoningTokens(tok, ids, new Signal.Reflection(WORDS).pattern());
        List<String> marked = new ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            if (mark[i]) {
                marked.add(tok.decode(new int[] {ids[i]}, true).strip().toLowerCase(java.util.Locale.ROOT));
            }
        }
        // "button" and "waiting" are not the words; "double-check" spans two tokens
        assertEquals(List.of("wait", "but", "hmm", "double", "-check", "but", "wait"), marked);
    }

    @Test
    void reasoningNeuronContrastsReasoningTokensWithTheOthers() throws IOException {
        var dec = EvalRun.Decoding.greedy(4, 3);
        // the model's completions, then replaced by texts that do contain reasoning words (a random
        // model's gibberish rarely does); the run reads them back instead of generating
        Path comps = tmp.resolve("rn-completions");
        new EvalRun(model, tok, data, EvalRun.Spec.of(PromptFormat.plain(), dec), Set.of(), comps, ProgressListener.NONE).run(0);
        String[] texts = {" 5. Wait, that is right.", " Hmm, 3, but check it again.", " It is 12 and that is it."};
        List<String> lines = Files.readAllLines(comps.resolve(EvalRun.COMPLETIONS));
        StringBuilder sb = new StringBuilder();
        List<int[]> gens = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            var node = (com.fasterxml.jackson.databind.node.ObjectNode) Json.parse(lines.get(i), "line", false);
            int[] ids = tok.encode(texts[i], false);
            gens.add(ids);
            var arr = node.putArray("tokens");
            for (int x : ids) {
                arr.add(x);
            }
            node.put("completion", texts[i]);
            sb.append(node).append('\n');
        }
        Files.writeString(comps.resolve(EvalRun.COMPLETIONS), sb.toString());
        Path a = tmp.resolve("rn-a");
        JsonNode run = ReasoningNeuronBaseline.run(support(), RESID, dec, WORDS, comps, a);
        assertRunFormat(a, RESID, "reasoning-neuron", false);
        int d = RESID.width(model.config());
        double[] sumR = new double[d];
        double[] sumO = new double[d];
        int nR = 0;
        int nO = 0;
        for (int i = 0; i < 3; i++) {
            int[] p = PromptFormat.plain().encode(data.get(i).question(), tok);
            float[] h = teacherForced(concat(p, gens.get(i)), RESID);
            for (int t = 0; t < gens.get(i).length; t++) {
                String w = tok.decode(new int[] {gens.get(i)[t]}, true).strip().toLowerCase(java.util.Locale.ROOT);
                boolean r = w.equals("wait") || w.equals("hmm") || w.equals("but");
                for (int k = 0; k < d; k++) {
                    (r ? sumR : sumO)[k] += h[(p.length + t) * d + k];
                }
                if (r) {
                    nR++;
                } else {
                    nO++;
                }
            }
        }
        assertEquals(3, nR);
        assertEquals(nR, run.at("/results/reasoning_tokens").asInt());
        assertEquals(nO, run.at("/results/other_tokens").asInt());
        float[] s = read(a, "scores");
        for (int k = 0; k < d; k++) {
            assertEquals(sumR[k] / nR - sumO[k] / nO, s[k], 1e-5);
        }
        Path b = tmp.resolve("rn-b");
        ReasoningNeuronBaseline.run(support(), RESID, dec, WORDS, comps, b);
        assertArrayEquals(s, read(b, "scores"));
        // words that never occur are a clear error
        var e = assertThrows(IpgException.class, () -> ReasoningNeuronBaseline.run(support(), RESID, dec, List.of("zebra"), comps,
                tmp.resolve("rn-c")));
        assertTrue(e.getMessage().contains("none of the"), e.getMessage());
    }

    // ------------------------------------------------------------------ control vector

    @Test
    void randomLettersHaveTheRequestedLengthAndAlphabet() {
        var rng = new SplittableRandom(3);
        for (int n : new int[] {0, 1, 7, 50, 333}) {
            String s = ControlVectorBaseline.randomLetters(n, rng);
            assertEquals(n, s.length());
            assertTrue(s.matches("[a-z ]*"), s);
        }
        assertEquals(ControlVectorBaseline.randomLetters(40, new SplittableRandom(9)), ControlVectorBaseline.randomLetters(40, new SplittableRandom(9)));
    }

    @Test
    void goldSolutionsDropCalculatorAnnotations() {
        assertEquals("Add them: 2 + 3 = 5\n#### 5", GoldSolutions.of(data, data.get(0)));
    }

    @Test
    void goldSolutionsOfTheSharedDatasets() throws IOException {
        Path root = dev.ipg.core.testutil.PyTorchReference.repositoryRoot().resolve("../shared/data").normalize();
        for (String f : List.of("gsm8k/test.jsonl", "math500/test.jsonl", "aime24/test.jsonl")) {
            if (!Files.isRegularFile(root.resolve(f))) {
                throw new AssertionError("missing shared data file " + root.resolve(f));
            }
        }
        Dataset gsm = Dataset.load(root.resolve("gsm8k/test.jsonl"));
        String g = GoldSolutions.of(gsm, gsm.get(0));
        assertTrue(g.startsWith("Janet sells 16 - 3 - 4 = 9 duck eggs a day."), g);
        assertTrue(g.endsWith("#### 18"), g);
        assertFalse(g.contains("<<"), g);
        for (String f : List.of("math500/test.jsonl", "aime24/test.jsonl")) {
            Dataset d = Dataset.load(root.resolve(f));
            String first = Files.readAllLines(root.resolve(f)).getFirst();
            String solution = new com.fasterxml.jackson.databind.ObjectMapper().readTree(first).get("solution").asText().strip();
            assertEquals(solution, GoldSolutions.of(d, d.get(0)), f);
        }
    }

    @Test
    void controlVectorIsTheMeanDifferenceOfSolutionAndRandomLetterActivations() throws IOException {
        Path a = tmp.resolve("cv-a");
        ControlVectorBaseline.run(support(), RESID, ControlVectorBaseline.Variant.MEAN_DIFFERENCE, 4, a);
        assertRunFormat(a, RESID, "control-vector", true);
        int d = RESID.width(model.config());
        float[] expect = new float[d];
        for (int i = 0; i < 3; i++) {
            int[] p = PromptFormat.plain().encode(data.get(i).question(), tok);
            String gold = GoldSolutions.of(data, data.get(i));
            String noise = ControlVectorBaseline.randomLetters(gold.length(), new SplittableRandom(Seeds.derive(4, i)));
            int[] pos = tok.encode("\n" + gold, false);
            int[] neg = tok.encode("\n" + noise, false);
            float[] hp = teacherForced(concat(p, pos), RESID);
            float[] hn = teacherForced(concat(p, neg), RESID);
            for (int k = 0; k < d; k++) {
                double mp = 0;
                double mn = 0;
                for (int t = 0; t < pos.length; t++) {
                    mp += hp[(p.length + t) * d + k];
                }
                for (int t = 0; t < neg.length; t++) {
                    mn += hn[(p.length + t) * d + k];
                }
                expect[k] += (float) ((mp / pos.length - mn / neg.length) / 3);
            }
        }
        assertArrayEquals(expect, read(a, "scores"), 1e-5f);
        assertArrayEquals(read(a, "scores"), read(a, "vector"));
        SteeringVector v = SteeringVector.load(a);
        assertEquals(RESID, v.site());
        assertArrayEquals(read(a, "scores"), v.values());
        Path b = tmp.resolve("cv-b");
        ControlVectorBaseline.run(support(), RESID, ControlVectorBaseline.Variant.MEAN_DIFFERENCE, 4, b);
        assertArrayEquals(read(a, "scores"), read(b, "scores"));
        Path c = tmp.resolve("cv-pca");
        ControlVectorBaseline.run(support(), RESID, ControlVectorBaseline.Variant.PCA, 4, c);
        assertEquals(d, SteeringVector.load(c).values().length);
    }

    @Test
    void principalDirectionOfKnownDifferences() {
        // x^T x = diag(18, 1): the leading direction is e1; the mean (2, 1/3) projects to (2, 0)
        float[] x = {3, 0, 0, 1, 3, 0};
        assertArrayEquals(new float[] {2, 0}, ControlVectorBaseline.principal(x, 3, 2, new float[] {2, 1f / 3}), 1e-6f);
        // rank one rows: the direction is the mean itself
        float[] y = {1, 2, -2, 2, 4, -4, -0.5f, -1, 1};
        float[] mean = {2.5f / 3, 5f / 3, -5f / 3};
        assertArrayEquals(mean, ControlVectorBaseline.principal(y, 3, 3, mean), 1e-6f);
    }

    // ------------------------------------------------------------------ pg and ig

    @Test
    void pgIsIpgWithOneStepAtAlphaOne() throws IOException {
        IpgOptions ipg = new IpgOptions(4, 3, 1.5, 1.0, 0, 5, Advantage.RLOO, IpgOptions.BaselineKind.ZERO, IpgOptions.SamplingMode.ON_PATH,
                IpgOptions.Positions.ALL, Quadrature.GAUSS_LEGENDRE, 8);
        IpgOptions pg = PolicyGradientBaseline.options(ipg);
        assertEquals(1, pg.steps());
        assertArrayEquals(new double[] {1.0}, pg.quadrature().rule(pg.steps()).nodes());
        assertEquals(ipg.samples(), pg.samples());
        Path a = tmp.resolve("pg-a");
        Path b = tmp.resolve("pg-b");
        try (Signal sig = Signals.parse("regex:[A-Z]")) {
            JsonNode run = PolicyGradientBaseline.run(support(), MLP, ipg, sig, "regex:[A-Z]", a);
            PolicyGradientBaseline.run(support(), MLP, ipg, sig, "regex:[A-Z]", b);
            assertEquals(1, run.at("/config/hyperparameters/steps").asInt());
            assertEquals("riemann-right", run.at("/config/hyperparameters/quadrature").asText());
        }
        assertEquals(MLP.width(model.config()), read(a, "scores").length);
        assertArrayEquals(read(a, "scores"), read(b, "scores"));
        assertEquals(MLP, ScoresFile.load(a, null).site());
    }

    @Test
    void igSatisfiesCompletenessAndResumes() throws IOException {
        var opt = new IntegratedGradients.Options(6, Quadrature.GAUSS_LEGENDRE, IpgOptions.BaselineKind.ZERO, IpgOptions.Positions.ALL);
        Path a = tmp.resolve("ig-a");
        JsonNode run = IntegratedGradients.run(support(), MLP, opt, a);
        assertRunFormat(a, MLP, "ig", true);
        double sum = run.at("/results/completeness/sum_scores").asDouble();
        double delta = run.at("/results/completeness/mean_l1_minus_l0").asDouble();
        assertTrue(Math.abs(delta) > 0.1, "zeroing the MLP should change the solution's log-probability: " + delta);
        assertEquals(delta, sum, 1e-3 * Math.abs(delta), "sum of IG vs L(1) - L(0)");
        // the per-problem L(1) is the plain teacher-forced log-probability of the solution
        int[] p = PromptFormat.plain().encode(data.get(0).question(), tok);
        int[] sol = tok.encode("\n" + GoldSolutions.of(data, data.get(0)), false);
        double l1 = 0;
        var lp = new dev.ipg.core.grad.ReverseMode(model).logProbs(List.of(new dev.ipg.core.grad.Trajectory(concat(p, sol), p.length)),
                Hooks.none());
        for (float x : lp.getFirst()) {
            l1 += x;
        }
        try (SafetensorsFile f = SafetensorsFile.open(a.resolve("prompts/00000.safetensors"))) {
            assertEquals(l1, Double.parseDouble(f.metadata().get("ipg.l1")), 1e-9);
        }
        // interrupted after the first problem: the rest is recomputed, the first read back
        Path b = tmp.resolve("ig-b");
        IntegratedGradients.run(support(), MLP, opt, b);
        Files.delete(b.resolve("prompts/00002.safetensors"));
        Files.delete(b.resolve("run.json"));
        Files.delete(b.resolve("scores.safetensors"));
        IntegratedGradients.run(support(), MLP, opt, b);
        assertArrayEquals(read(a, "scores"), read(b, "scores"));
        assertArrayEquals(read(a, "per_prompt"), read(b, "per_prompt"));
    }

    @Test
    void pgDrawsRandomStreamsIndependentOfIpgs() {
        // IPG with one point at alpha = 1 is the same estimator as pg; only the random streams differ
        IpgOptions one = new IpgOptions(1, 3, 1.5, 1.0, 0, 5, Advantage.RLOO, IpgOptions.BaselineKind.ZERO, IpgOptions.SamplingMode.ON_PATH,
                IpgOptions.Positions.ALL, Quadrature.RIEMANN_RIGHT, 8);
        Path ipg = tmp.resolve("streams-ipg");
        Path pg = tmp.resolve("streams-pg");
        try (Signal sig = Signals.parse("regex:[A-Z]")) {
            var s = support();
            new dev.ipg.core.attribution.AttributionRun(s.model(), s.tok(), s.data(), sig,
                    new dev.ipg.core.attribution.AttributionRun.Spec(List.of(MLP), one, "regex:[A-Z]", s.format(), 10), s.eos(), ipg,
                    ProgressListener.NONE).run(0);
            JsonNode run = PolicyGradientBaseline.run(s, MLP, one, sig, "regex:[A-Z]", pg);
            assertEquals("pg", run.at("/config/hyperparameters/random_streams").asText());
        }
        int same = 0;
        for (int i = 0; i < 3; i++) {
            JsonNode a = Json.read(ipg.resolve(String.format("prompts/%05d.json", i))).at("/sites/" + MLP + "/completions_last_point");
            JsonNode b = Json.read(pg.resolve(String.format("prompts/%05d.json", i))).at("/sites/" + MLP + "/completions_last_point");
            assertEquals(3, a.size());
            same += a.equals(b) ? 1 : 0;
        }
        assertEquals(0, same, "pg's samples must not repeat IPG's");
        assertTrue(!java.util.Arrays.equals(read(ipg, "scores"), read(pg, "scores")));
    }

    @Test
    void igAndIpgShareOneMeanBaseline() throws IOException {
        var s = support();
        List<int[]> prompts = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            prompts.add(s.prompt(i));
        }
        float[] mean = dev.ipg.core.attribution.MeanBaseline.of(model, prompts, List.of(MLP)).bySite().get(MLP);
        // the definition: the mean over every position of every support prompt
        int d = MLP.width(model.config());
        double[] manual = new double[d];
        long positions = 0;
        for (int[] p : prompts) {
            float[] a = s.activations(p, 0, MLP);
            for (int t = 0; t < p.length; t++) {
                for (int k = 0; k < d; k++) {
                    manual[k] += a[t * d + k];
                }
            }
            positions += p.length;
        }
        for (int k = 0; k < d; k++) {
            assertEquals(manual[k] / positions, mean[k], 1e-5, "component " + k);
        }
        // IG interpolates from it: its L(0) is the solution's log-probability at that baseline
        Path ig = tmp.resolve("ig-mean");
        IntegratedGradients.run(s, MLP, new IntegratedGradients.Options(2, Quadrature.MIDPOINT, IpgOptions.BaselineKind.MEAN,
                IpgOptions.Positions.ALL), ig);
        var t = IntegratedGradients.sequence(s, 0);
        double l0 = 0;
        for (float x : new dev.ipg.core.grad.ReverseMode(model).logProbs(List.of(t),
                dev.ipg.core.grad.Interpolation.at(MLP, d, 0, mean, 0).hooks()).getFirst()) {
            l0 += x;
        }
        try (SafetensorsFile f = SafetensorsFile.open(ig.resolve("prompts/00000.safetensors"))) {
            assertEquals(l0, Double.parseDouble(f.metadata().get("ipg.l0")), 1e-9);
        }
        // and IPG's persisted baseline is the same vector
        IpgOptions o = new IpgOptions(2, 3, 1.5, 1.0, 0, 3, Advantage.RLOO, IpgOptions.BaselineKind.MEAN, IpgOptions.SamplingMode.ON_PATH,
                IpgOptions.Positions.ALL, Quadrature.MIDPOINT, 1);
        Path ipg = tmp.resolve("ipg-mean");
        try (Signal sig = Signals.parse("regex:[A-Z]")) {
            new dev.ipg.core.attribution.AttributionRun(s.model(), s.tok(), s.data(), sig,
                    new dev.ipg.core.attribution.AttributionRun.Spec(List.of(MLP), o, "regex:[A-Z]", s.format(), 10), s.eos(), ipg,
                    ProgressListener.NONE).run(0);
        }
        try (SafetensorsFile f = SafetensorsFile.open(ipg.resolve("baseline.safetensors"))) {
            float[] v = new float[d];
            f.matrix(MLP.toString()).copyRow(0, v, 0);
            assertArrayEquals(mean, v);
        }
    }
}
