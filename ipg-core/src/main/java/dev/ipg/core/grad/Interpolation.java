package dev.ipg.core.grad;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Site;

/**
 * The path of Integrated Policy Gradient at one site: the activation the model runs on is
 * {@code h'_i + alpha_i (h_{t,i} - h'_i)}, one coefficient per component shared by all positions
 * {@code t >= positionsFrom} (earlier positions keep {@code h}).
 *
 * @param site          where
 * @param baseline      h' (d), or null for the zero baseline
 * @param alpha         alpha (d)
 * @param positionsFrom first interpolated position (0: every position, prompt included)
 */
public record Interpolation(Site site, float[] baseline, float[] alpha, int positionsFrom) {

    public Interpolation {
        if (baseline != null && baseline.length != alpha.length) {
            throw new IpgException("baseline has " + baseline.length + " components, alpha has " + alpha.length);
        }
        if (positionsFrom < 0) {
            throw new IpgException("positionsFrom must be >= 0");
        }
    }

    /** alpha = a for every one of {@code width} components, zero baseline, all positions. */
    public static Interpolation uniform(Site site, int width, float a) {
        float[] alpha = new float[width];
        java.util.Arrays.fill(alpha, a);
        return new Interpolation(site, null, alpha, 0);
    }

    /** alpha = a for every component, given baseline (null: zero), interpolating positions >= positionsFrom. */
    public static Interpolation at(Site site, int width, double a, float[] baseline, int positionsFrom) {
        float[] alpha = new float[width];
        java.util.Arrays.fill(alpha, (float) a);
        return new Interpolation(site, baseline, alpha, positionsFrom);
    }

    /** h'_i, the baseline of component i. */
    public float base(int i) {
        return baseline == null ? 0f : baseline[i];
    }

    /** Replaces rows of {@code act} (rows of {@code width}) at positions >= positionsFrom by h' + alpha (h - h'). */
    public void apply(float[] act, int width, dev.ipg.core.model.Batch batch) {
        for (int r = 0; r < batch.rows(); r++) {
            if (batch.pos()[r] < positionsFrom) {
                continue;
            }
            applyRow(act, r * width);
        }
    }

    /** Replaces the row of {@code act} at {@code off} (one row of this width) by h' + alpha (h - h'), whatever its position. */
    public void applyRow(float[] act, int off) {
        for (int i = 0; i < alpha.length; i++) {
            float b = base(i);
            act[off + i] = b + alpha[i] * (act[off + i] - b);
        }
    }

    /** Hooks that run the model on this path point (for generation and forward passes). */
    public dev.ipg.core.model.Hooks hooks() {
        return dev.ipg.core.model.Hooks.none().intervene(site,
                new dev.ipg.core.model.Intervention.Callback((s, act, w, b) -> apply(act, w, b)));
    }
}
