package dev.ipg.core.attribution;

/**
 * The score accumulation of IPG and of integrated gradients, written once. Over the path points
 * alpha_k with quadrature weights w_k, and at each point the samples n with coefficients c_n:
 *
 * <pre>
 *   score_i = sum_k w_k sum_n c_n g_{k,n,i}
 * </pre>
 *
 * where g_{k,n,i} is the scale gradient d log pi(tau_n) / d alpha_i at alpha_k
 * ({@code grad.ReverseMode.siteGradients}; it carries the factor h_i - h'_i of the
 * interpolation). IPG on the path: c_n = A_n / N; reusing the samples of alpha = 1:
 * c_n = v_n A_n with their normalized importance weights v_n; integrated gradients: one
 * teacher-forced sequence with c = 1. Only the moving components (all when none are named) are
 * summed; the others stay at alpha = 1 and score 0. A term of coefficient zero adds nothing.
 *
 * <p>Each point's terms are summed on their own first ({@link Point#close} returns that share
 * of the scores), then added to the total, in the order of the points.
 */
public final class PathIntegral {

    private final double[] total;
    private final int[] moving;

    /** A sum over {@code width} components; {@code moving} holds the indices that move along the path (null: all). */
    public PathIntegral(int width, int[] moving) {
        this.total = new double[width];
        this.moving = moving;
    }

    /** The terms of a path point of quadrature weight {@code weight}. */
    public Point point(double weight) {
        return new Point(weight);
    }

    /** The scores: the sum over every closed point. */
    public float[] scores() {
        return toFloat(total);
    }

    /** sum_i score_i (in double precision, before the scores are rounded to float). */
    public double sum() {
        double s = 0;
        for (double x : total) {
            s += x;
        }
        return s;
    }

    /** One path point's terms w_k sum_n c_n g_n. */
    public final class Point {
        private final double weight;
        private final double[] share = new double[total.length];

        private Point(double weight) {
            this.weight = weight;
        }

        /** Adds the term c w_k g of one sample (c: its coefficient c_n, g: its scale gradient). */
        public void add(double c, float[] g) {
            double cw = c * weight;
            if (cw == 0) {
                return;
            }
            if (moving == null) {
                for (int i = 0; i < share.length; i++) {
                    share[i] += cw * g[i];
                }
            } else {
                for (int i : moving) {
                    share[i] += cw * g[i];
                }
            }
        }

        /** Adds this point's share to the scores and returns it. */
        public float[] close() {
            for (int i = 0; i < total.length; i++) {
                total[i] += share[i];
            }
            return toFloat(share);
        }
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }
}
