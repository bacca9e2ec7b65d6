package dev.ipg.core.attribution;

/**
 * Outcome-level advantages of the N rewards of one group (one prompt, one path point). A group
 * whose rewards are all equal gets all zeros (it carries no signal).
 */
public enum Advantage {
    /**
     * GRPO, the paper's default: {@code (r_n - mean(r)) / (std(r) + eps)} with the sample
     * standard deviation (N - 1) and eps = 1e-4, as TRL's GRPO trainer computes it.
     */
    GRPO {
        @Override
        public double[] of(double[] r) {
            int n = r.length;
            double[] a = new double[n];
            if (n < 2 || allEqual(r)) {
                return a;
            }
            double mean = mean(r);
            double ss = 0;
            for (double x : r) {
                ss += (x - mean) * (x - mean);
            }
            double std = Math.sqrt(ss / (n - 1));
            for (int i = 0; i < n; i++) {
                a[i] = (r[i] - mean) / (std + EPS);
            }
            return a;
        }

        @Override
        public double[] of(double[] r, double[] w) {
            int n = r.length;
            double[] a = new double[n];
            if (allEqual(r)) {
                return a;
            }
            double mean = weightedMean(r, w);
            double var = 0;
            for (int i = 0; i < n; i++) {
                var += w[i] * (r[i] - mean) * (r[i] - mean);
            }
            double std = Math.sqrt(var * n / (n - 1.0));
            for (int i = 0; i < n; i++) {
                a[i] = (r[i] - mean) / (std + EPS);
            }
            return a;
        }
    },
    /**
     * Leave-one-out, {@code r_n - mean_{m != n} r_m}: unbiased, so the expected IPG is exactly the
     * quadrature of dJbar/dalpha and completeness holds in expectation.
     */
    RLOO {
        @Override
        public double[] of(double[] r) {
            int n = r.length;
            double[] a = new double[n];
            if (n < 2 || allEqual(r)) {
                return a;
            }
            double sum = 0;
            for (double x : r) {
                sum += x;
            }
            for (int i = 0; i < n; i++) {
                a[i] = r[i] - (sum - r[i]) / (n - 1);
            }
            return a;
        }

        @Override
        public double[] of(double[] r, double[] w) {
            int n = r.length;
            double[] a = new double[n];
            if (allEqual(r)) {
                return a;
            }
            double mean = weightedMean(r, w);
            for (int i = 0; i < n; i++) {
                double rest = 1 - w[i];
                a[i] = rest <= 1e-12 ? 0 : r[i] - (mean - w[i] * r[i]) / rest;
            }
            return a;
        }
    };

    static final double EPS = 1e-4;

    /** The advantages of one group's rewards. */
    public abstract double[] of(double[] rewards);

    /**
     * The advantages of one group's rewards under importance weights {@code w} (summing to 1), for
     * samples reused along the path: the weighted leave-one-out baseline (the weighted mean of the
     * other samples), or GRPO with the weighted mean and standard deviation. Uniform weights give
     * {@link #of(double[])}.
     */
    public abstract double[] of(double[] rewards, double[] w);

    static double weightedMean(double[] r, double[] w) {
        double mean = 0;
        for (int i = 0; i < r.length; i++) {
            mean += w[i] * r[i];
        }
        return mean;
    }

    static double mean(double[] r) {
        double s = 0;
        for (double x : r) {
            s += x;
        }
        return s / r.length;
    }

    static boolean allEqual(double[] r) {
        for (double x : r) {
            if (x != r[0]) {
                return false;
            }
        }
        return true;
    }
}
