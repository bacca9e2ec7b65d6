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
 * <p>At a site of whole heads ({@code blocks.L.attn.hook_z.heads}) component i is head i: the
 * path scales all head_dim values of the head by one {@code alpha_i}, and its gradient is the sum
 * over the head's values, {@code sum_t sum_d (h_{t,i,d} - h'_{i,d}) dL/dh_{t,i,d}}. The baseline
 * there is one value per head, or one per value of hook_z (heads * head_dim).
 *
 * <p>With an SAE attached at the site, the components are its latents f instead of the site's
 * dimensions (IPG-SAE): {@code f(alpha) = f' + alpha (f - f')}, decoded with the error term held
 * fixed; the latent equations are in {@link Sae#interpolateRow} and {@link Sae#accumulateScaleGrad}.
 *
 * @param site          where
 * @param baseline      h' (d, or d_sae with an SAE, or heads * head_dim for whole heads), or null for the zero baseline
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
        if (baseline != null && baseline.length != alpha.length
                && !(sae == null && site.kind() == Site.Kind.ATTN_HEADS && alpha.length > 0 && baseline.length % alpha.length == 0)) {
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

    /** The baseline of value i of a row of {@code group} values per component. */
    private float baseAt(int i, int group) {
        return baseline == null ? 0f : baseline.length == alpha.length ? baseline[i / group] : baseline[i];
    }

    /** Values per component in rows of {@code rowWidth} (head_dim for whole heads, else 1). */
    private int group(int rowWidth) {
        if (rowWidth % alpha.length != 0 || (baseline != null && baseline.length != alpha.length && baseline.length != rowWidth)) {
            throw new IpgException("the path at " + site + " has " + alpha.length + " components"
                    + (baseline == null ? "" : " and a baseline of " + baseline.length) + ", the site's rows " + rowWidth + " values");
        }
        return rowWidth / alpha.length;
    }

    /** Replaces rows of {@code act} (rows of {@code width}) at positions >= positionsFrom by h' + alpha (h - h'). */
    public void apply(float[] act, int width, Batch batch) {
        for (int r = 0; r < batch.rows(); r++) {
            if (batch.pos()[r] < positionsFrom) {
                continue;
            }
            applyRow(act, r * width, width);
        }
    }

    /** Replaces the row of {@code act} at {@code off} (one row of this width) by h' + alpha (h - h'), whatever its position. */
    public void applyRow(float[] act, int off) {
        applyRow(act, off, sae != null ? sae.dIn() : alpha.length);
    }

    /**
     * Replaces the row of {@code act} at {@code off}, {@code width} values (the site's rows: more
     * than the components for whole heads), by h' + alpha (h - h'), whatever its position.
     */
    public void applyRow(float[] act, int off, int width) {
        if (sae != null) {
            sae.interpolateRow(act, off, baseline, alpha);
            return;
        }
        int group = group(width);
        for (int i = 0; i < width; i++) {
            float b = baseAt(i, group);
            act[off + i] = b + alpha[i / group] * (act[off + i] - b);
        }
    }

    /**
     * Adds one row's part of {@code dL/dalpha_i = sum_t (h_{t,i} - h'_i) dL/dh_{t,i}(alpha)} to
     * {@code scale}: {@code h} is the row of the site's activation before interpolation at
     * {@code hOff}, {@code g} the gradient at the site (after interpolation) at {@code gOff}.
     */
    public void accumulateScaleGrad(float[] h, int hOff, float[] g, int gOff, float[] scale) {
        accumulateScaleGrad(h, hOff, g, gOff, sae != null ? sae.dIn() : alpha.length, scale);
    }

    /**
     * As {@link #accumulateScaleGrad(float[], int, float[], int, float[])} for rows of
     * {@code width} values: a component spanning several (a head) sums over them.
     */
    public void accumulateScaleGrad(float[] h, int hOff, float[] g, int gOff, int width, float[] scale) {
        if (sae != null) {
            sae.accumulateScaleGrad(h, hOff, g, gOff, baseline, scale);
            return;
        }
        int group = group(width);
        for (int i = 0; i < width; i++) {
            scale[i / group] += (h[hOff + i] - baseAt(i, group)) * g[gOff + i];
        }
    }

    /** Hooks that run the model on this path point (for generation and forward passes). */
    public Hooks hooks() {
        return Hooks.none().intervene(site,
                new Intervention.Callback((s, act, w, b) -> apply(act, w, b)));
    }
}
