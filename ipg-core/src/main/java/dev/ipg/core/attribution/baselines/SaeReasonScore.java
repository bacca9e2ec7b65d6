package dev.ipg.core.attribution.baselines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeFingerprint;
import dev.ipg.core.sae.SaeSite;
import dev.ipg.core.signal.Signal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * SAE-R, ReasonScore (Galichin et al. 2025, "I Have Covered All the Bases Here: Interpreting
 * Reasoning Features in Large Language Models via Sparse Autoencoders", arXiv 2503.18878), computed
 * as the authors' code does it ({@code extraction/compute_score.py} of
 * github.com/AIRI-Institute/SAE-Reasoning, {@code SaeSelectionRunner.run}):
 *
 * <pre>
 *   ReasonScore_i = mu_i(D_R) / (sum_j mu_j(D_R) + eps) * H_i^alpha  -  mu_i(D_~R) / (sum_j mu_j(D_~R) + eps)
 *   H_i           = -sum_r p_ir log p_ir / log |R|     (H_i = 1 when |R| = 1; 0 log 0 = 0)
 *   p_ir          = mu_i(D_r) / (sum_r' mu_i(D_r') + eps),    eps = 1e-12
 * </pre>
 *
 * mu_i(D) is the mean activation of latent i over the positions D; D_r are the positions of the
 * tokens of every occurrence of reasoning word r together with the {@code before} positions before
 * and the {@code after} positions after each of them (their {@code expand_range}, (1, 2) in the
 * published run), D_R the union of the D_r (a position may lie in several D_r), D_~R every other
 * position. |R| is the number of words in the vocabulary, whether they occur or not: a word that
 * never occurs has mu_i(D_r) = 0. The entropy term multiplies the reasoning-side share only, as in
 * that code, and favours latents that fire on many of the words over those tied to one; alpha is
 * 0.7 in the published run. The latents are those of the SAE with its decoder norms folded into
 * the encoder (SAELens {@code fold_W_dec_norm}, {@link Sae#foldDecoderNorm()}), as the code does
 * before encoding.
 *
 * <p>Where ipg differs, by design: the positions are those of the model's own completions of the
 * support prompts (the paper uses a fixed text corpus), and a word matches as a whole word,
 * case-insensitively, in the decoded text (the paper matches the token ids of a few spellings).
 * If only one of several words occurs, every H_i is 0 and the scores rank latents by how little
 * they fire elsewhere; the run then warns and suggests giving only the words that occur.
 */
public final class SaeReasonScore {

    /** The ten reasoning words of the paper's published run ({@code extraction/reason_tokens.json}). */
    public static final List<String> PAPER_WORDS = List.of("alternatively", "hmm", "maybe", "wait", "perhaps", "let me",
            "therefore", "however", "but", "another");

    /** The epsilon of the authors' code. */
    static final double EPS = 1e-12;

    private SaeReasonScore() {
    }

    /**
     * D_r as masks: {@code near[r][p]} is whether position p is within {@code before} positions
     * before or {@code after} positions after a token of an occurrence of word r
     * ({@code at[r][p]}).
     */
    public static boolean[][] windows(boolean[][] at, int before, int after) {
        if (before < 0 || after < 0) {
            throw new IpgException("sae-r: the window must be >= 0 on both sides, got " + before + "," + after);
        }
        boolean[][] near = new boolean[at.length][];
        for (int r = 0; r < at.length; r++) {
            int n = at[r].length;
            near[r] = new boolean[n];
            for (int p = 0; p < n; p++) {
                if (at[r][p]) {
                    for (int q = Math.max(0, p - before); q <= Math.min(n - 1, p + after); q++) {
                        near[r][q] = true;
                    }
                }
            }
        }
        return near;
    }

    /**
     * ReasonScore from per-position latents (positions, d_sae): {@code near[r][p]} says whether
     * position p is in D_r (see the class comment).
     */
    public static float[] score(float[] latents, boolean[][] near, int dSae, double alpha) {
        int words = near.length;
        int t = latents.length / dSae;
        double[] sumR = new double[dSae];
        double[] sumO = new double[dSae];
        double[][] sumWord = new double[words][dSae];
        long[] countWord = new long[words];
        long nR = 0;
        long nO = 0;
        for (int p = 0; p < t; p++) {
            boolean any = false;
            for (int r = 0; r < words; r++) {
                if (near[r][p]) {
                    any = true;
                    countWord[r]++;
                    for (int i = 0; i < dSae; i++) {
                        sumWord[r][i] += latents[p * dSae + i];
                    }
                }
            }
            double[] acc = any ? sumR : sumO;
            for (int i = 0; i < dSae; i++) {
                acc[i] += latents[p * dSae + i];
            }
            if (any) {
                nR++;
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
            totR += sumR[i] / nR;
            totO += sumO[i] / nO;
        }
        float[] s = new float[dSae];
        for (int i = 0; i < dSae; i++) {
            double h = 1;
            if (words > 1) {
                double[] mu = new double[words];
                double sum = 0;
                for (int r = 0; r < words; r++) {
                    mu[r] = countWord[r] > 0 ? sumWord[r][i] / countWord[r] : 0;
                    sum += mu[r];
                }
                h = 0;
                for (int r = 0; r < words; r++) {
                    double pr = mu[r] / (sum + EPS);
                    h -= pr > 0 ? pr * Math.log(pr) : 0;
                }
                h /= Math.log(words);
            }
            s[i] = (float) (sumR[i] / nR / (totR + EPS) * Math.pow(h, alpha) - sumO[i] / nO / (totO + EPS));
        }
        return s;
    }

    /** Computes (or finds) SAE-R scores of {@code sae}'s latents over the support set. */
    public static JsonNode run(Support s, Sae sae, EvalRun.Decoding decoding, List<String> words, int before, int after, double alpha,
                               Path completionsDir, Path dir) {
        try (RunLock lock = ScoresOutput.lock(dir)) {
            return runLocked(s, sae, decoding, words, before, after, alpha, completionsDir, dir);
        }
    }

    private static JsonNode runLocked(Support s, Sae sae, EvalRun.Decoding decoding, List<String> words, int before, int after,
                                      double alpha, Path completionsDir, Path dir) {
        sae.checkIn(s.model().config());
        if (words.isEmpty()) {
            throw new IpgException("sae-r: no reasoning words");
        }
        if (before < 0 || after < 0) {
            throw new IpgException("sae-r: the window must be >= 0 on both sides, got " + before + "," + after);
        }
        if (!Double.isFinite(alpha) || alpha < 0) {
            throw new IpgException("sae-r: the entropy power must be a finite number >= 0, got " + alpha);
        }
        long t0 = System.nanoTime();
        ObjectNode c = s.config("sae-r", sae.site());
        c.put("site", sae.name(SaeSite.Point.ACTS_POST));
        c.set("sae", SaeFingerprint.json(sae));
        ObjectNode h = c.putObject("hyperparameters");
        h.set("decoding", decoding.json());
        ArrayNode w = h.putArray("words");
        words.forEach(w::add);
        h.put("window_before", before);
        h.put("window_after", after);
        h.put("entropy_power", alpha);
        h.put("formula", "mu_R/(sum mu_R + eps) * H^alpha - mu_notR/(sum mu_notR + eps), decoder norms folded (compute_score.py)");
        JsonNode done = ScoresOutput.prepare(dir, c);
        if (done != null) {
            return done;
        }
        EvalRun.Result own = OwnCompletions.of(s, decoding, completionsDir == null ? dir.resolve("completions") : completionsDir);
        int m = s.used();
        int d = sae.dIn();
        int n = sae.dSae();
        Sae folded = sae.foldDecoderNorm();
        List<float[]> lat = new ArrayList<>();
        List<boolean[][]> masks = new ArrayList<>();
        int total = 0;
        s.progress().start("latents", m, 0);
        for (int i = 0; i < m; i++) {
            int[] prompt = s.prompt(i);
            int[] gen = own.items().get(i).tokens();
            boolean[][] at = new boolean[words.size()][];
            for (int r = 0; r < words.size(); r++) {
                at[r] = ReasoningNeuronBaseline.reasoningTokens(s.tok(), gen, new Signal.Reflection(List.of(words.get(r))).pattern());
            }
            float[] a = s.activations(Support.concat(prompt, gen), prompt.length, sae.site());
            lat.add(folded.latents(a, gen.length));
            masks.add(windows(at, before, after));
            total += gen.length;
            s.progress().advance("");
        }
        float[] all = new float[total * n];
        boolean[][] allNear = new boolean[words.size()][total];
        int o = 0;
        for (int i = 0; i < lat.size(); i++) {
            int len = lat.get(i).length / n;
            System.arraycopy(lat.get(i), 0, all, o * n, lat.get(i).length);
            for (int r = 0; r < words.size(); r++) {
                System.arraycopy(masks.get(i)[r], 0, allNear[r], o, len);
            }
            o += len;
        }
        float[] scores = score(all, allNear, n, alpha);
        int[] perWord = new int[words.size()];
        long nearCount = 0;
        for (int p = 0; p < total; p++) {
            boolean any = false;
            for (int r = 0; r < words.size(); r++) {
                perWord[r] += allNear[r][p] ? 1 : 0;
                any |= allNear[r][p];
            }
            nearCount += any ? 1 : 0;
        }
        List<String> present = new ArrayList<>();
        for (int r = 0; r < words.size(); r++) {
            if (perWord[r] > 0) {
                present.add(words.get(r));
            }
        }
        if (words.size() > 1 && present.size() == 1) {
            s.progress().message("warning: sae-r: of the " + words.size() + " reasoning words only '" + present.getFirst()
                    + "' occurs in the completions, so the entropy term is 0 for every latent; give --words "
                    + present.getFirst() + " to rank by the reasoning-side share");
        }
        long near = nearCount;
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("completions", m);
        r.put("positions_near_reasoning_words", near);
        r.put("other_positions", total - near);
        r.put("support_accuracy", own.summary().accuracy());
        ObjectNode pw = r.putObject("positions_per_word");
        for (int q = 0; q < words.size(); q++) {
            pw.put(words.get(q), perWord[q]);
        }
        return ScoresOutput.write(dir, sae.name(SaeSite.Point.ACTS_POST), scores, null, m, c, r, Map.of(), 50,
                (System.nanoTime() - t0) / 1e9);
    }
}
