package dev.ipg.core.attribution;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where along the path the scores of one site come from, over a support set: for each path
 * point alpha_k the mean over prompts of Jbar(alpha_k) and of its contribution
 * {@code c_k = sum_i w_k (1/N) sum_n A_n d log pi / d alpha_i} to the summed scores (so
 * {@code sum_k c_k = sum_i S_i}), and two warnings:
 *
 * <ul>
 *   <li><b>far points</b>: a point is far when {@code |Jbar(alpha_k) - Jbar(1)| > FAR * R}, R the
 *   range of the mean Jbar curve (path start and 1 included); when far points carry more than
 *   {@code MOSTLY} of {@code sum_k |c_k|}, the scores mostly describe a model the path has
 *   broken, not the working one;</li>
 *   <li><b>change before the first point</b>: {@code |sum_i S_i| <= SMALL * |Delta|} while
 *   {@code |Jbar(alpha_1) - Jbar(start)| >= MOSTLY * |Delta|}, Delta = Jbar(1) - Jbar(start) clear of
 *   noise ({@code |Delta| > 2} standard errors over prompts): the scores sum to about zero
 *   because the change lies where no path point samples.</li>
 * </ul>
 *
 * A path of one point (the raw policy gradient) is not an integral: it gets neither warning.
 *
 * @param points   per path point
 * @param range    R, the range of the mean Jbar curve
 * @param warnings one line each, empty when none applies
 */
public record PathDiagnostics(List<Point> points, double range, List<String> warnings) {

    /** A point is far from the working model beyond this fraction of the curve's range. */
    public static final double FAR = 0.5;
    /** "Mostly": more than this fraction. */
    public static final double MOSTLY = 0.5;
    /** "About zero": within this fraction of the change. */
    public static final double SMALL = 0.25;

    /**
     * @param alpha        alpha_k
     * @param weight       w_k
     * @param jbar         mean over prompts of Jbar(alpha_k)
     * @param contribution mean over prompts of c_k
     * @param share        c_k / sum_k c_k (NaN when the sum is 0)
     * @param far          whether Jbar(alpha_k) is far from Jbar(1)
     */
    public record Point(double alpha, double weight, double jbar, double contribution, double share, boolean far) {
    }

    /**
     * @param site         the site, named in the warnings
     * @param start        where the path starts
     * @param alpha        the path points
     * @param weight       their quadrature weights
     * @param jbar         mean Jbar at each point
     * @param contribution mean contribution of each point
     * @param jbarStart    mean Jbar at the path start
     * @param jbar1        mean Jbar(1)
     * @param delta        mean of Jbar(1) - Jbar(start)
     * @param deltaSe      its standard error over prompts (NaN for one prompt: then not required)
     * @param firstStep    mean of Jbar(alpha_1) - Jbar(start)
     */
    public static PathDiagnostics of(String site, double start, double[] alpha, double[] weight, double[] jbar, double[] contribution,
                                     double jbarStart, double jbar1, double delta, double deltaSe, double firstStep) {
        int q = alpha.length;
        double sum = 0;
        double abs = 0;
        double lo = Math.min(jbarStart, jbar1);
        double hi = Math.max(jbarStart, jbar1);
        for (int k = 0; k < q; k++) {
            sum += contribution[k];
            abs += Math.abs(contribution[k]);
            lo = Math.min(lo, jbar[k]);
            hi = Math.max(hi, jbar[k]);
        }
        double range = hi - lo;
        List<Point> pts = new ArrayList<>();
        double farAbs = 0;
        List<String> farAlphas = new ArrayList<>();
        double farLo = Double.POSITIVE_INFINITY;
        double farHi = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < q; k++) {
            boolean far = range > 0 && Math.abs(jbar[k] - jbar1) > FAR * range;
            if (far) {
                farAbs += Math.abs(contribution[k]);
                farAlphas.add(num(alpha[k]));
                farLo = Math.min(farLo, jbar[k]);
                farHi = Math.max(farHi, jbar[k]);
            }
            pts.add(new Point(alpha[k], weight[k], jbar[k], contribution[k], sum == 0 ? Double.NaN : contribution[k] / sum, far));
        }
        List<String> warnings = new ArrayList<>();
        if (q >= 2 && abs > 0 && farAbs > MOSTLY * abs) {
            warnings.add(String.format(Locale.ROOT,
                    "%s: %.0f%% of the summed scores (by magnitude) come from path points alpha = %s, where the mean Jbar (%s to %s) "
                            + "is far from Jbar(1) = %s: the scores mostly describe what restores a model the path has broken, not "
                            + "what the working model relies on (consider --alpha-min, --baseline mean or --candidates)",
                    site, 100 * farAbs / abs, String.join(", ", farAlphas), num(farLo), num(farHi), num(jbar1)));
        }
        boolean clear = delta != 0 && (Double.isNaN(deltaSe) || Math.abs(delta) > 2 * deltaSe);
        if (q >= 2 && clear && Math.abs(sum) <= SMALL * Math.abs(delta) && Math.abs(firstStep) >= MOSTLY * Math.abs(delta)) {
            warnings.add(String.format(Locale.ROOT,
                    "%s: the scores sum to %s while Jbar(1) - Jbar(%s) = %s, and Jbar(alpha_1) - Jbar(%s) = %s: the change lies "
                            + "before the first path point alpha_1 = %s, which no path point samples, so the scores cannot account for it "
                            + "(consider --quadrature gauss-legendre with more --steps, --baseline mean or --alpha-min)",
                    site, num(sum), num(start), num(delta), num(start), num(firstStep), num(alpha[0])));
        }
        return new PathDiagnostics(List.copyOf(pts), range, List.copyOf(warnings));
    }

    private static String num(double v) {
        return new java.math.BigDecimal(String.format(Locale.ROOT, "%.3g", v)).stripTrailingZeros().toPlainString();
    }
}
