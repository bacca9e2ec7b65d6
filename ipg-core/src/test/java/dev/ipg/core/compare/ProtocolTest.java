package dev.ipg.core.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.JsonKeys;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.attribution.baselines.IntegratedGradients;
import dev.ipg.core.attribution.baselines.Method;
import dev.ipg.core.attribution.baselines.Support;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.io.Json;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.TinyTextModel;
import dev.ipg.core.tokenize.Tokenizer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol end to end on the tiny model of {@link ComparisonTest}: deterministic for a seed,
 * the ground truth equal to an independent log-softmax of the ablated model's logits, a method
 * that cannot score reported while the others go on, and the dev split kept disjoint.
 */
class ProtocolTest {

    @TempDir
    static Path tmp;

    static Parallel pool;
    static Transformer model;
    static Tokenizer tok;
    static Dataset support;
    static Dataset eval;
    static Dataset dev;

    @BeforeAll
    static void setUp() throws IOException {
        Path dir = TinyTextModel.write(tmp.resolve("m"), 8);
        pool = Parallel.of(2);
        model = Transformer.load(dir, KernelsProvider.lookup(), pool);
        tok = Tokenizer.load(dir);
        Path s = tmp.resolve("support.jsonl");
        Files.writeString(s, """
                {"question": "What is 2 + 3?", "answer": "2 + 3 = <<2+3=5>>5\\n#### 5"}
                {"question": "What is 7 - 4?", "answer": "7 - 4 = <<7-4=3>>3\\n#### 3"}
                """);
        Path e = tmp.resolve("eval.jsonl");
        Files.writeString(e, """
                {"question": "What is 6 * 2?", "answer": "6 * 2 = 12\\n#### 12"}
                {"question": "What is 9 - 1?", "answer": "9 - 1 = 8\\n#### 8"}
                {"question": "What is 1 + 1?", "answer": "1 + 1 = 2\\n#### 2"}
                """);
        support = Dataset.load(s);
        eval = Dataset.load(e);
        Path d = tmp.resolve("dev.jsonl");
        Files.writeString(d, """
                {"question": "What is 3 + 3?", "answer": "3 + 3 = 6\\n#### 6"}
                {"question": "What is 8 - 5?", "answer": "8 - 5 = 3\\n#### 3"}
                """);
        dev = Dataset.load(d);
    }

    @AfterAll
    static void tearDown() {
        tok.close();
        model.close();
        pool.close();
    }

    static Comparison.Spec spec() {
        Comparison.Spec s = ComparisonTest.spec(List.of(Method.IPG, Method.RANDOM, Method.ACTIVATION, Method.REASONING_NEURON));
        // reasoning-neuron with a word the model never writes cannot score
        Comparison.Estimators e = s.estimators();
        return new Comparison.Spec(s.site(), s.selection(), new Comparison.Conditions(s.conditions().enhance(), s.conditions().suppress(),
                List.of(), List.of()), new Comparison.Estimators(e.ipg(), e.signalSpec(), e.ig(), List.of("zqxjzqxj"), e.controlVector()),
                new Comparison.Seeding(3, s.seeding().seed()), s.splits());
    }

    static Protocol.Result run(Path out, Dataset devSplit, List<Dataset> exclude) {
        var p = new Protocol.Spec(List.of(ComparisonTest.SITE), List.of(), true, 500, 9, true, 64, 0);
        try (Signal sig = Signals.parse(spec().estimators().signalSpec())) {
            return new Protocol(model, tok, support, eval, devSplit, exclude, sig,
                    spec(), p, ComparisonTest.EOS, out, ProgressListener.NONE).run();
        }
    }

    @Test
    void curvesGroundTruthAndStabilityAreDeterministicAndAMethodThatCannotScoreIsReported() throws IOException {
        Protocol.Result a = run(tmp.resolve("pa"), dev, List.of());
        Protocol.Result b = run(tmp.resolve("pb"), dev, List.of());
        assertEquals(a.json().get("sites"), b.json().get("sites"));
        assertEquals(Json.read(tmp.resolve("pa").resolve(Protocol.JSON)).get("sites"), Json.read(tmp.resolve("pb").resolve(Protocol.JSON)).get("sites"));
        // the shape of the file an earlier ipg wrote for this very protocol
        try (var in = ProtocolTest.class.getResourceAsStream("/dev/ipg/core/report/protocol-earlier.json")) {
            assertEquals(JsonKeys.of(Json.parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), "earlier", false)),
                    JsonKeys.of(Json.read(tmp.resolve("pa").resolve(Protocol.JSON))));
        }
        Protocol.SiteResult s = a.sites().getFirst();
        int width = ComparisonTest.SITE.width(model.config());
        // k = 1, 2, 4, ... up to half the width
        int[] ks = s.ks();
        assertEquals(1, ks[0]);
        assertEquals(width / 2, ks[ks.length - 1]);
        assertEquals(2, s.conditions().size());
        // reasoning-neuron is reported, the others are on every curve
        assertTrue(s.table().unavailable().get("reasoning-neuron").contains("reasoning words"), s.table().unavailable().toString());
        for (Protocol.Condition c : s.conditions()) {
            assertEquals(List.of("ipg", "random", "activation"), c.curves().stream().map(Protocol.Curve::method).toList());
            Protocol.Curve ipg = c.curves().getFirst();
            assertNull(ipg.vsIpg());
            Protocol.Curve random = c.curves().get(1);
            assertEquals(3, random.seeds());
            for (int i = 0; i < ks.length; i++) {
                assertTrue(random.seedMin()[i] <= random.delta()[i] && random.delta()[i] <= random.seedMax()[i]);
                var d = random.vsIpg()[i];
                assertEquals(random.delta()[i] - ipg.delta()[i], d.mean(), 1e-9);
                assertTrue(d.lower() <= d.mean() && d.mean() <= d.upper());
                assertTrue(Double.isNaN(random.mcnemar()[i])); // no McNemar for a mean over seeds
                assertTrue(c.curves().get(2).mcnemar()[i] >= 0 && c.curves().get(2).mcnemar()[i] <= 1);
            }
            assertEquals(CurveArea.of(ks, random.delta()), random.area(), 1e-9);
            assertEquals(random.area() - ipg.area(), random.areaVsIpg().mean(), 1e-9);
        }
        assertTrue(s.verdict().stream().anyMatch(v -> v.contains("not compared (cannot score): reasoning-neuron")), s.verdict().toString());
        assertTrue(s.verdict().stream().anyMatch(v -> v.contains("suppress (gamma 0) curve area")), s.verdict().toString());
        // the ground truth: every component (width <= 64), each drop equal to an independent computation
        Protocol.GroundTruth g = s.groundTruth();
        assertEquals(width, g.candidates().length);
        for (int c : new int[] {0, 5, width - 1}) {
            assertEquals(independentDrop(c), g.drops()[c], 1e-4 * Math.max(1, Math.abs(g.drops()[c])));
        }
        assertEquals(g.drops()[g.truthTop()[0]], Arrays.stream(g.drops()).max().orElseThrow(), 0);
        assertEquals(List.of("ipg", "random", "activation"), g.matches().stream().map(Protocol.Match::method).toList());
        // stability: one Dice per k for every informed method (random does not depend on the support set)
        assertEquals(List.of("ipg", "activation"), s.stability().stream().map(Protocol.Stability::method).toList());
        for (Protocol.Stability st : s.stability()) {
            assertEquals(ks.length, st.dice().length);
            for (double d : st.dice()) {
                assertTrue(d >= 0 && d <= 1);
            }
        }
        JsonNode site = a.json().get("sites").get(0);
        assertEquals(width, site.get("ground_truth").get("drops").size());
    }

    /** log p(gold | model) - log p(gold | component c zeroed), by a log-softmax of the forward pass's logits, mean over dev problems. */
    static double independentDrop(int c) {
        double sum = 0;
        var format = spec().splits().format();
        for (int i = 0; i < dev.size(); i++) {
            var sup = new Support(model, tok, dev, 0, format, ComparisonTest.EOS, ProgressListener.NONE);
            var seq = IntegratedGradients.sequence(sup, i);
            float[] g = new float[ComparisonTest.SITE.width(model.config())];
            Arrays.fill(g, 1f);
            g[c] = 0f;
            sum += logProb(seq.tokens(), seq.from(), Hooks.none()) - logProb(seq.tokens(), seq.from(),
                    Hooks.none().intervene(ComparisonTest.SITE, new Intervention.Scale(g)));
        }
        return sum / dev.size();
    }

    static double logProb(int[] ids, int from, Hooks hooks) {
        int[] rows = new int[ids.length - from];
        for (int t = from; t < ids.length; t++) {
            rows[t - from] = t - 1; // the logits at t - 1 predict token t
        }
        float[] logits = model.forward(Batch.ofSequence(0, 0, ids), model.newCache(1, ids.length), hooks, rows);
        int v = logits.length / rows.length;
        double lp = 0;
        for (int r = 0; r < rows.length; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, logits[r * v + j]);
            }
            double z = 0;
            for (int j = 0; j < v; j++) {
                z += Math.exp(logits[r * v + j] - max);
            }
            lp += logits[r * v + ids[from + r]] - max - Math.log(z);
        }
        return lp;
    }

    @Test
    void aDevSplitSharingAProblemWithAnotherSplitOrAnExcludedFileIsRefused() throws IOException {
        Path d = tmp.resolve("dev-overlap.jsonl");
        Files.writeString(d, """
                {"question": "What is 6 * 2?", "answer": "#### 12"}
                """);
        var e = assertThrows(IpgException.class, () -> run(tmp.resolve("px"), Dataset.load(d), List.of()));
        assertTrue(e.getMessage().contains("identical question"), e.getMessage());
        var e2 = assertThrows(IpgException.class, () -> run(tmp.resolve("py"), dev, List.of(dev)));
        assertTrue(e2.getMessage().contains("overlap"), e2.getMessage());
        assertTrue(Files.notExists(tmp.resolve("px")) && Files.notExists(tmp.resolve("py")));
    }

    @Test
    void sizesDefaultToPowersOfTwoUpToHalfTheWidth() {
        var p = new Protocol.Spec(List.of(new Site(0, Site.Kind.RESID_POST)), List.of(), true, 100, 0, false, 0, 0);
        assertArrayEquals(new int[] {1, 2, 4, 8, 16, 32, 64}, p.sizes(128));
        assertArrayEquals(new int[] {1, 2, 4, 8, 16, 32, 64, 128}, p.sizes(384));
        var q = new Protocol.Spec(List.of(new Site(0, Site.Kind.RESID_POST)), List.of(64, 1, 8, 500), true, 100, 0, false, 0, 0);
        assertArrayEquals(new int[] {1, 8, 64}, q.sizes(128));
    }
}
