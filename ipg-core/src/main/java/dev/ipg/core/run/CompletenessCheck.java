package dev.ipg.core.run;

/**
 * The completeness check of an attribution, the one place it is computed: sum_i S_i against the
 * mean over prompts of Jbar(1) - Jbar(start) (ipg-method.md §3), the gap between them with its
 * standard error over prompts, and the mean first step Jbar(alpha_1) - Jbar(start); and whether
 * the estimator makes the identity hold at all ({@link #expected}).
 *
 * @param sumScores     sum_i S_i
 * @param meanDelta     mean over prompts of Jbar(1) - Jbar(start) (or of L(1) - L(0) for integrated gradients)
 * @param deltaStdErr   standard error of that mean (NaN below two prompts)
 * @param gap           sumScores - meanDelta
 * @param gapStdErr     standard error of the per-prompt gaps sum_i IPG(i; x) - delta(x) (NaN below two
 *                      prompts or without per-prompt sums)
 * @param meanFirstStep mean over prompts of Jbar(alpha_1) - Jbar(start) (NaN when not known)
 */
public record CompletenessCheck(double sumScores, double meanDelta, double deltaStdErr, double gap, double gapStdErr,
                                double meanFirstStep) {

    /** sum_i of {@code scores}, the left side of completeness. */
    public static double sum(float[] scores) {
        double s = 0;
        for (float v : scores) {
            s += v;
        }
        return s;
    }

    /**
     * The check of scores S_i over prompts with per-prompt changes {@code delta}; {@code sums}
     * (per-prompt sum_i IPG(i; x)) and {@code firstSteps} may be null.
     */
    public static CompletenessCheck of(float[] scores, double[] delta, double[] sums, double[] firstSteps) {
        double total = sum(scores);
        double[] d = meanAndStdErr(delta);
        double gapSe = Double.NaN;
        if (sums != null) {
            double[] gaps = new double[delta.length];
            for (int i = 0; i < gaps.length; i++) {
                gaps[i] = sums[i] - delta[i];
            }
            gapSe = meanAndStdErr(gaps)[1];
        }
        double first = firstSteps == null ? Double.NaN : meanAndStdErr(firstSteps)[0];
        return new CompletenessCheck(total, d[0], d[1], total - d[0], gapSe, first);
    }

    /** The mean of {@code xs} and its standard error (sample standard deviation over sqrt(n); NaN below n = 2). */
    public static double[] meanAndStdErr(double[] xs) {
        int n = xs.length;
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        double mean = n == 0 ? Double.NaN : s / n;
        if (n < 2) {
            return new double[] {mean, Double.NaN};
        }
        double ss = 0;
        for (double x : xs) {
            ss += (x - mean) * (x - mean);
        }
        return new double[] {mean, Math.sqrt(ss / (n - 1) / n)};
    }

    /**
     * Whether sum_i S_i should match Jbar(1) - Jbar(start): only with the rloo advantage (grpo's
     * division by each group's standard deviation rescales the groups differently), with more than
     * one path point (one point is a local gradient), and not when the truncated log-probability is
     * differentiated under a truncating sampler (its gradient vanishes on one-token nuclei).
     *
     * @param advantage      grpo or rloo
     * @param policyGradient tempered or truncated
     * @param truncates      whether sampling truncates (top-k on, or top-p below 1)
     * @param steps          the number of path points
     */
    public static boolean expected(String advantage, String policyGradient, boolean truncates, int steps) {
        return why(advantage, policyGradient, truncates, steps) == Reason.EXPECTED;
    }

    /** Why the identity is or is not expected to hold. */
    public enum Reason {
        /** rloo, more than one point, and a gradient that sees the whole change. */
        EXPECTED,
        /** one path point: a local gradient, not a path integral. */
        ONE_POINT,
        /** an advantage other than rloo. */
        ADVANTAGE,
        /** the truncated policy's gradient under a truncating sampler. */
        TRUNCATED_GRADIENT
    }

    /** The reason behind {@link #expected}, in the order the report explains them. */
    public static Reason why(String advantage, String policyGradient, boolean truncates, int steps) {
        if (steps == 1) {
            return Reason.ONE_POINT;
        }
        if (!"rloo".equalsIgnoreCase(advantage)) {
            return Reason.ADVANTAGE;
        }
        if (truncates && "truncated".equalsIgnoreCase(policyGradient)) {
            return Reason.TRUNCATED_GRADIENT;
        }
        return Reason.EXPECTED;
    }
}
