package dev.ipg.core.attribution.baselines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeFingerprint;
import dev.ipg.core.sae.SaeSite;
import dev.ipg.core.signal.Signal;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * SAE-R, ReasonScore (Galichin et al. 2025, arXiv 2503.18878), restated: in the model's own
 * completions of the support prompts, the positions within {@code window} tokens of an
 * occurrence of reasoning word r form D_r, their union D_R, every other generated position D_~R.
 * With mu_i(D) the mean of latent i over D and nu_i(D) = mu_i(D) / sum_j mu_j(D) (each latent's
 * share of the activation there),
 *
 * <pre>
 *   ReasonScore_i = (nu_i(D_R) - nu_i(D_~R)) * H_i^entropyPower
 *   H_i           = -sum_r p_ir log p_ir / log |R'|,   p_ir = mu_i(D_r) / sum_r' mu_i(D_r')
 * </pre>
 *
 * over the words R' that occur. The entropy term favours latents that fire on many reasoning
 * words over those tied to one word (H = 1 when only one word occurs).
 */
public final class SaeReasonScore {

    private SaeReasonScore() {
    }

    /** ReasonScore from per-position latents: {@code words[t]} is -1 outside D_R, else the word index. */
    public static float[] score(float[] latents, int[] words, int dSae, int numWords, double entropyPower) {
        int t = words.length;
        double[] inR = new double[dSae];
        double[] out = new double[dSae];
        double[][] byWord = new double[numWords][dSae];
        long[] countWord = new long[numWords];
        long nR = 0;
        long nO = 0;
        for (int p = 0; p < t; p++) {
            double[] acc = words[p] >= 0 ? inR : out;
            for (int i = 0; i < dSae; i++) {
                acc[i] += latents[p * dSae + i];
            }
            if (words[p] >= 0) {
                nR++;
                countWord[words[p]]++;
                for (int i = 0; i < dSae; i++) {
                    byWord[words[p]][i] += latents[p * dSae + i];
                }
            } else {
                nO++;
            }
        }
        if (nR == 0 || nO == 0) {
            throw new IpgException("sae-r: " + (nR == 0 ? "no" : "every") + " generated position is near a reasoning word; "
                    + "use more problems, a longer budget or other --words");
        }
        double totR = 0;
        double totO = 0;
        for (int i = 0; i < dSae; i++) {
            totR += inR[i] / nR;
            totO += out[i] / nO;
        }
        int present = 0;
        for (long c : countWord) {
            present += c > 0 ? 1 : 0;
        }
        float[] s = new float[dSae];
        for (int i = 0; i < dSae; i++) {
            double nuR = totR > 0 ? inR[i] / nR / totR : 0;
            double nuO = totO > 0 ? out[i] / nO / totO : 0;
            double h = 1;
            if (present > 1) {
                double sum = 0;
                for (int r = 0; r < numWords; r++) {
                    sum += countWord[r] > 0 ? byWord[r][i] / countWord[r] : 0;
                }
                h = 0;
                if (sum > 0) {
                    for (int r = 0; r < numWords; r++) {
                        double pr = countWord[r] > 0 ? byWord[r][i] / countWord[r] / sum : 0;
                        h -= pr > 0 ? pr * Math.log(pr) : 0;
                    }
                    h /= Math.log(present);
                }
            }
            s[i] = (float) ((nuR - nuO) * Math.pow(h, entropyPower));
        }
        return s;
    }

    /** Computes (or finds) SAE-R scores of {@code sae}'s latents over the support set. */
    public static JsonNode run(Support s, Sae sae, EvalRun.Decoding decoding, List<String> words, int window, double entropyPower,
                               Path completionsDir, Path dir) {
        sae.checkIn(s.model().config());
        long t0 = System.nanoTime();
        ObjectNode c = s.config("sae-r", sae.site());
        c.put("site", sae.name(SaeSite.Point.ACTS_POST));
        c.set("sae", SaeFingerprint.json(sae));
        ObjectNode h = c.putObject("hyperparameters");
        h.set("decoding", decoding.json());
        ArrayNode w = h.putArray("words");
        words.forEach(w::add);
        h.put("window", window);
        h.put("entropy_power", entropyPower);
        JsonNode done = ScoresOutput.prepare(dir, c);
        if (done != null) {
            return done;
        }
        EvalRun.Result own = OwnCompletions.of(s, decoding, completionsDir == null ? dir.resolve("completions") : completionsDir);
        int m = s.used();
        int d = sae.dIn();
        int n = sae.dSae();
        java.util.List<float[]> lat = new java.util.ArrayList<>();
        java.util.List<int[]> marks = new java.util.ArrayList<>();
        int total = 0;
        s.progress().start("latents", m, 0);
        for (int i = 0; i < m; i++) {
            int[] prompt = s.prompt(i);
            int[] gen = own.items().get(i).tokens();
            int[] mark = new int[gen.length];
            java.util.Arrays.fill(mark, -1);
            for (int r = 0; r < words.size(); r++) {
                boolean[] at = ReasoningNeuronBaseline.reasoningTokens(s.tok(), gen, new Signal.Reflection(List.of(words.get(r))).pattern());
                for (int p = 0; p < gen.length; p++) {
                    if (at[p]) {
                        for (int q = Math.max(0, p - window); q <= Math.min(gen.length - 1, p + window); q++) {
                            if (mark[q] < 0 || q == p) {
                                mark[q] = r;
                            }
                        }
                    }
                }
            }
            float[] a = s.activations(Support.concat(prompt, gen), prompt.length, sae.site());
            lat.add(sae.latents(a, gen.length));
            marks.add(mark);
            total += gen.length;
            s.progress().advance("");
        }
        float[] all = new float[total * n];
        int[] allMarks = new int[total];
        int o = 0;
        for (int i = 0; i < lat.size(); i++) {
            System.arraycopy(lat.get(i), 0, all, o * n, lat.get(i).length);
            System.arraycopy(marks.get(i), 0, allMarks, o, marks.get(i).length);
            o += marks.get(i).length;
        }
        float[] scores = score(all, allMarks, n, words.size(), entropyPower);
        long near = java.util.Arrays.stream(allMarks).filter(x -> x >= 0).count();
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("completions", m);
        r.put("positions_near_reasoning_words", near);
        r.put("other_positions", total - near);
        r.put("support_accuracy", own.summary().accuracy());
        return ScoresOutput.write(dir, sae.name(SaeSite.Point.ACTS_POST), scores, null, m, c, r, Map.of(), 50,
                (System.nanoTime() - t0) / 1e9);
    }
}
