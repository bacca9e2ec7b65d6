package dev.ipg.core.compare;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Precision at k of a ranking against a ground truth: the fraction of a method's top k
 * components that are among the k components with the largest ground-truth effect. Both orders
 * break ties by the lower index, so the result is a function of the values alone.
 */
public final class PrecisionAtK {

    private PrecisionAtK() {
    }

    /** The indices of the {@code k} largest values, largest first (ties: lower index first). */
    public static int[] top(double[] values, int k) {
        if (k < 0 || k > values.length) {
            throw new IllegalArgumentException("k = " + k + " of " + values.length);
        }
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -values[i]).thenComparingInt(i -> i));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = order[i];
        }
        return out;
    }

    /** |top-k of {@code method} n top-k of {@code truth}| / k. */
    public static double of(double[] method, double[] truth, int k) {
        if (method.length != truth.length) {
            throw new IllegalArgumentException(method.length + " vs " + truth.length + " components");
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        int[] a = top(method, k);
        boolean[] inTruth = new boolean[truth.length];
        for (int i : top(truth, k)) {
            inTruth[i] = true;
        }
        int hit = 0;
        for (int i : a) {
            if (inTruth[i]) {
                hit++;
            }
        }
        return (double) hit / k;
    }
}
