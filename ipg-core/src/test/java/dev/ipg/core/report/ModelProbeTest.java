package dev.ipg.core.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.report.ReportData.Example;
import dev.ipg.core.report.ReportData.TokenTrajectory;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The sections that run the model: before/after log-probabilities and the process-level frequencies. */
class ModelProbeTest {

    static ReportFixture fx;
    static RunReader.Run run;
    static Parallel pool;
    static Transformer model;
    static Tokenizer tok;

    @BeforeAll
    static void setUp() throws IOException {
        fx = ReportFixture.shared();
        run = RunReader.read(fx.run);
        pool = Parallel.of(2);
        model = Transformer.load(fx.model, KernelsProvider.lookup(), pool);
        tok = Tokenizer.load(fx.model);
    }

    @AfterAll
    static void tearDown() {
        tok.close();
        model.close();
        pool.close();
    }

    static List<Example> examples(double gamma) {
        var probe = new ModelProbe(model, tok, run, new ModelProbe.Options(0, 2, gamma, 8, 0.9, 6));
        var section = probe.examples(RunReader.selectTop(run.sites(), 4));
        assertNotNull(section.value(), section.note());
        return section.value();
    }

    /** log p(x_t | x_<t) from the decode-mode forward pass: full logits, log-softmax by hand. */
    static float[] logProbsByForward(int[] prompt, int[] gen, Hooks hooks) {
        int[] all = new int[prompt.length + gen.length];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(gen, 0, all, prompt.length, gen.length);
        int[] rows = new int[gen.length];
        for (int k = 0; k < gen.length; k++) {
            rows[k] = prompt.length - 1 + k;
        }
        float[] logits = model.forward(Batch.ofSequence(0, 0, all), model.newCache(1, all.length), hooks, rows);
        int v = model.config().vocabSize();
        float[] out = new float[gen.length];
        for (int k = 0; k < gen.length; k++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < v; i++) {
                max = Math.max(max, logits[k * v + i]);
            }
            double z = 0;
            for (int i = 0; i < v; i++) {
                z += Math.exp(logits[k * v + i] - max);
            }
            out[k] = (float) (logits[k * v + gen[k]] - max - Math.log(z));
        }
        return out;
    }

    @Test
    void gammaOneIsTheIdentity() {
        for (Example e : examples(1.0)) {
            TokenTrajectory before = e.trajectories().get(0);
            TokenTrajectory after = e.trajectories().get(1);
            assertArrayEquals(before.ids(), after.ids(), "same seed, same model: same completion");
            assertArrayEquals(before.logpOriginal(), before.logpIntervened());
            assertArrayEquals(after.logpOriginal(), after.logpIntervened());
            assertEquals(tok.decode(before.ids(), false), String.join("", before.tokens()));
            assertNotNull(before.correct(), "the fixture's problems have gold answers");
            assertNotNull(before.reward());
        }
    }

    @Test
    void suppressionChangesLogProbsExactlyAsTheForwardPassSays() {
        List<Example> ex = examples(0.0);
        List<Example> identity = examples(1.0);
        var top = RunReader.selectTop(run.sites(), 4);
        Hooks suppress = ModelProbe.scaleHooks(top, 0.0, model);
        double largest = 0;
        for (int i = 0; i < ex.size(); i++) {
            Example e = ex.get(i);
            // the original model's sample does not depend on gamma
            assertArrayEquals(identity.get(i).trajectories().get(0).ids(), e.trajectories().get(0).ids());
            int[] prompt = PromptFormat.plain().encode(e.question(), tok);
            for (TokenTrajectory t : e.trajectories()) {
                assertArrayEquals(logProbsByForward(prompt, t.ids(), Hooks.none()), t.logpOriginal(), 2e-4f);
                assertArrayEquals(logProbsByForward(prompt, t.ids(), suppress), t.logpIntervened(), 2e-4f);
                for (int k = 0; k < t.ids().length; k++) {
                    largest = Math.max(largest, Math.abs(t.logpIntervened()[k] - t.logpOriginal()[k]));
                }
            }
        }
        assertTrue(largest > 1e-3, "suppressing the top components should move some log-probability, moved " + largest);
    }

    @Test
    void processLevelCoversTheRecordedCompletionsRoundRobin() {
        var probe = new ModelProbe(model, tok, run, new ModelProbe.Options(5, 0, 0, 8, 0.9, 0));
        var top = RunReader.selectTop(run.sites(), 6);
        var p = probe.processLevel(top).value();
        assertNotNull(p);
        assertEquals(5, p.trajectories());
        assertEquals(8, p.tokensPerBin().length);
        assertEquals(6, p.components().size());
        // first completions of prompts 0, 1, 2, then second completions of prompts 0, 1 (first site)
        List<String> texts = new ArrayList<>();
        for (int n = 0; n < 2; n++) {
            for (var pr : run.prompts()) {
                if (texts.size() < 5) {
                    texts.add(pr.completions().getFirst().items().get(n).text());
                }
            }
        }
        long tokens = 0;
        for (String t : texts) {
            tokens += tok.encode(t, false).length;
        }
        long inBins = 0;
        for (long n : p.tokensPerBin()) {
            inBins += n;
        }
        assertEquals(tokens, inBins);
        // a component fires where |h| exceeds the 0.9 quantile of its own |h|: with distinct values,
        // exactly the values above position floor(0.9 (N - 1)) of the sorted list
        long expectedFired = tokens - 1 - (long) Math.floor(0.9 * (tokens - 1));
        for (var c : p.components()) {
            double fired = 0;
            for (int b = 0; b < 8; b++) {
                if (p.tokensPerBin()[b] > 0) {
                    fired += c.frequency()[b] * p.tokensPerBin()[b];
                }
            }
            assertEquals(expectedFired, fired, 1e-6, c.site() + " #" + c.component());
            assertEquals(top.get(p.components().indexOf(c)).index(), c.component());
        }
    }
}
