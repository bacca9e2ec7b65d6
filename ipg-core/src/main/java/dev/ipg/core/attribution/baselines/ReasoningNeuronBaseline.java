package dev.ipg.core.attribution.baselines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.model.Site;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reasoning neurons (after Rai and Yao 2024, on the residual stream): in the model's own
 * completions of the support prompts, a token is a reasoning token when its text overlaps an
 * occurrence of a reasoning word ("wait", "but", "double-check", "hmm" by default; whole words,
 * any case, as the reflection signal counts them). S_i = mean h_{t,i} over reasoning tokens
 * minus mean h_{t,i} over all other generated tokens, pooled over the support set (a
 * completion need not contain a reasoning word, so there are no per-prompt rows).
 */
public final class ReasoningNeuronBaseline {

    private ReasoningNeuronBaseline() {
    }

    /** Which of {@code tokens} overlap a match of {@code words} in their decoded text. */
    public static boolean[] reasoningTokens(Tokenizer tok, int[] tokens, Pattern words) {
        // character span of token j: [len(decode(t_0..t_{j-1})), len(decode(t_0..t_j))) in the full text
        String text = tok.decode(tokens, true);
        int[] end = new int[tokens.length + 1];
        for (int j = 1; j <= tokens.length; j++) {
            String prefix = tok.decode(java.util.Arrays.copyOf(tokens, j), true);
            int common = 0;
            int max = Math.min(prefix.length(), text.length());
            while (common < max && prefix.charAt(common) == text.charAt(common)) {
                common++;
            }
            // a partial UTF-8 character decodes to U+FFFD; count only what agrees with the full text
            end[j] = Math.max(end[j - 1], common);
        }
        boolean[] mark = new boolean[tokens.length];
        Matcher m = words.matcher(text);
        while (m.find()) {
            for (int j = 0; j < tokens.length; j++) {
                if (end[j] < m.end() && end[j + 1] > m.start()) {
                    mark[j] = true;
                }
            }
        }
        return mark;
    }

    /**
     * Computes (or finds) the scores at {@code site}; completions are generated into
     * {@code completionsDir} (null: {@code dir/completions}) unless already there.
     */
    public static JsonNode run(Support s, Site site, EvalRun.Decoding decoding, List<String> words, Path completionsDir, Path dir) {
        try (RunLock lock = ScoresOutput.lock(dir)) {
            return runLocked(s, site, decoding, words, completionsDir, dir);
        }
    }

    private static JsonNode runLocked(Support s, Site site, EvalRun.Decoding decoding, List<String> words, Path completionsDir, Path dir) {
        site.checkIn(s.model().config());
        long t0 = System.nanoTime();
        ObjectNode c = s.config(Method.REASONING_NEURON.cliName(), site);
        ObjectNode h = c.putObject("hyperparameters");
        h.set("decoding", decoding.json());
        ArrayNode w = h.putArray("words");
        words.forEach(w::add);
        h.put("statistic", "mean h on reasoning-word tokens - mean h on other generated tokens");
        JsonNode done = ScoresOutput.prepare(dir, c);
        if (done != null) {
            return done;
        }
        EvalRun.Result own = OwnCompletions.of(s, decoding, completionsDir == null ? dir.resolve("completions") : completionsDir);
        Pattern pattern = new Signal.Reflection(words).pattern();
        int m = s.used();
        int d = site.width(s.model().config());
        double[] sumR = new double[d];
        double[] sumO = new double[d];
        long nR = 0;
        long nO = 0;
        int withWords = 0;
        s.progress().start("activations", m, 0);
        for (int i = 0; i < m; i++) {
            int[] prompt = s.prompt(i);
            int[] gen = own.items().get(i).tokens();
            boolean[] mark = reasoningTokens(s.tok(), gen, pattern);
            float[] a = s.activations(Support.concat(prompt, gen), prompt.length, site);
            boolean any = false;
            for (int p = 0; p < gen.length; p++) {
                double[] acc = mark[p] ? sumR : sumO;
                for (int k = 0; k < d; k++) {
                    acc[k] += a[p * d + k];
                }
                if (mark[p]) {
                    nR++;
                    any = true;
                } else {
                    nO++;
                }
            }
            withWords += any ? 1 : 0;
            s.progress().advance("");
        }
        if (nR == 0 || nO == 0) {
            throw new IpgException("reasoning-neuron: " + (nR == 0 ? "none" : "all") + " of the " + (nR + nO)
                    + " generated tokens of the " + m + " support completions are reasoning words (" + String.join(", ", words)
                    + "); use more problems, a longer budget or other --words");
        }
        float[] scores = new float[d];
        for (int k = 0; k < d; k++) {
            scores[k] = (float) (sumR[k] / nR - sumO[k] / nO);
        }
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("completions", m);
        r.put("completions_with_reasoning_words", withWords);
        r.put("reasoning_tokens", nR);
        r.put("other_tokens", nO);
        r.put("support_accuracy", own.summary().accuracy());
        return ScoresOutput.write(dir, site, scores, null, m, c, r, Map.of(), 50, (System.nanoTime() - t0) / 1e9);
    }
}
