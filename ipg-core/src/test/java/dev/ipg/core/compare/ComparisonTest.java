package dev.ipg.core.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.attribution.baselines.ControlVectorBaseline;
import dev.ipg.core.attribution.baselines.IntegratedGradients;
import dev.ipg.core.attribution.baselines.Method;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.eval.Wilson;
import dev.ipg.core.io.Json;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.TinyTextModel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison end to end on a tiny model: every reported figure is the measured one; disjointness is enforced. */
class ComparisonTest {

    @TempDir
    static Path tmp;

    static Parallel pool;
    static Transformer model;
    static Tokenizer tok;
    static Dataset support;
    static Dataset eval;

    static final Site SITE = new Site(0, Site.Kind.MLP_POST);

    /** Many end-of-sequence ids, so lengths vary with the intervention and the rows can be told apart. */
    static final Set<Integer> EOS = java.util.stream.IntStream.range(0, 30000).boxed().collect(java.util.stream.Collectors.toSet());

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
    }

    @AfterAll
    static void tearDown() {
        tok.close();
        model.close();
        pool.close();
    }

    static Comparison.Spec spec(List<Method> methods) {
        IpgOptions ipg = new IpgOptions(2, 2, 1.5, 1.0, 0, 4, Advantage.RLOO, IpgOptions.BaselineKind.ZERO, IpgOptions.SamplingMode.ON_PATH,
                IpgOptions.Positions.ALL, Quadrature.RIEMANN_RIGHT, 3);
        return new Comparison.Spec(SITE, new Comparison.Selection(methods, new Top.Percent(25), Rank.SIGNED),
                new Comparison.Conditions(2.0, 0.0, List.of(0.0, 1.0, 3.0), methods.contains(Method.IPG) ? List.of(Method.IPG) : List.of()),
                new Comparison.Estimators(ipg, "regex:[A-Z]",
                        new IntegratedGradients.Options(2, Quadrature.RIEMANN_RIGHT, IpgOptions.BaselineKind.ZERO, IpgOptions.Positions.ALL),
                        Signal.Reflection.DEFAULT_WORDS,
                        new Comparison.ControlVector(ControlVectorBaseline.Variant.MEAN_DIFFERENCE, Comparison.CvMode.ADD, 1.0)),
                new Comparison.Seeding(2, 7),
                new Comparison.Splits(PromptFormat.plain(), EvalRun.Decoding.greedy(4, 2), 0, EvalRun.Decoding.greedy(5, 3), 0));
    }

    static Comparison.Result compare(Dataset sup, Dataset ev, Comparison.Spec spec, Path out) {
        try (Signal sig = Signals.parse(spec.estimators().signalSpec())) {
            return new Comparison(model, tok, sup, ev, sig, spec, EOS, out, ProgressListener.NONE).run();
        }
    }

    @Test
    void everyFigureIsReadFromItsEvaluation() throws IOException {
        Path out = tmp.resolve("cmp");
        List<Method> methods = List.of(Method.IPG, Method.RANDOM, Method.ACTIVATION, Method.CONTROL_VECTOR, Method.PG, Method.IG);
        var r = compare(support, eval, spec(methods), out);
        assertEquals(EvalRun.readSummary(out.resolve("evals/original")), r.original().summary());
        // enhance and suppress for each method; the control vector is added (enhance only)
        assertEquals(2 * 5 + 1, r.rows().size());
        for (var row : r.rows()) {
            if (row.method().equals("control-vector")) {
                assertEquals("enhance", row.condition());
                assertEquals(EvalRun.readSummary(out.resolve("evals/control-vector-add1")), row.summary());
                continue;
            }
            String g = row.condition().equals("enhance") ? "2" : "0";
            if (row.method().equals("random")) {
                var s0 = EvalRun.readSummary(out.resolve("evals/top-25pct-signed/random-seed0-gamma" + g));
                var s1 = EvalRun.readSummary(out.resolve("evals/top-25pct-signed/random-seed1-gamma" + g));
                assertEquals(List.of(s0.accuracy(), s1.accuracy()), row.seedAccuracies());
                assertEquals(s0.correct() + s1.correct(), row.summary().correct());
                assertEquals(6, row.summary().problems());
                assertEquals((s0.meanGeneratedTokens() + s1.meanGeneratedTokens()) / 2, row.summary().meanGeneratedTokens(), 1e-12);
            } else {
                assertEquals(EvalRun.readSummary(out.resolve("evals/top-25pct-signed/" + row.method() + "-gamma" + g)), row.summary());
            }
        }
        // the rows differ (so the checks above can tell evaluations apart)
        long distinct = r.rows().stream().map(x -> x.summary().meanGeneratedTokens()).distinct().count();
        assertTrue(distinct >= 3, "mean lengths of the rows: " + r.rows().stream().map(x -> x.summary().meanGeneratedTokens()).toList());
        // the sweep: gamma 1 is the original model, gamma 0 the suppress evaluation
        assertEquals(3, r.sweep().size());
        assertEquals(r.original().summary(), r.sweep().get(1).summary());
        var ipgSuppress = r.rows().stream().filter(x -> x.method().equals("ipg") && x.condition().equals("suppress")).findFirst().orElseThrow();
        assertEquals(ipgSuppress.summary(), r.sweep().get(0).summary());
        assertEquals(EvalRun.readSummary(out.resolve("evals/top-25pct-signed/ipg-gamma3")), r.sweep().get(2).summary());
        // the selections differ between methods: each evaluation records its own components
        JsonNode ipgCfg = Json.read(out.resolve("evals/top-25pct-signed/ipg-gamma0/eval-config.json"));
        assertEquals(8, ipgCfg.at("/intervention/components").size()); // 25 % of 32
        // files for the report
        JsonNode j = Json.read(out.resolve("comparison.json"));
        assertEquals(11, j.get("rows").size());
        assertEquals(3, j.get("gamma_sweep").size());
        assertEquals(r.original().accuracy(), j.at("/original/accuracy").asDouble(), 0);
        assertEquals(1 + 1 + 11, Files.readAllLines(out.resolve("comparison.csv")).size());
        assertEquals(4, Files.readAllLines(out.resolve("gamma_sweep.csv")).size());
        assertTrue(Files.readAllLines(out.resolve("comparison.csv")).get(1).startsWith("original,original,none,1,"));
        String table = r.table();
        assertTrue(table.contains("random (2 seeds)"), table);
        assertTrue(table.contains("gamma sweep"), table);
        // a rerun resumes everything and reports the same
        var again = compare(support, eval, spec(methods), out);
        assertEquals(r.json().get("rows"), again.json().get("rows"));
    }

    @Test
    void overlappingSupportAndEvaluationSetsAreRefused() throws IOException {
        Path s = tmp.resolve("overlap.jsonl");
        Files.writeString(s, """
                {"question": "What is 2 + 3?", "answer": "#### 5"}
                {"question": "what is 1 +  1?", "answer": "#### 2"}
                """);
        var e = assertThrows(IpgException.class, () -> compare(Dataset.load(s), eval, spec(List.of(Method.RANDOM)), tmp.resolve("o")));
        assertTrue(e.getMessage().contains("overlap"), e.getMessage());
        assertTrue(e.getMessage().contains("identical question"), e.getMessage());
        // the same file on both sides shares every id
        var e2 = assertThrows(IpgException.class, () -> compare(eval, eval, spec(List.of(Method.RANDOM)), tmp.resolve("o2")));
        assertTrue(e2.getMessage().contains("3 shared ids"), e2.getMessage());
        assertEquals(1, e2.getMessage().lines().count());
        // only the problems used count: the first problem alone does not overlap
        var limited = new Comparison.Spec(SITE, new Comparison.Selection(List.of(Method.RANDOM), new Top.Count(2), Rank.SIGNED),
                new Comparison.Conditions(2, 0, List.of(), List.of()),
                new Comparison.Estimators(spec(List.of(Method.RANDOM)).estimators().ipg(), "correct",
                        spec(List.of(Method.RANDOM)).estimators().ig(), List.of("wait"),
                        new Comparison.ControlVector(ControlVectorBaseline.Variant.MEAN_DIFFERENCE, Comparison.CvMode.ADD, 1)),
                new Comparison.Seeding(1, 0),
                new Comparison.Splits(PromptFormat.plain(), EvalRun.Decoding.greedy(2, 1), 1, EvalRun.Decoding.greedy(2, 2), 0));
        Path s2 = tmp.resolve("overlap2.jsonl");
        Files.writeString(s2, """
                {"question": "What is 4 + 4?", "answer": "#### 8"}
                {"question": "What is 1 + 1?", "answer": "#### 2"}
                """);
        var r = compare(Dataset.load(s2), eval, limited, tmp.resolve("o3"));
        assertEquals(2, r.rows().size());
    }

    @Test
    void poolingSeedsAddsCountsAndAveragesLengths() {
        var a = new EvalRun.Summary(10, 3, Wilson.of(3, 10), 20, 1, 50, 9, Map.of("eos", 10));
        var b = new EvalRun.Summary(10, 5, Wilson.of(5, 10), 40, 2, 50, 10, Map.of("eos", 8, "max_tokens", 2));
        var p = Comparison.pool(List.of(a, b));
        assertEquals(20, p.problems());
        assertEquals(8, p.correct());
        assertEquals(Wilson.of(8, 20), p.interval());
        assertEquals(30, p.meanGeneratedTokens(), 1e-12);
        assertEquals(1.5, p.reflectionPerCompletion(), 1e-12);
        assertEquals(50, p.reflectionPer1kTokens(), 1e-12);
        assertEquals(Map.of("eos", 18, "max_tokens", 2), p.finishes());
    }

    private static Comparison.Row row(String method, String cond, double gamma, int correct, int n) {
        var s = new EvalRun.Summary(n, correct, Wilson.of(correct, n), 30, 0, 0, n, Map.of("eos", n));
        return new Comparison.Row(method, cond, gamma, false, "x", s, List.of(s.accuracy()));
    }

    @Test
    void verdictSaysWhetherIpgBeatsEveryBaselineFromTheMeasuredAccuracies() {
        var original = row("original", "original", 1, 70, 100);
        // enhance: random is ahead of IPG; suppress: IPG drops most, far outside the others' intervals
        var rows = List.of(row("ipg", "enhance", 1.5, 72, 100), row("random", "enhance", 1.5, 75, 100),
                row("activation", "enhance", 1.5, 60, 100), row("ipg", "suppress", 0, 20, 100),
                row("random", "suppress", 0, 66, 100), row("activation", "suppress", 0, 50, 100));
        var v = new Comparison.Result(original, rows, List.of(), null).verdict();
        assertEquals(2, v.size(), v.toString());
        assertEquals("enhance (gamma 1.5): IPG +2.0 points; best baseline random +5.0 points: IPG does NOT beat random.", v.get(0));
        assertEquals("suppress (gamma 0): IPG -50.0 points; best baseline activation -20.0 points: IPG beats every baseline "
                + "(95 % intervals disjoint).", v.get(1));
        // a narrow win inside the intervals is reported as not significant
        var close = List.of(row("ipg", "enhance", 1.5, 76, 100), row("random", "enhance", 1.5, 75, 100));
        assertTrue(new Comparison.Result(original, close, List.of(), null).verdict().getFirst()
                .endsWith("IPG beats every baseline, but the 95 % intervals overlap (not significant at this size; see the paired intervals of the protocol)."));
        // random over seeds is shown with the range of its seeds, not a Wilson interval of pooled trials
        var pooled = new EvalRun.Summary(300, 210, Wilson.of(210, 300), 30, 0, 0, 300, Map.of("eos", 300));
        var random = new Comparison.Row("random", "suppress", 0, false, "x", pooled, List.of(0.6, 0.7, 0.8));
        assertEquals(0.6, random.lower(), 0);
        assertEquals(0.8, random.upper(), 0);
        String table = new Comparison.Result(original, List.of(random), List.of(), null).table();
        assertTrue(table.contains("70.0 [ 60.0, 80.0]s"), table);
        assertTrue(table.contains("not pooled trials"), table);
        // without IPG there is nothing to say
        assertTrue(new Comparison.Result(original, List.of(row("random", "enhance", 1.5, 75, 100)), List.of(), null).verdict().isEmpty());
    }

    @Test
    void refineRanksTheFirstStagesTopKByASecondRunInWhichOnlyTheyMove() {
        Path out = tmp.resolve("refine");
        Comparison.Spec spec = spec(List.of(Method.IPG));
        try (Signal sig = Signals.parse(spec.estimators().signalSpec())) {
            new Comparison(model, tok, support, eval, sig, spec, EOS, out, ProgressListener.NONE).refine(3).run();
        }
        Path first = out.resolve("methods/ipg-stage1");
        Path second = out.resolve("methods/ipg-stage2");
        float[] s1 = ScoresFile.load(first, SITE).scores();
        float[] s2 = ScoresFile.load(second, SITE).scores();
        int[] cand = ScoresFile.load(first, SITE).select(new Top.Count(3), Rank.SIGNED).components();
        // the second stage moves the first stage's top 3 only (its run.json says so); every other component scores 0
        JsonNode c2 = Json.read(second.resolve("run.json")).path("config");
        assertEquals(3, c2.at("/hyperparameters/candidates/top").asInt(), c2.toString());
        List<Integer> moved = new java.util.ArrayList<>();
        c2.at("/hyperparameters/candidates/components").path(SITE.toString()).forEach(n -> moved.add(n.asInt()));
        assertEquals(java.util.Arrays.stream(cand).sorted().boxed().toList(), moved);
        java.util.Set<Integer> in = new java.util.HashSet<>();
        for (int i : cand) {
            in.add(i);
        }
        for (int i = 0; i < s2.length; i++) {
            if (!in.contains(i)) {
                assertEquals(0f, s2[i], "component " + i + " outside the candidates");
            }
        }
        // IPG's ranking: the 3 by their second-stage score, then the rest by the first stage's (ties by the lower index)
        List<Integer> expected = new java.util.ArrayList<>(in);
        expected.sort((a, b) -> s2[a] != s2[b] ? Float.compare(s2[b], s2[a]) : Integer.compare(a, b));
        List<Integer> rest = new java.util.ArrayList<>();
        for (int i = 0; i < s1.length; i++) {
            if (!in.contains(i)) {
                rest.add(i);
            }
        }
        rest.sort((a, b) -> s1[a] != s1[b] ? Float.compare(s1[b], s1[a]) : Integer.compare(a, b));
        expected.addAll(rest);
        int[] ranked = ScoresFile.load(out.resolve("methods/ipg"), SITE).select(new Top.Count(s1.length), Rank.SIGNED)
                .components();
        assertEquals(expected, java.util.Arrays.stream(ranked).boxed().toList());
        // the suppress evaluation uses that ranking's top 25 % (8 of 32)
        JsonNode ev = Json.read(out.resolve("evals/top-25pct-signed/ipg-gamma0/eval-config.json"));
        List<Integer> used = new java.util.ArrayList<>();
        ev.at("/intervention/components").forEach(n -> used.add(n.asInt()));
        assertEquals(new java.util.TreeSet<>(expected.subList(0, 8)), new java.util.TreeSet<>(used));
        // refused: negative, not below the width, with abs ranking
        try (Signal sig = Signals.parse(spec.estimators().signalSpec())) {
            Comparison cmp = new Comparison(model, tok, support, eval, sig, spec, EOS, tmp.resolve("refine-bad"), ProgressListener.NONE);
            assertTrue(assertThrows(IpgException.class, () -> cmp.refine(-1)).getMessage().contains("--refine must be >= 0"));
            assertTrue(assertThrows(IpgException.class, () -> cmp.refine(32)).getMessage().contains("below the 32 components"));
            Comparison.Spec abs = new Comparison.Spec(spec.site(), new Comparison.Selection(spec.selection().methods(), spec.selection().top(),
                    Rank.ABS), spec.conditions(), spec.estimators(), spec.seeding(), new Comparison.Splits(spec.splits().format(),
                    spec.splits().supportDecoding(), 0, spec.splits().evalDecoding(), 0));
            Comparison a = new Comparison(model, tok, support, eval, sig, abs, EOS, tmp.resolve("refine-abs"), ProgressListener.NONE);
            assertTrue(assertThrows(IpgException.class, () -> a.refine(2)).getMessage().contains("--rank abs"));
        }
    }
}
