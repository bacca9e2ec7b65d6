package dev.ipg.core.run;

import dev.ipg.core.io.AtomicFiles;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;

/**
 * The per-component figures of one site over the prompts of a run: the score S_i, its standard
 * error over prompts and how many prompts scored the component positive; the one place that
 * computes them, ranks components and writes {@code top.csv}.
 *
 * @param site      the name of the scores (a site, or an SAE's latents)
 * @param prompts   M, the number of prompts (0 when the method has no per-prompt scores)
 * @param scores    S_i, one per component
 * @param stdErr    the standard error of the mean over prompts (NaN for M below 2 or without per-prompt scores)
 * @param positive  prompts with a positive score, per component (null without per-prompt scores)
 */
public record ComponentStats(String site, int prompts, float[] scores, float[] stdErr, int[] positive) {

    /** The header line of {@code top.csv}. */
    public static final String TOP_CSV_HEADER = "site,rank,component,score,abs_score,std_err,positive_prompts,prompts";

    /** The number of components. */
    public int width() {
        return scores.length;
    }

    /** Whether there were per-prompt scores (else the spread columns are empty). */
    public boolean perPrompt() {
        return positive != null;
    }

    /**
     * The figures of per-prompt scores {@code perPrompt} [m, d] row-major: S_i is their mean, the
     * standard error is the sample standard deviation over prompts divided by sqrt(m).
     */
    public static ComponentStats of(String site, float[] perPrompt, int m, int d) {
        return of(site, null, perPrompt, m, d);
    }

    /**
     * As {@link #of(String, float[], int, int)}, with the scores given ({@code scores} non-null: a
     * method whose S_i is not the mean of its per-prompt scores); {@code perPrompt} may be null
     * (no spread), then {@code m} is ignored.
     */
    public static ComponentStats of(String site, float[] scores, float[] perPrompt, int m, int d) {
        if (perPrompt == null) {
            float[] se = new float[d];
            Arrays.fill(se, Float.NaN);
            return new ComponentStats(site, 0, scores.clone(), se, null);
        }
        if (perPrompt.length != (long) m * d) {
            throw new IllegalArgumentException("per-prompt scores of " + site + ": " + perPrompt.length + " values, not " + m + " x " + d);
        }
        double[] sum = new double[d];
        int[] positive = new int[d];
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < d; c++) {
                float v = perPrompt[i * d + c];
                sum[c] += v;
                positive[c] += v > 0 ? 1 : 0;
            }
        }
        double[] sq = new double[d];
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < d; c++) {
                double dev = perPrompt[i * d + c] - sum[c] / m;
                sq[c] += dev * dev;
            }
        }
        float[] mean = new float[d];
        float[] se = new float[d];
        for (int c = 0; c < d; c++) {
            mean[c] = (float) (sum[c] / m);
            se[c] = m > 1 ? (float) Math.sqrt(sq[c] / (m - 1) / m) : Float.NaN;
        }
        return new ComponentStats(site, m, scores == null ? mean : scores.clone(), se, positive);
    }

    /** The mean of the rows of {@code perPrompt} [m, d]. */
    public static float[] meanRows(float[] perPrompt, int m, int d) {
        return of("rows", perPrompt, m, d).scores();
    }

    /**
     * The indices of {@code scores} best first under {@code key} (largest key first), ties broken
     * by the lower index, so that a ranking is a pure function of the scores.
     */
    public static int[] ranked(float[] scores, DoubleUnaryOperator key) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int c = Double.compare(key.applyAsDouble(scores[b]), key.applyAsDouble(scores[a]));
            return c != 0 ? c : Integer.compare(a, b);
        });
        int[] out = new int[order.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = order[i];
        }
        return out;
    }

    /** The {@code rows} rows of {@code top.csv} for this site: the largest signed scores first. */
    public String topCsvRows(int rows) {
        StringBuilder csv = new StringBuilder();
        int[] order = ranked(scores, v -> v);
        for (int r = 0; r < Math.min(rows, width()); r++) {
            int c = order[r];
            String spread = perPrompt()
                    ? String.format(Locale.ROOT, "%.8g,%d,%d", stdErr[c], positive[c], prompts)
                    : ",,";
            csv.append(String.format(Locale.ROOT, "%s,%d,%d,%.8g,%.8g,%s%n", site, r + 1, c, scores[c], Math.abs(scores[c]), spread));
        }
        return csv.toString();
    }

    /** Writes {@code top.csv} (atomically): the header, then the top {@code rows} of every site in order. */
    public static void writeTopCsv(Path file, List<ComponentStats> sites, int rows) {
        StringBuilder csv = new StringBuilder(TOP_CSV_HEADER).append('\n');
        sites.forEach(s -> csv.append(s.topCsvRows(rows)));
        byte[] bytes = csv.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }
}
