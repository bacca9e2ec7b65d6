package dev.ipg.core.compare;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Spearman's rank correlation: the Pearson correlation of the ranks, tied values sharing their
 * average rank (as {@code scipy.stats.spearmanr}). NaN when either side is constant.
 */
public final class Spearman {

    private Spearman() {
    }

    /** The rank correlation of {@code x} and {@code y} (same length, at least 2). */
    public static double of(double[] x, double[] y) {
        if (x.length != y.length || x.length < 2) {
            throw new IllegalArgumentException("need two samples of equal length >= 2, got " + x.length + " and " + y.length);
        }
        double[] rx = ranks(x);
        double[] ry = ranks(y);
        double mx = (x.length + 1) / 2.0;
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < x.length; i++) {
            double a = rx[i] - mx;
            double b = ry[i] - mx;
            sxy += a * b;
            sxx += a * a;
            syy += b * b;
        }
        return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
    }

    /** Ranks 1..n, ties at their average rank. */
    static double[] ranks(double[] v) {
        Integer[] order = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; ) {
            int j = i;
            while (j + 1 < v.length && v[order[j + 1]] == v[order[i]]) {
                j++;
            }
            double avg = (i + j) / 2.0 + 1;
            for (int t = i; t <= j; t++) {
                r[order[t]] = avg;
            }
            i = j + 1;
        }
        return r;
    }
}
