package dev.ipg.core.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Normalized reasoning progress of every token of a completion, for the process-level analysis.
 *
 * <p>The completion is split into steps at blank lines ({@code \n}, optional spaces or tabs,
 * {@code \n}). A token belongs to the step its first character is in; a token inside a separator
 * belongs to the step before it, and a step of whitespace only is merged into the next one. Each
 * of the S steps gets an equal share of the progress axis, and the n tokens of step s are spread
 * evenly inside it:
 *
 * <pre>
 *   progress(token j of step s) = (s + (j + 0.5) / n) / S          in (0, 1)
 *   bin = floor(progress * bins)
 * </pre>
 *
 * so a completion without blank lines is one step and progress is plain token position.
 */
public final class ReasoningProgress {

    private static final Pattern BLANK_LINE = Pattern.compile("\\n[ \\t\\x0B\\f\\r]*\\n");

    private ReasoningProgress() {
    }

    /** The step of every token ({@code pieces[k]} is token k's text; their concatenation is the completion). */
    public static int[] steps(String[] pieces) {
        int n = pieces.length;
        int[] start = new int[n];
        StringBuilder text = new StringBuilder();
        for (int k = 0; k < n; k++) {
            start[k] = text.length();
            text.append(pieces[k]);
        }
        List<Integer> ends = new ArrayList<>();
        Matcher m = BLANK_LINE.matcher(text);
        while (m.find()) {
            ends.add(m.end());
        }
        int[] raw = new int[n];
        for (int k = 0; k < n; k++) {
            int s = 0;
            while (s < ends.size() && ends.get(s) <= start[k]) {
                s++;
            }
            raw[k] = s;
        }
        // merge whitespace-only steps into the next step (the last one into the previous)
        int maxStep = n == 0 ? -1 : raw[n - 1];
        boolean[] hasText = new boolean[maxStep + 1];
        for (int k = 0; k < n; k++) {
            if (!pieces[k].isBlank()) {
                hasText[raw[k]] = true;
            }
        }
        int[] target = new int[maxStep + 1];
        int next = -1;
        for (int s = maxStep; s >= 0; s--) {
            if (hasText[s]) {
                next = s;
            }
            target[s] = next;
        }
        int prev = -1;
        for (int s = 0; s <= maxStep; s++) {
            if (target[s] < 0) {
                target[s] = prev < 0 ? s : prev; // trailing blank steps join the last step with text
            } else {
                prev = target[s];
            }
        }
        // renumber the surviving steps 0..S-1
        int[] rank = new int[maxStep + 1];
        Arrays.fill(rank, -1);
        int count = 0;
        int[] out = new int[n];
        for (int k = 0; k < n; k++) {
            int t = target[raw[k]];
            if (rank[t] < 0) {
                rank[t] = count++;
            }
            out[k] = rank[t];
        }
        return out;
    }

    /** The normalized progress of every token, in (0, 1). */
    public static double[] progress(String[] pieces) {
        int[] step = steps(pieces);
        int n = step.length;
        if (n == 0) {
            return new double[0];
        }
        int s = step[n - 1] + 1;
        int[] size = new int[s];
        for (int st : step) {
            size[st]++;
        }
        double[] out = new double[n];
        int j = 0;
        for (int k = 0; k < n; k++) {
            j = k > 0 && step[k] == step[k - 1] ? j + 1 : 0;
            out[k] = (step[k] + (j + 0.5) / size[step[k]]) / s;
        }
        return out;
    }

    /** The number of steps of a completion. */
    public static int stepCount(String[] pieces) {
        int[] step = steps(pieces);
        return step.length == 0 ? 0 : step[step.length - 1] + 1;
    }

    /** The bin of a progress value in [0, 1]. */
    public static int bin(double progress, int bins) {
        return Math.min(bins - 1, Math.max(0, (int) Math.floor(progress * bins)));
    }

    /**
     * Activation frequency per bin of one component.
     *
     * @param activations per trajectory, the component's activation at each generated token
     * @param bins        per trajectory, the bin of each generated token
     * @param nBins       number of bins
     * @param threshold   the component fires where |activation| > threshold
     * @return fired tokens / tokens in each bin (NaN for a bin with no tokens)
     */
    public static double[] frequency(List<float[]> activations, List<int[]> bins, int nBins, double threshold) {
        long[] fired = new long[nBins];
        long[] total = new long[nBins];
        for (int t = 0; t < activations.size(); t++) {
            float[] a = activations.get(t);
            int[] b = bins.get(t);
            for (int k = 0; k < a.length; k++) {
                total[b[k]]++;
                if (Math.abs(a[k]) > threshold) {
                    fired[b[k]]++;
                }
            }
        }
        double[] f = new double[nBins];
        for (int i = 0; i < nBins; i++) {
            f[i] = total[i] == 0 ? Double.NaN : (double) fired[i] / total[i];
        }
        return f;
    }

    /** The {@code q} quantile (linear interpolation between order statistics) of |x| over all arrays. */
    public static double absQuantile(List<float[]> values, double q) {
        int n = values.stream().mapToInt(a -> a.length).sum();
        if (n == 0) {
            return Double.NaN;
        }
        double[] all = new double[n];
        int i = 0;
        for (float[] a : values) {
            for (float v : a) {
                all[i++] = Math.abs(v);
            }
        }
        Arrays.sort(all);
        double pos = q * (n - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(n - 1, lo + 1);
        return all[lo] + (pos - lo) * (all[hi] - all[lo]);
    }
}
