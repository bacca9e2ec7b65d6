package dev.ipg.core.compare;

/**
 * McNemar's exact test of two methods scored right/wrong on the same problems: only the
 * discordant problems count, {@code b} (right under the first only) and {@code c} (right under
 * the second only); under the null hypothesis of equal accuracy {@code b ~ Binomial(b + c, 1/2)},
 * and the two-sided p-value is {@code min(1, 2 P(X <= min(b, c)))}.
 */
public final class McNemar {

    /**
     * The test's counts and p-value.
     *
     * @param firstOnly  problems right under the first method only (b)
     * @param secondOnly problems right under the second only (c)
     * @param p          the exact two-sided p-value
     */
    public record Result(int firstOnly, int secondOnly, double p) {
    }

    private McNemar() {
    }

    /** The test on per-problem outcomes of the two methods (same problems, same order). */
    public static Result of(boolean[] first, boolean[] second) {
        if (first.length != second.length) {
            throw new IllegalArgumentException(first.length + " vs " + second.length + " problems");
        }
        int b = 0;
        int c = 0;
        for (int i = 0; i < first.length; i++) {
            if (first[i] && !second[i]) {
                b++;
            } else if (second[i] && !first[i]) {
                c++;
            }
        }
        return new Result(b, c, exactP(b, c));
    }

    /** {@code min(1, 2 P(X <= min(b, c)))} for {@code X ~ Binomial(b + c, 1/2)}; 1 when there is no discordant pair. */
    public static double exactP(int b, int c) {
        int n = b + c;
        if (n == 0) {
            return 1;
        }
        int k = Math.min(b, c);
        // sum_{i<=k} C(n, i) / 2^n in log space (n may be in the thousands)
        double logHalfN = -n * Math.log(2);
        double tail = 0;
        double logC = 0; // log C(n, 0)
        for (int i = 0; i <= k; i++) {
            if (i > 0) {
                logC += Math.log(n - i + 1) - Math.log(i);
            }
            tail += Math.exp(logC + logHalfN);
        }
        return Math.min(1, 2 * tail);
    }
}
