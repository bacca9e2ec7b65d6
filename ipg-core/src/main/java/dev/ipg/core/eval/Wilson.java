package dev.ipg.core.eval;

/**
 * The Wilson score interval for a binomial proportion k/n:
 * <pre>
 *   center = (p + z^2/(2n)) / (1 + z^2/n)
 *   half   = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2))
 * </pre>
 * with p = k/n. Unlike the normal (Wald) interval it stays inside [0, 1] and is not empty at
 * k = 0 or k = n. With no trials the interval is [0, 1].
 *
 * @param successes k
 * @param trials    n
 * @param lower     lower bound
 * @param upper     upper bound
 */
public record Wilson(int successes, int trials, double lower, double upper) {

    /** The two-sided 95 % normal quantile, Phi^-1(0.975). */
    public static final double Z95 = 1.959963984540054;

    public Wilson {
        if (trials < 0 || successes < 0 || successes > trials) {
            throw new IllegalArgumentException(successes + " successes of " + trials + " trials");
        }
    }

    /** The 95 % interval for {@code successes} of {@code trials}. */
    public static Wilson of(int successes, int trials) {
        return of(successes, trials, Z95);
    }

    /** The interval with normal quantile {@code z} (1.96 for 95 %). */
    public static Wilson of(int successes, int trials, double z) {
        if (trials < 0 || successes < 0 || successes > trials) {
            throw new IllegalArgumentException(successes + " successes of " + trials + " trials");
        }
        if (trials == 0) {
            return new Wilson(0, 0, 0, 1);
        }
        double n = trials, p = successes / n, z2 = z * z;
        double denom = 1 + z2 / n;
        double center = (p + z2 / (2 * n)) / denom;
        double half = z / denom * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        double lo = successes == 0 ? 0 : Math.max(0, center - half);
        double hi = successes == trials ? 1 : Math.min(1, center + half);
        return new Wilson(successes, trials, lo, hi);
    }

    /** The point estimate k/n (0 with no trials). */
    public double proportion() {
        return trials == 0 ? 0 : (double) successes / trials;
    }
}
