package dev.ipg.core.attribution;

import dev.ipg.core.run.ProgressListener;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.PyTorchReference;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run directory: outputs, determinism across thread counts, resume, refusal to mix configurations. */
class AttributionRunTest {

    @TempDir
    static Path tmp;

    static Path model;
    static Path data;

    @BeforeAll
    static void setUp() throws IOException {
        Path tokDir = PyTorchReference.repositoryRoot().resolveSibling("shared").resolve("fixtures/tokenizers/qwen3");
        if (!Files.exists(tokDir.resolve("tokenizer.json"))) {
            throw new AssertionError("missing " + tokDir + " (../shared next to the repository)");
        }
        model = tmp.resolve("m");
        RandomCheckpoint.write(model, new RandomCheckpoint.Spec(Family.QWEN3, 16, 1, 2, 1, 8, 32, 151680, 64, DType.F32, true,
                false, false), 3);
        Files.copy(tokDir.resolve("tokenizer.json"), model.resolve("tokenizer.json"));
        Files.copy(tokDir.resolve("tokenizer_config.json"), model.resolve("tokenizer_config.json"));
        data = tmp.resolve("support.jsonl");
        Files.writeString(data, """
                {"question": "What is 2 + 3?", "answer": "2 + 3 = 5\\n#### 5"}
                {"question": "What is 7 - 4?", "answer": "7 - 4 = 3\\n#### 3"}
                {"question": "What is 6 * 2?", "answer": "6 * 2 = 12\\n#### 12"}
                """);
    }

    static final Site SITE = new Site(0, Site.Kind.MLP_POST);

    static IpgOptions options(long seed) {
        return new IpgOptions(2, 3, 1.5, 1.0, 0, 6, Advantage.RLOO, IpgOptions.BaselineKind.MEAN, IpgOptions.SamplingMode.ON_PATH,
                IpgOptions.Positions.ALL, Quadrature.MIDPOINT, seed);
    }

    static JsonNode run(Path dir, int threads, int limit, IpgOptions opt) {
        try (Parallel pool = Parallel.of(threads); Transformer m = Transformer.load(model, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(model); Signal signal = Signals.parse("regex:[A-Z]")) {
            var spec = new AttributionRun.Spec(List.of(SITE), opt, "regex:[A-Z]", PromptFormat.plain(), 10);
            return new AttributionRun(m, tok, Dataset.load(data), signal, spec, Set.of(), dir, ProgressListener.NONE).run(limit);
        }
    }

    static float[] scores(Path dir, String name) {
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("scores.safetensors"))) {
            var m = f.matrix(name);
            float[] v = new float[(int) m.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = m.getFlat(i);
            }
            return v;
        }
    }

    @Test
    void sameSeedSameScoresForAnyThreadCountAndAcrossAResume() throws IOException {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        JsonNode ra = run(a, 1, 3, options(9));
        run(b, 2, 3, options(9));
        // as if interrupted during the last prompt: its files are gone (or were never renamed into place)
        Files.delete(b.resolve("prompts/00002.json"));
        Files.delete(b.resolve("scores.safetensors"));
        JsonNode rb = run(b, 2, 3, options(9));
        assertTrue(Files.exists(b.resolve("prompts/00002.json")));
        assertArrayEquals(scores(a, "scores"), scores(b, "scores"));
        assertArrayEquals(scores(a, "per_prompt"), scores(b, "per_prompt"));
        assertEquals(3 * 32, scores(a, "per_prompt").length);
        assertTrue(sum(abs(scores(a, "per_prompt"))) > 0, "the signal should vary and give non-zero scores");
        // S_i is the mean of the per-prompt rows
        float[] s = scores(a, "scores");
        float[] pp = scores(a, "per_prompt");
        for (int i = 0; i < 32; i++) {
            assertEquals((pp[i] + pp[32 + i] + pp[64 + i]) / 3, s[i], 1e-6f);
        }
        assertEquals(ra.at("/completeness").toString(), rb.at("/completeness").toString());
        JsonNode c = ra.at("/completeness/" + SITE.toString().replace("/", "~1"));
        assertEquals(sum(s), c.get("sum_scores").asDouble(), 1e-5);
        assertTrue(c.has("mean_jbar1_minus_jbar0") && c.has("mean_jbar_alpha1_minus_jbar0"));
        // the estimator is labelled, and each path point's contribution adds up to the summed scores
        assertEquals("tempered", ra.at("/config/hyperparameters/policy_gradient").asText());
        assertEquals("rloo", c.get("advantage").asText());
        assertTrue(c.get("expected_to_hold").asBoolean());
        assertEquals(2, c.get("points").size());
        double bySum = 0;
        for (JsonNode pt : c.get("points")) {
            bySum += pt.get("contribution").asDouble();
        }
        assertEquals(c.get("sum_scores").asDouble(), bySum, 1e-5);
        assertTrue(ra.get("warnings").isArray() && c.get("warnings").isArray());
        float[] byPoint = scores(a, SITE + "/points");
        assertEquals(2 * 32, byPoint.length);
        for (int i = 0; i < 32; i++) {
            assertEquals(s[i], byPoint[i] + byPoint[32 + i], 1e-5f, "the points' rows add up to the scores");
        }
        assertEquals(64, ra.at("/config/model/fingerprint").asText().length());
        assertEquals(3, ra.get("prompts").size());
        assertTrue(Files.exists(a.resolve("baseline.safetensors")), "mean baseline persisted");
        List<String> top = Files.readAllLines(a.resolve("top.csv"));
        assertEquals(11, top.size());
        assertTrue(top.get(1).startsWith(SITE + ",1,"), top.get(1));
        JsonNode p0 = AttributionRun.JSON.readTree(Files.readString(a.resolve("prompts/00000.json")));
        assertEquals(2, p0.at("/sites/" + SITE + "/curve").size());
        assertEquals(3, p0.at("/sites/" + SITE + "/completions_last_point").size());
    }

    @Test
    void aMeanBaselineIsTiedToItsPrompts() {
        Path e = tmp.resolve("e");
        run(e, 2, 2, options(4));
        var ex = assertThrows(IpgException.class, () -> run(e, 2, 3, options(4)));
        assertTrue(ex.getMessage().contains("computed over 2 prompts, this run uses 3"), ex.getMessage());
    }

    @Test
    void aDifferentSeedGivesDifferentScoresAndRefusesToMix() {
        Path c = tmp.resolve("c");
        run(c, 2, 2, options(1));
        var e = assertThrows(IpgException.class, () -> run(c, 2, 2, options(2)));
        assertTrue(e.getMessage().contains("hyperparameters.seed 1 vs 2"), e.getMessage());
        Path d = tmp.resolve("d");
        run(d, 2, 2, options(2));
        assertTrue(!java.util.Arrays.equals(scores(c, "scores"), scores(d, "scores")));
    }

    static float[] abs(float[] a) {
        float[] b = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Math.abs(a[i]);
        }
        return b;
    }

    static double sum(float[] a) {
        double s = 0;
        for (float x : a) {
            s += x;
        }
        return s;
    }
}
