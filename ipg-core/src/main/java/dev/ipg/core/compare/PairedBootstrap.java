package dev.ipg.core.compare;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The percentile bootstrap of a mean of paired differences: {@code d[p]} is one problem's
 * difference between two methods measured on the same problem (e.g. correct under method A
 * minus correct under method B, or the difference of their curve areas). Problems are drawn
 * with replacement {@code resamples} times from a seeded stream; the interval is the
 * {@code (1 - level) / 2} and {@code (1 + level) / 2} quantiles of the resampled means. Pairing
 * removes the between-problem variance both methods share, which an interval per method keeps.
 */
public final class PairedBootstrap {

    /**
     * A mean difference with its interval.
     *
     * @param mean  the mean of the differences (the point estimate)
     * @param lower lower end of the interval
     * @param upper upper end
     * @param level the coverage, e.g. 0.95
     */
    public record Interval(double mean, double lower, double upper, double level) {
        /** Whether the interval lies wholly above zero. */
        public boolean above() {
            return lower > 0;
        }

        /** Whether the interval lies wholly below zero. */
        public boolean below() {
            return upper < 0;
        }
    }

    private PairedBootstrap() {
    }

    /** The mean of {@code d} with its percentile interval from {@code resamples} seeded resamples. */
    public static Interval of(double[] d, int resamples, long seed, double level) {
        if (d.length == 0) {
            throw new IllegalArgumentException("no paired differences");
        }
        if (resamples < 1 || !(level > 0 && level < 1)) {
            throw new IllegalArgumentException("resamples " + resamples + ", level " + level);
        }
        int n = d.length;
        double sum = 0;
        for (double x : d) {
            sum += x;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        double[] means = new double[resamples];
        for (int b = 0; b < resamples; b++) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += d[rng.nextInt(n)];
            }
            means[b] = s / n;
        }
        Arrays.sort(means);
        double scale = 0;
        for (double x : d) {
            scale = Math.max(scale, Math.abs(x));
        }
        double eps = ROUNDING * scale;
        return new Interval(snap(sum / n, eps), snap(quantile(means, (1 - level) / 2), eps), snap(quantile(means, (1 + level) / 2), eps),
                level);
    }

    /**
     * Relative size, against the largest |difference|, below which a mean or an interval end is
     * rounding error and counts as exactly 0: differences that cancel exactly in real arithmetic
     * (e.g. curve areas built from fractions such as 1/6) leave residues near 1e-16 in floating
     * point, and an interval end of 3e-16 must not read as "excludes zero".
     */
    static final double ROUNDING = 1e-12;

    private static double snap(double x, double eps) {
        return Math.abs(x) <= eps ? 0.0 : x;
    }

    /** The {@code q} quantile of sorted values, linear between order statistics (numpy's default). */
    static double quantile(double[] sorted, double q) {
        double h = q * (sorted.length - 1);
        int lo = (int) Math.floor(h);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
