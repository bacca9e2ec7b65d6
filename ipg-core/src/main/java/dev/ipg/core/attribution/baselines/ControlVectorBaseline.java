package dev.ipg.core.attribution.baselines;

import dev.ipg.core.run.ComponentStats;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.run.Seeds;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.model.Site;
import dev.ipg.core.steer.SteeringVector;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A control vector (after Hojer et al. 2025): for each support problem, the prompt followed by
 * its correct chain-of-thought (the gold solution, teacher-forced) and the prompt followed by a
 * string of random lowercase letter words of the same number of characters; the per-problem
 * difference is mean h over the solution positions minus mean h over the random-letter
 * positions. The direction is the mean of these differences ({@code mean-difference}), or its
 * first principal direction ({@code pca}: the leading right singular vector of the uncentered
 * difference matrix, signed and scaled to the mean difference's projection on it, so strengths
 * compare). Scores are the direction itself (so top-p selection works too); the direction is
 * also saved as {@code vector.safetensors} for additive steering.
 */
public final class ControlVectorBaseline {

    /** How the direction is made from the per-problem differences. */
    public enum Variant { MEAN_DIFFERENCE, PCA }

    private ControlVectorBaseline() {
    }

    /** Random lowercase "words" (1 to 8 letters, single spaces) of exactly {@code length} characters. */
    public static String randomLetters(int length, SplittableRandom rng) {
        StringBuilder sb = new StringBuilder(length);
        while (sb.length() < length) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            int w = 1 + rng.nextInt(8);
            for (int i = 0; i < w && sb.length() < length; i++) {
                sb.append((char) ('a' + rng.nextInt(26)));
            }
        }
        return sb.substring(0, length);
    }

    /** Computes (or finds) the direction and scores at {@code site}. */
    public static JsonNode run(Support s, Site site, Variant variant, long seed, Path dir) {
        try (RunLock lock = ScoresOutput.lock(dir)) {
            return runLocked(s, site, variant, seed, dir);
        }
    }

    private static JsonNode runLocked(Support s, Site site, Variant variant, long seed, Path dir) {
        site.checkIn(s.model().config());
        long t0 = System.nanoTime();
        ObjectNode c = s.config(Method.CONTROL_VECTOR.cliName(), site);
        ObjectNode h = c.putObject("hyperparameters");
        h.put("variant", variant.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        h.put("seed", seed);
        h.put("positive", "gold solution, teacher-forced");
        h.put("negative", "random lowercase letters of the same character length");
        JsonNode done = ScoresOutput.prepare(dir, c);
        if (done != null) {
            return done;
        }
        int m = s.used();
        int d = site.width(s.model().config());
        int ctx = s.model().config().maxPositions();
        float[] diffs = new float[m * d];
        int truncated = 0;
        long posTokens = 0;
        long negTokens = 0;
        s.progress().start("problems", m, 0);
        for (int i = 0; i < m; i++) {
            int[] prompt = s.prompt(i);
            String rendered = s.format().render(s.problem(i).question(), s.tok());
            String sep = rendered.isEmpty() || Character.isWhitespace(rendered.charAt(rendered.length() - 1)) ? "" : "\n";
            String gold = GoldSolutions.of(s.data(), s.problem(i));
            String noise = randomLetters(gold.length(), new SplittableRandom(Seeds.derive(seed, i)));
            int[] pos = Support.concat(prompt, s.tok().encode(sep + gold, false));
            int[] neg = Support.concat(prompt, s.tok().encode(sep + noise, false));
            if (pos.length > ctx || neg.length > ctx) {
                truncated++;
                pos = java.util.Arrays.copyOf(pos, Math.min(pos.length, ctx));
                neg = java.util.Arrays.copyOf(neg, Math.min(neg.length, ctx));
            }
            if (pos.length <= prompt.length || neg.length <= prompt.length) {
                throw new IpgException("control-vector: the prompt of problem " + s.problem(i).id()
                        + " fills the model's context of " + ctx + " positions; no room for the solution");
            }
            float[] ap = s.activations(pos, prompt.length, site);
            float[] an = s.activations(neg, prompt.length, site);
            int tp = pos.length - prompt.length;
            int tn = neg.length - prompt.length;
            posTokens += tp;
            negTokens += tn;
            for (int k = 0; k < d; k++) {
                double mp = 0;
                double mn = 0;
                for (int t = 0; t < tp; t++) {
                    mp += ap[t * d + k];
                }
                for (int t = 0; t < tn; t++) {
                    mn += an[t * d + k];
                }
                diffs[i * d + k] = (float) (mp / tp - mn / tn);
            }
            s.progress().advance("");
        }
        float[] mean = ComponentStats.meanRows(diffs, m, d);
        float[] direction = variant == Variant.PCA ? principal(diffs, m, d, mean) : mean;
        SteeringVector v = new SteeringVector(site, direction);
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("problems", m);
        r.put("solution_tokens", posTokens);
        r.put("random_letter_tokens", negTokens);
        r.put("truncated_to_context", truncated);
        r.put("vector_norm", v.norm());
        r.put("vector_file", SteeringVector.NAME);
        v.write(dir.resolve(SteeringVector.NAME), "ipg.method", Method.CONTROL_VECTOR.cliName(), "ipg.variant",
                h.get("variant").asText());
        return ScoresOutput.write(dir, site, direction, diffs, m, c, r, Map.of("vector", direction), 50, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The leading right singular vector u of the uncentered rows {@code x} [m, d] (power iteration
     * on x^T x), signed so that u . mean > 0 and scaled to (u . mean) u.
     */
    static float[] principal(float[] x, int m, int d, float[] mean) {
        double[] u = new double[d];
        double norm = 0;
        for (int k = 0; k < d; k++) {
            u[k] = mean[k];
            norm += u[k] * u[k];
        }
        if (norm == 0) {
            u[0] = 1;
            norm = 1;
        }
        scale(u, 1 / Math.sqrt(norm));
        for (int it = 0; it < 500; it++) {
            double[] xu = new double[m];
            for (int i = 0; i < m; i++) {
                for (int k = 0; k < d; k++) {
                    xu[i] += x[i * d + k] * u[k];
                }
            }
            double[] next = new double[d];
            for (int i = 0; i < m; i++) {
                for (int k = 0; k < d; k++) {
                    next[k] += x[i * d + k] * xu[i];
                }
            }
            double n2 = 0;
            for (double v : next) {
                n2 += v * v;
            }
            if (n2 == 0) {
                break;
            }
            scale(next, 1 / Math.sqrt(n2));
            double change = 0;
            for (int k = 0; k < d; k++) {
                change = Math.max(change, Math.abs(next[k] - u[k]));
            }
            u = next;
            if (change < 1e-10) {
                break;
            }
        }
        double proj = 0;
        for (int k = 0; k < d; k++) {
            proj += u[k] * mean[k];
        }
        float[] out = new float[d];
        for (int k = 0; k < d; k++) {
            out[k] = (float) (proj * u[k]); // (u . mean) u: the sign of u cancels
        }
        return out;
    }

    private static void scale(double[] v, double f) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= f;
        }
    }
}
