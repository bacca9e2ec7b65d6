package dev.ipg.core.attribution;

import dev.ipg.core.IpgException;

/**
 * How the path integral over alpha in [0, 1] (or [a, 1]) is approximated with q points: nodes
 * alpha_k and weights w_k with {@code integral ~ sum_k w_k f(alpha_k)}. On [a, 1] the rule on
 * [0, 1] is mapped affinely: {@code alpha_k = a + (1 - a) u_k}, weights {@code (1 - a) w_k}.
 */
public enum Quadrature {
    /** The paper's: alpha_k = k / q, k = 1..q, weights 1/q. */
    RIEMANN_RIGHT,
    /** alpha_k = (k - 1/2) / q, weights 1/q. */
    MIDPOINT,
    /** alpha_k = k / (q - 1), k = 0..q-1 (q >= 2 points, both ends), end weights halved. */
    TRAPEZOID,
    /** q-point Gauss-Legendre on [0, 1] (Captum's default). */
    GAUSS_LEGENDRE;

    /** Nodes and weights. */
    public record Rule(double[] nodes, double[] weights) {
    }

    /** The rule with q points. */
    public Rule rule(int q) {
        if (q < 1 || (this == TRAPEZOID && q < 2)) {
            throw new IpgException("quadrature " + cliName() + " needs at least " + (this == TRAPEZOID ? 2 : 1)
                    + " steps, got " + q);
        }
        double[] x = new double[q];
        double[] w = new double[q];
        switch (this) {
            case RIEMANN_RIGHT -> {
                for (int k = 0; k < q; k++) {
                    x[k] = (k + 1.0) / q;
                    w[k] = 1.0 / q;
                }
            }
            case MIDPOINT -> {
                for (int k = 0; k < q; k++) {
                    x[k] = (k + 0.5) / q;
                    w[k] = 1.0 / q;
                }
            }
            case TRAPEZOID -> {
                for (int k = 0; k < q; k++) {
                    x[k] = (double) k / (q - 1);
                    w[k] = (k == 0 || k == q - 1 ? 0.5 : 1.0) / (q - 1);
                }
            }
            case GAUSS_LEGENDRE -> gaussLegendre(q, x, w);
        }
        return new Rule(x, w);
    }

    /** The rule with q points on [from, 1] (from in [0, 1)). */
    public Rule rule(int q, double from) {
        Rule r = rule(q);
        if (from == 0) {
            return r;
        }
        if (!(from > 0 && from < 1)) {
            throw new IpgException("the path must start in [0, 1), got " + from);
        }
        double[] x = new double[q];
        double[] w = new double[q];
        for (int k = 0; k < q; k++) {
            // the end point stays exactly 1 (a node at 1 is the unmodified model)
            x[k] = r.nodes()[k] == 1 ? 1 : from + (1 - from) * r.nodes()[k];
            w[k] = (1 - from) * r.weights()[k];
        }
        return new Rule(x, w);
    }

    /** Nodes of Gauss-Legendre on [-1, 1] by Newton iteration on P_q, mapped to [0, 1]. */
    private static void gaussLegendre(int q, double[] x, double[] w) {
        for (int i = 0; i < q; i++) {
            double z = Math.cos(Math.PI * (i + 0.75) / (q + 0.5));
            double dp = 0;
            for (int it = 0; it < 100; it++) {
                double p0 = 1;
                double p1 = z;
                for (int n = 2; n <= q; n++) {
                    double p2 = ((2 * n - 1) * z * p1 - (n - 1) * p0) / n;
                    p0 = p1;
                    p1 = p2;
                }
                double pq = q == 1 ? z : p1;
                double pqm1 = q == 1 ? 1 : p0;
                dp = q * (z * pq - pqm1) / (z * z - 1);
                double dz = pq / dp;
                z -= dz;
                if (Math.abs(dz) < 1e-15) {
                    break;
                }
            }
            // ascending order on [0, 1]
            x[q - 1 - i] = (z + 1) / 2;
            w[q - 1 - i] = 2 / ((1 - z * z) * dp * dp) / 2;
        }
    }

    /** The command-line spelling, e.g. riemann-right. */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** Parses the command-line spelling. */
    public static Quadrature parse(String s) {
        for (Quadrature q : values()) {
            if (q.cliName().equals(s)) {
                return q;
            }
        }
        throw new IpgException("unknown quadrature '" + s + "': use riemann-right, midpoint, trapezoid or gauss-legendre");
    }
}
