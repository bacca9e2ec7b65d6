package dev.ipg.core.attribution.baselines;

import dev.ipg.core.run.ComponentStats;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.model.Site;
import java.nio.file.Path;
import java.util.Map;

/**
 * Activation magnitude: S_i = mean over support prompts of the mean of |h_{t,i}| over the
 * positions t of the model's own completion (teacher-forced after generation, so position t
 * holds the activation at generated token t). Per-prompt rows are the per-completion means.
 */
public final class ActivationBaseline {

    private ActivationBaseline() {
    }

    /**
     * Computes (or finds) the scores at {@code site}; completions are generated into
     * {@code completionsDir} (null: {@code dir/completions}) unless already there.
     */
    public static JsonNode run(Support s, Site site, EvalRun.Decoding decoding, Path completionsDir, Path dir) {
        try (RunLock lock = ScoresOutput.lock(dir)) {
            return runLocked(s, site, decoding, completionsDir, dir);
        }
    }

    private static JsonNode runLocked(Support s, Site site, EvalRun.Decoding decoding, Path completionsDir, Path dir) {
        site.checkIn(s.model().config());
        long t0 = System.nanoTime();
        ObjectNode c = s.config(Method.ACTIVATION.cliName(), site);
        ObjectNode h = c.putObject("hyperparameters");
        h.set("decoding", decoding.json());
        h.put("positions", "generated");
        h.put("statistic", "mean |h|");
        JsonNode done = ScoresOutput.prepare(dir, c);
        if (done != null) {
            return done;
        }
        EvalRun.Result own = OwnCompletions.of(s, decoding, completionsDir == null ? dir.resolve("completions") : completionsDir);
        int m = s.used();
        int d = site.width(s.model().config());
        float[] perPrompt = new float[m * d];
        long positions = 0;
        s.progress().start("activations", m, 0);
        for (int i = 0; i < m; i++) {
            int[] prompt = s.prompt(i);
            int[] gen = own.items().get(i).tokens();
            float[] a = s.activations(Support.concat(prompt, gen), prompt.length, site); // (T_gen, d)
            int t = gen.length;
            for (int p = 0; p < t; p++) {
                for (int k = 0; k < d; k++) {
                    perPrompt[i * d + k] += Math.abs(a[p * d + k]) / t;
                }
            }
            positions += t;
            s.progress().advance("");
        }
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("completions", m);
        r.put("positions", positions);
        r.put("support_accuracy", own.summary().accuracy());
        r.put("mean_generated_tokens", own.summary().meanGeneratedTokens());
        return ScoresOutput.write(dir, site, ComponentStats.meanRows(perPrompt, m, d), perPrompt, m, c, r, Map.of(), 50,
                (System.nanoTime() - t0) / 1e9);
    }
}
