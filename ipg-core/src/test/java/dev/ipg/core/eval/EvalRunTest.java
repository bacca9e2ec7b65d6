package dev.ipg.core.eval;

import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.Problem;
import dev.ipg.core.data.PromptFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.Selection;
import dev.ipg.core.steer.Steering;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.TinyTextModel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Evaluation runs: scoring, summaries, batching, resume after a torn write, refusal to mix. */
class EvalRunTest {

    @TempDir
    static Path tmp;

    static Parallel pool;
    static Transformer model;
    static Tokenizer tok;
    static Dataset data;

    @BeforeAll
    static void setUp() throws IOException {
        Path dir = TinyTextModel.write(tmp.resolve("m"), 21);
        pool = Parallel.of(2);
        model = Transformer.load(dir, KernelsProvider.lookup(), pool);
        tok = Tokenizer.load(dir);
        Path f = tmp.resolve("eval.jsonl");
        Files.writeString(f, """
                {"question": "What is 2 + 3?", "answer": "2 + 3 = 5\\n#### 5"}
                {"question": "What is 7 - 4?", "answer": "7 - 4 = 3\\n#### 3"}
                {"question": "What is 6 * 2?", "answer": "6 * 2 = 12\\n#### 12"}
                {"question": "Tom has 4 apples and eats one. How many are left?", "answer": "4 - 1 = 3\\n#### 3"}
                {"question": "What is 10 / 5?", "answer": "10 / 5 = 2\\n#### 2"}
                """);
        data = Dataset.load(f);
    }

    @AfterAll
    static void tearDown() {
        tok.close();
        model.close();
        pool.close();
    }

    static EvalRun.Spec spec(EvalRun.Decoding d) {
        return EvalRun.Spec.of(PromptFormat.plain(), d);
    }

    static EvalRun.Result eval(Path dir, EvalRun.Spec spec, int limit) {
        return new EvalRun(model, tok, data, spec, Set.of(), dir, ProgressListener.NONE).run(limit);
    }

    @Test
    void scoringExtractsTheAnswerAndCountsReflectionWords() {
        Problem p = new Problem("q1", "What is 9 * 2?", "18", "{}");
        var refl = new Signal.Reflection();
        var a = EvalRun.score(0, p, "9 * 2 = 18. Wait, but let me double-check: hmm, yes.\n#### 18", new int[7], "eos", refl);
        assertTrue(a.correct());
        assertEquals("18", a.answer());
        assertEquals(2, a.reflectionWords()); // Wait, (double-)check
        assertEquals(7, a.generatedTokens());
        var b = EvalRun.score(1, p, "The answer is $\\boxed{17}$", new int[3], "eos", refl);
        assertFalse(b.correct());
        assertEquals("17", b.answer());
        var c = EvalRun.score(2, p, "no idea at all", new int[4], "max_tokens", refl);
        assertFalse(c.correct());
        assertNull(c.answer());
        assertEquals(0, c.reflectionWords());
        var d = EvalRun.score(3, p, "So she earns 18.00 dollars.", new int[2], "eos", refl);
        assertTrue(d.correct(), "18.00 is 18");
    }

    @Test
    void summaryGivesAccuracyWilsonIntervalLengthsAndReflectionRates() {
        List<EvalRun.Item> items = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            // 7 correct of 10; lengths 10, 20, ..., 100; reflection words i % 3
            items.add(new EvalRun.Item(i, "p" + i, "1", i < 7 ? "1" : null, i < 7, 10 * (i + 1), i == 9 ? "max_tokens" : "eos", i % 3,
                    "", new int[0]));
        }
        var s = EvalRun.summarize(items);
        assertEquals(10, s.problems());
        assertEquals(7, s.correct());
        assertEquals(0.7, s.accuracy(), 0);
        // the Wilson 95 % interval of 7/10, as tabulated (e.g. by R's binom.confint, method "wilson")
        assertEquals(0.3967781, s.interval().lower(), 1e-6);
        assertEquals(0.8922087, s.interval().upper(), 1e-6);
        assertEquals(55.0, s.meanGeneratedTokens(), 1e-12);
        assertEquals(0.9, s.reflectionPerCompletion(), 1e-12); // 0+1+2+0+1+2+0+1+2+0 = 9
        assertEquals(1000.0 * 9 / 550, s.reflectionPer1kTokens(), 1e-9);
        assertEquals(7, s.answered());
        assertEquals(Map.of("eos", 9, "max_tokens", 1), s.finishes());
    }

    @Test
    void completionsEqualDirectGreedyGenerationWhateverTheBatchSize() throws IOException {
        var r1 = eval(tmp.resolve("b1"), spec(EvalRun.Decoding.greedy(8, 1)), 0);
        var r3 = eval(tmp.resolve("b3"), spec(EvalRun.Decoding.greedy(8, 3)), 0);
        assertEquals(5, r1.items().size());
        for (int i = 0; i < 5; i++) {
            int[] prompt = PromptFormat.plain().encode(data.get(i).question(), tok);
            var direct = new Generator(model).generate(List.of(prompt), new Generator.Options(SamplingParams.greedy(), 8, Set.of(),
                    List.of(), null), dev.ipg.core.model.Hooks.none(), null).getFirst();
            assertArrayEquals(direct.tokens(), r1.items().get(i).tokens(), "problem " + i);
            assertArrayEquals(direct.tokens(), r3.items().get(i).tokens(), "problem " + i);
            assertEquals(tok.decode(direct.tokens(), true), r3.items().get(i).completion());
            assertEquals(data.get(i).id(), r3.items().get(i).id());
        }
        assertEquals(5, Files.readAllLines(tmp.resolve("b3").resolve(EvalRun.COMPLETIONS)).size());
        var summary = EvalRun.readSummary(tmp.resolve("b3"));
        assertEquals(r3.summary(), summary);
        assertEquals(8.0, summary.meanGeneratedTokens(), 0, "no end-of-sequence ids: every completion uses its budget");
        assertEquals(Map.of("max_tokens", 5), summary.finishes());
        assertEquals(64, r3.json().at("/config/model/fingerprint").asText().length());
    }

    @Test
    void aResumedRunAfterATornWriteEqualsAnUninterruptedOne() throws IOException {
        var dec = new EvalRun.Decoding(new SamplingParams(1.0, 0, 1.0, 77), 8, 2);
        Path a = tmp.resolve("sa");
        Path b = tmp.resolve("sb");
        eval(a, spec(dec), 0);
        eval(b, spec(dec), 3);
        // problem 3 of the block {2, 3} is missing; problem 2 was written and its line is torn
        Path f = b.resolve(EvalRun.COMPLETIONS);
        List<String> lines = Files.readAllLines(f);
        assertEquals(3, lines.size());
        Files.writeString(f, lines.get(0) + "\n" + lines.get(1) + "\n" + lines.get(2).substring(0, 30));
        long[] started = new long[2];
        new EvalRun(model, tok, data, spec(dec), Set.of(), b, new ProgressListener() {
            @Override
            public void start(String what, long total, long done) {
                started[0] = total;
                started[1] = done;
            }
        }).run(0);
        assertArrayEquals(new long[] {5, 2}, started);
        assertEquals(Files.readString(a.resolve(EvalRun.COMPLETIONS)), Files.readString(f));
        assertEquals(EvalRun.readSummary(a), EvalRun.readSummary(b));
        // another seed gives other completions (the comparison above can fail)
        var other = eval(tmp.resolve("sc"), spec(new EvalRun.Decoding(new SamplingParams(1.0, 0, 1.0, 78), 8, 2)), 0);
        assertFalse(Files.readString(a.resolve(EvalRun.COMPLETIONS)).equals(Files.readString(tmp.resolve("sc").resolve(EvalRun.COMPLETIONS))));
        assertEquals(5, other.items().size());
    }

    @Test
    void aDamagedLineInTheMiddleIsRefused() throws IOException {
        Path d = tmp.resolve("dmg");
        eval(d, spec(EvalRun.Decoding.greedy(4, 2)), 3);
        Path f = d.resolve(EvalRun.COMPLETIONS);
        List<String> lines = Files.readAllLines(f);
        Files.writeString(f, lines.get(0) + "\n{oops\n" + lines.get(2) + "\n");
        var e = assertThrows(IpgException.class, () -> eval(d, spec(EvalRun.Decoding.greedy(4, 2)), 3));
        assertTrue(e.getMessage().contains("line 2 is not a completion record"), e.getMessage());
    }

    @Test
    void steeringIsPartOfTheConfigurationAndGammaOneChangesNothing() throws IOException {
        Site site = new Site(0, Site.Kind.RESID_POST);
        float[] scores = new float[TinyTextModel.HIDDEN];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = (i * 7) % 5 - 2f;
        }
        Selection sel = Selection.of(site, scores, new Top.Percent(25), Rank.SIGNED);
        Path plain = tmp.resolve("plain");
        Path one = tmp.resolve("one");
        var dec = EvalRun.Decoding.greedy(8, 5);
        var r0 = eval(plain, spec(dec), 0);
        var r1 = eval(one, spec(dec).withSteering(new Steering.Scale(sel, 1.0, "test")), 0);
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(r0.items().get(i).tokens(), r1.items().get(i).tokens());
        }
        assertEquals("scale", r1.json().at("/config/intervention/kind").asText());
        assertEquals(4, r1.json().at("/config/intervention/components").size());
        var e = assertThrows(IpgException.class, () -> eval(one, spec(dec).withSteering(new Steering.Scale(sel, 0.0, "test")), 0));
        assertTrue(e.getMessage().contains("intervention.gamma 1.0 vs 0.0"), e.getMessage());
        var zero = eval(tmp.resolve("zero"), spec(dec).withSteering(new Steering.Scale(sel, 0.0, "test")), 0);
        boolean differs = false;
        for (int i = 0; i < 5; i++) {
            differs |= !java.util.Arrays.equals(r0.items().get(i).tokens(), zero.items().get(i).tokens());
        }
        assertTrue(differs, "suppressing a quarter of the residual should change some greedy completion");
    }
}
