package dev.ipg.core.compare;

/**
 * The normalised area under a curve over the selection size k: the trapezoid rule on a
 * {@code log2 k} axis divided by the span {@code log2 k_max - log2 k_min}, that is the curve's
 * average height when every doubling of k weighs the same. For a curve of accuracy changes in
 * points it is the average change across the curve, in points; a single k gives its value.
 */
public final class CurveArea {

    private CurveArea() {
    }

    /** The normalised area of {@code values} at increasing sizes {@code ks} (each >= 1). */
    public static double of(int[] ks, double[] values) {
        double[] w = weights(ks);
        double a = 0;
        for (int i = 0; i < ks.length; i++) {
            a += w[i] * values[i];
        }
        return a;
    }

    /**
     * The weight of each point in {@link #of} (they sum to 1): the area is linear in the values,
     * so a per-problem area is the same weighted sum of that problem's outcomes.
     */
    public static double[] weights(int[] ks) {
        if (ks.length == 0) {
            throw new IllegalArgumentException("no k");
        }
        for (int i = 0; i < ks.length; i++) {
            if (ks[i] < 1 || i > 0 && ks[i] <= ks[i - 1]) {
                throw new IllegalArgumentException("sizes must be increasing and >= 1: " + java.util.Arrays.toString(ks));
            }
        }
        double[] w = new double[ks.length];
        if (ks.length == 1) {
            w[0] = 1;
            return w;
        }
        double span = log2(ks[ks.length - 1]) - log2(ks[0]);
        for (int i = 0; i + 1 < ks.length; i++) {
            double h = (log2(ks[i + 1]) - log2(ks[i])) / span / 2;
            w[i] += h;
            w[i + 1] += h;
        }
        return w;
    }

    private static double log2(int k) {
        return Math.log(k) / Math.log(2);
    }
}
