package dev.ipg.core.grad;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.Sae;

/**
 * The path of Integrated Policy Gradient at one site: the activation the model runs on is
 * {@code h'_i + alpha_i (h_{t,i} - h'_i)}, one coefficient per component shared by all positions
 * {@code t >= positionsFrom} (earlier positions keep {@code h}).
 *
 * <p>With an SAE attached at the site, the components are its latents f instead of the site's
 * dimensions (IPG-SAE): {@code f(alpha) = f' + alpha (f - f')}, decoded with the error term held
 * fixed; the latent equations are in {@link Sae#interpolateRow} and {@link Sae#accumulateScaleGrad}.
 *
 * @param site          where
 * @param baseline      h' (d, or d_sae with an SAE), or null for the zero baseline
 * @param alpha         alpha (d, or d_sae with an SAE)
 * @param positionsFrom first interpolated position (0: every position, prompt included)
 * @param sae           the SAE whose latents are the components, or null for the site's own dimensions
 */
public record Interpolation(Site site, float[] baseline, float[] alpha, int positionsFrom, Sae sae) {

    /** The path over the site's own dimensions. */
    public Interpolation(Site site, float[] baseline, float[] alpha, int positionsFrom) {
        this(site, baseline, alpha, positionsFrom, null);
    }

    public Interpolation {
        if (sae != null && !sae.site().equals(site)) {
            throw new IpgException("the SAE reads " + sae.site() + ", the path is at " + site);
        }
        if (sae != null && alpha.length != sae.dSae()) {
            throw new IpgException("alpha has " + alpha.length + " components, the SAE has " + sae.dSae() + " latents");
        }
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

    /** alpha = a for every latent of {@code sae}, given baseline (null: zero), interpolating positions >= positionsFrom. */
    public static Interpolation at(Sae sae, double a, float[] baseline, int positionsFrom) {
        float[] alpha = new float[sae.dSae()];
        java.util.Arrays.fill(alpha, (float) a);
        return new Interpolation(sae.site(), baseline, alpha, positionsFrom, sae);
    }

    /** The number of components: the site's width, or the SAE's latents. */
    public int width() {
        return alpha.length;
    }

    /** h'_i, the baseline of component i. */
    public float base(int i) {
        return baseline == null ? 0f : baseline[i];
    }

    /** Replaces rows of {@code act} (rows of {@code width}) at positions >= positionsFrom by h' + alpha (h - h'). */
    public void apply(float[] act, int width, Batch batch) {
        for (int r = 0; r < batch.rows(); r++) {
            if (batch.pos()[r] < positionsFrom) {
                continue;
            }
            applyRow(act, r * width);
        }
    }

    /** Replaces the row of {@code act} at {@code off} (one row of this width) by h' + alpha (h - h'), whatever its position. */
    public void applyRow(float[] act, int off) {
        if (sae != null) {
            sae.interpolateRow(act, off, baseline, alpha);
            return;
        }
        for (int i = 0; i < alpha.length; i++) {
            float b = base(i);
            act[off + i] = b + alpha[i] * (act[off + i] - b);
        }
    }

    /**
     * Adds one row's part of {@code dL/dalpha_i = sum_t (h_{t,i} - h'_i) dL/dh_{t,i}(alpha)} to
     * {@code scale}: {@code h} is the row of the site's activation before interpolation at
     * {@code hOff}, {@code g} the gradient at the site (after interpolation) at {@code gOff}.
     */
    public void accumulateScaleGrad(float[] h, int hOff, float[] g, int gOff, float[] scale) {
        if (sae != null) {
            sae.accumulateScaleGrad(h, hOff, g, gOff, baseline, scale);
            return;
        }
        for (int i = 0; i < alpha.length; i++) {
            scale[i] += (h[hOff + i] - base(i)) * g[gOff + i];
        }
    }

    /** Hooks that run the model on this path point (for generation and forward passes). */
    public Hooks hooks() {
        return Hooks.none().intervene(site,
                new Intervention.Callback((s, act, w, b) -> apply(act, w, b)));
    }
}
