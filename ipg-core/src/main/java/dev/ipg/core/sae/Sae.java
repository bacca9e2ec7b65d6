package dev.ipg.core.sae;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Site;
import java.util.Arrays;

/**
 * A sparse autoencoder on one hook site, its forward and backward side by side (ipg-method.md §2).
 * For one row z (d_in) of the site:
 *
 * <pre>
 *   x     = norm_in(z) - b_dec * apply_b_dec_to_input        // (d_in)
 *   pre   = W_enc x + b_enc                                   // (d_sae)  hook_sae_acts_pre
 *   f     = act(pre)                                          // (d_sae)  hook_sae_acts_post
 *   recon = W_dec f + b_dec                                   // (d_in)   hook_sae_recons
 *   z_hat = norm_out(recon)                                   // (d_in)
 *   e     = z - z_hat                                         // (d_in)   hook_sae_error
 * </pre>
 *
 * act is ReLU ({@code relu(pre)}), JumpReLU ({@code relu(pre) * (pre > threshold)}) or TopK (the k
 * largest pre-activations, each passed through ReLU; every other latent is 0; ties go to the lower
 * index). norm_in / norm_out are the identity, {@code constant_norm_rescale}
 * ({@code z * sqrt(d_in) / |z|}, undone on the way out) or {@code layer_norm}
 * ({@code (z - mean) / (std + 1e-5)} with the unbiased std, undone as {@code y * std + mean}),
 * with the statistics of the row being encoded, as SAELens does.
 *
 * <p>Spliced into the model, the site runs on {@code norm_out(W_dec f' + b_dec) + e} with e fixed:
 * {@code z' = z + s_out W_dec (f' - f)}, so it is z itself, bit for bit, until a latent changes.
 *
 * <p>Weights are held on the heap, latent-major: {@code wEnc[i * dIn + j]} is the encoder weight
 * from input j to latent i and {@code wDec[i * dIn + j]} the decoder weight from latent i to
 * output j.
 */
public final class Sae {

    /** The latent non-linearity. */
    public enum Activation { RELU, JUMPRELU, TOPK }

    /** How the input is normalized before encoding (SAELens {@code normalize_activations}). */
    public enum Normalization {
        NONE("none"), CONSTANT_NORM_RESCALE("constant_norm_rescale"), LAYER_NORM("layer_norm");

        private final String json;

        Normalization(String json) {
            this.json = json;
        }

        /** The name in SAELens' cfg.json. */
        public String json() {
            return json;
        }
    }

    /** Epsilon of SAELens' layer_norm input normalization. */
    static final float LN_EPS = 1e-5f;

    private final String source;
    private final String hookName;
    private final Site site;
    private final int dIn;
    private final int dSae;
    private final Activation activation;
    private final int k;
    private final boolean applyBDecToInput;
    private final Normalization normalization;
    private final float[] wEnc;
    private final float[] bEnc;
    private final float[] wDec;
    private final float[] bDec;
    private final float[] threshold;

    /**
     * @param source           where it came from, for messages (a file or "trained")
     * @param hookName         the hook name as the file spells it
     * @param site             the ipg site it reads
     * @param activation       the non-linearity
     * @param k                latents kept by TopK (ignored otherwise)
     * @param applyBDecToInput whether b_dec is subtracted from the input before encoding
     * @param normalization    input normalization
     * @param wEnc             (d_sae, d_in) latent-major encoder
     * @param bEnc             (d_sae)
     * @param wDec             (d_sae, d_in)
     * @param bDec             (d_in)
     * @param threshold        (d_sae) for JumpReLU, else null
     */
    public Sae(String source, String hookName, Site site, int dIn, int dSae, Activation activation, int k,
               boolean applyBDecToInput, Normalization normalization, float[] wEnc, float[] bEnc, float[] wDec,
               float[] bDec, float[] threshold) {
        this.source = source;
        this.hookName = hookName;
        this.site = site;
        this.dIn = dIn;
        this.dSae = dSae;
        this.activation = activation;
        this.k = k;
        this.applyBDecToInput = applyBDecToInput;
        this.normalization = normalization;
        this.wEnc = wEnc;
        this.bEnc = bEnc;
        this.wDec = wDec;
        this.bDec = bDec;
        this.threshold = threshold;
        if (dIn <= 0 || dSae <= 0) {
            throw new IpgException(source + ": d_in and d_sae must be positive (got " + dIn + ", " + dSae + ")");
        }
        if (activation == Activation.TOPK && (k <= 0 || k > dSae)) {
            throw new IpgException(source + ": k = " + k + " must be in 1.." + dSae);
        }
        if (wEnc.length != (long) dSae * dIn || wDec.length != (long) dSae * dIn || bEnc.length != dSae || bDec.length != dIn) {
            throw new IllegalArgumentException("weights do not match d_in " + dIn + ", d_sae " + dSae);
        }
        if ((activation == Activation.JUMPRELU) != (threshold != null) || (threshold != null && threshold.length != dSae)) {
            throw new IllegalArgumentException("a threshold (d_sae) is given exactly for JumpReLU");
        }
    }

    public String source() {
        return source;
    }

    public String hookName() {
        return hookName;
    }

    public Site site() {
        return site;
    }

    public int dIn() {
        return dIn;
    }

    public int dSae() {
        return dSae;
    }

    public Activation activation() {
        return activation;
    }

    public int k() {
        return k;
    }

    public boolean applyBDecToInput() {
        return applyBDecToInput;
    }

    public Normalization normalization() {
        return normalization;
    }

    /** The weights themselves (not copies): training updates them in place. */
    public float[] wEnc() {
        return wEnc;
    }

    public float[] bEnc() {
        return bEnc;
    }

    public float[] wDec() {
        return wDec;
    }

    public float[] bDec() {
        return bDec;
    }

    public float[] threshold() {
        return threshold;
    }

    /**
     * The same SAE with the norms of its decoder rows folded into the encoder, as SAELens'
     * {@code fold_W_dec_norm} does: with n_i = |W_dec[i]|, {@code W_enc[i] *= n_i},
     * {@code b_enc[i] *= n_i}, {@code threshold[i] *= n_i} (JumpReLU) and {@code W_dec[i] /= n_i}.
     * For ReLU and JumpReLU the latents become {@code n_i f_i} and the reconstruction is unchanged;
     * for TopK the selection is made among the scaled pre-activations. A latent whose decoder row
     * is zero is left as it is (SAELens would divide by zero).
     */
    public Sae foldDecoderNorm() {
        float[] we = wEnc.clone();
        float[] be = bEnc.clone();
        float[] wd = wDec.clone();
        float[] th = threshold == null ? null : threshold.clone();
        for (int i = 0; i < dSae; i++) {
            int o = i * dIn;
            double ss = 0;
            for (int j = 0; j < dIn; j++) {
                ss += (double) wDec[o + j] * wDec[o + j];
            }
            float n = (float) Math.sqrt(ss);
            if (n == 0f) {
                continue;
            }
            for (int j = 0; j < dIn; j++) {
                we[o + j] *= n;
                wd[o + j] /= n;
            }
            be[i] *= n;
            if (th != null) {
                th[i] *= n;
            }
        }
        return new Sae(source, hookName, site, dIn, dSae, activation, k, applyBDecToInput, normalization, we, be, wd, bDec.clone(), th);
    }

    /** Throws {@link IpgException} naming the file and field unless the SAE fits a model with {@code config}. */
    public Sae checkIn(ModelConfig config) {
        if (site.layer() >= config.numLayers()) {
            throw new IpgException(source + ": hook_name " + hookName + " is " + site + ", but the model has "
                    + config.numLayers() + " layers");
        }
        int w = site.width(config);
        if (w != dIn) {
            throw new IpgException(source + ": d_in " + dIn + " does not match the width " + w + " of " + site);
        }
        return this;
    }

    /** The SAE site names (SAELens' HookedSAETransformer): {@code SITE.hook_sae_acts_post} etc. */
    public String name(SaeSite.Point point) {
        return site + "." + point.suffix();
    }

    // ---- encoder -----------------------------------------------------------------------------

    /** One encoded row: what the decoder and both backward passes need. */
    public static final class Code {
        /** The encoder input x = norm_in(z) - b_dec (d_in). */
        public final float[] x;
        /** Pre-activations (d_sae). */
        public final float[] pre;
        /** Latents f (d_sae). */
        public final float[] f;
        /** norm_in: x = (z - mu) * sIn - b_dec; norm_out: z = y * sOut + mu. */
        public float mu;
        public float sIn = 1f;
        public float sOut = 1f;

        Code(int dIn, int dSae) {
            x = new float[dIn];
            pre = new float[dSae];
            f = new float[dSae];
        }
    }

    /** Encodes row {@code z[off .. off + d_in)}. */
    public Code encode(float[] z, int off) {
        Code c = new Code(dIn, dSae);
        normIn(z, off, c);
        for (int j = 0; j < dIn; j++) {
            c.x[j] = (z[off + j] - c.mu) * c.sIn - (applyBDecToInput ? bDec[j] : 0f);
        }
        for (int i = 0; i < dSae; i++) {
            int o = i * dIn;
            float s = 0f;
            for (int j = 0; j < dIn; j++) {
                s += wEnc[o + j] * c.x[j];
            }
            c.pre[i] = s + bEnc[i];
        }
        activate(c.pre, c.f);
        return c;
    }

    private void normIn(float[] z, int off, Code c) {
        switch (normalization) {
            case NONE -> { }
            case CONSTANT_NORM_RESCALE -> {
                double ss = 0;
                for (int j = 0; j < dIn; j++) {
                    ss += (double) z[off + j] * z[off + j];
                }
                c.sIn = (float) (Math.sqrt(dIn) / Math.sqrt(ss));
                c.sOut = 1f / c.sIn;
            }
            case LAYER_NORM -> {
                double m = 0;
                for (int j = 0; j < dIn; j++) {
                    m += z[off + j];
                }
                m /= dIn;
                double v = 0;
                for (int j = 0; j < dIn; j++) {
                    double t = z[off + j] - m;
                    v += t * t;
                }
                double std = Math.sqrt(v / (dIn - 1));
                c.mu = (float) m;
                c.sIn = (float) (1 / (std + LN_EPS));
                c.sOut = (float) std;
            }
        }
    }

    /** f = act(pre). */
    void activate(float[] pre, float[] f) {
        switch (activation) {
            case RELU -> {
                for (int i = 0; i < dSae; i++) {
                    f[i] = Math.max(pre[i], 0f);
                }
            }
            case JUMPRELU -> {
                for (int i = 0; i < dSae; i++) {
                    f[i] = pre[i] > threshold[i] ? Math.max(pre[i], 0f) : 0f;
                }
            }
            case TOPK -> {
                Arrays.fill(f, 0f);
                for (int i : topK(pre, k)) {
                    f[i] = Math.max(pre[i], 0f);
                }
            }
        }
    }

    /** Indices of the k largest values (ties: the lower index wins), in no particular order. */
    static int[] topK(float[] v, int k) {
        // a min-heap of k indices ordered by (value, -index): the root is the weakest kept entry
        int[] heap = new int[k];
        int n = 0;
        for (int i = 0; i < v.length; i++) {
            if (n < k) {
                heap[n] = i;
                siftUp(heap, n++, v);
            } else if (v[i] > v[heap[0]]) {
                heap[0] = i;
                siftDown(heap, k, v);
            }
        }
        return heap;
    }

    private static boolean weaker(float[] v, int a, int b) {
        return v[a] < v[b] || (v[a] == v[b] && a > b);
    }

    private static void siftUp(int[] h, int i, float[] v) {
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!weaker(v, h[i], h[p])) {
                break;
            }
            int t = h[i];
            h[i] = h[p];
            h[p] = t;
            i = p;
        }
    }

    private static void siftDown(int[] h, int n, float[] v) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            int r = l + 1;
            int m = i;
            if (l < n && weaker(v, h[l], h[m])) {
                m = l;
            }
            if (r < n && weaker(v, h[r], h[m])) {
                m = r;
            }
            if (m == i) {
                return;
            }
            int t = h[i];
            h[i] = h[m];
            h[m] = t;
            i = m;
        }
    }

    /**
     * Back through the encoder: given dL/df (d_sae), returns dL/dz (d_in). Only latents the
     * activation let through carry gradient (TopK: the selected ones with pre > 0; ReLU: pre > 0;
     * JumpReLU: pre above the threshold and 0). The TopK selection and the JumpReLU gate are
     * piecewise constant. With normalized inputs the row's statistics are differentiated too: with
     * {@code u = x + b_dec} the normalized row and {@code g = W_enc^T dL/dpre},
     *
     * <pre>
     *   constant_norm_rescale (u = z sqrt(d) / |z|, |u|^2 = d):
     *       dL/dz = s (g - u (g . u) / d),                      s = sqrt(d) / |z|
     *   layer_norm (u = (z - mean) / (std + eps), std unbiased):
     *       v     = s (g - u (g . u) (std + eps) / ((d - 1) std)),  s = 1 / (std + eps)
     *       dL/dz = v - mean(v)
     * </pre>
     *
     * (a constant row, std = 0, has no second term). Every encoder the readers accept is covered.
     */
    public float[] encodeBackward(Code c, float[] df) {
        float[] g = new float[dIn];
        for (int i = 0; i < dSae; i++) {
            if (df[i] == 0f || !passes(c, i)) {
                continue;
            }
            float w = df[i];
            int o = i * dIn;
            for (int j = 0; j < dIn; j++) {
                g[j] += w * wEnc[o + j];
            }
        }
        if (normalization == Normalization.NONE) {
            return g;
        }
        // the normalized row u and g . u
        double[] u = new double[dIn];
        double gu = 0;
        for (int j = 0; j < dIn; j++) {
            u[j] = (double) c.x[j] + (applyBDecToInput ? bDec[j] : 0f);
            gu += g[j] * u[j];
        }
        float[] dz = new float[dIn];
        double s = c.sIn;
        if (normalization == Normalization.CONSTANT_NORM_RESCALE) {
            double uu = 0;
            for (int j = 0; j < dIn; j++) {
                uu += u[j] * u[j];
            }
            for (int j = 0; j < dIn; j++) {
                dz[j] = (float) (s * (g[j] - (uu > 0 ? u[j] * gu / uu : 0)));
            }
            return dz;
        }
        double std = c.sOut;
        double f = std > 0 ? gu * (std + LN_EPS) / ((dIn - 1) * std) : 0;
        double[] v = new double[dIn];
        double mean = 0;
        for (int j = 0; j < dIn; j++) {
            v[j] = s * (g[j] - u[j] * f);
            mean += v[j];
        }
        mean /= dIn;
        for (int j = 0; j < dIn; j++) {
            dz[j] = (float) (v[j] - mean);
        }
        return dz;
    }

    /** Whether latent i's value is its pre-activation (so d f_i / d pre_i = 1). */
    private boolean passes(Code c, int i) {
        return c.f[i] != 0f && c.f[i] == c.pre[i];
    }

    // ---- decoder -----------------------------------------------------------------------------

    /** recon = W_dec f + b_dec (d_in), SAELens' hook_sae_recons (before norm_out). */
    public float[] recons(float[] f) {
        float[] y = bDec.clone();
        for (int i = 0; i < dSae; i++) {
            float a = f[i];
            if (a == 0f) {
                continue;
            }
            int o = i * dIn;
            for (int j = 0; j < dIn; j++) {
                y[j] += a * wDec[o + j];
            }
        }
        return y;
    }

    /** z_hat = norm_out(W_dec f + b_dec) with the statistics of {@code c}'s row. */
    public float[] decode(float[] f, Code c) {
        float[] y = recons(f);
        for (int j = 0; j < dIn; j++) {
            y[j] = y[j] * c.sOut + c.mu;
        }
        return y;
    }

    /** z[off ..] += s_out W_dec delta: the change of z_hat when the latents change by delta. */
    public void addDecoded(float[] delta, Code c, float[] z, int off) {
        for (int i = 0; i < dSae; i++) {
            float a = delta[i];
            if (a == 0f) {
                continue;
            }
            a *= c.sOut;
            int o = i * dIn;
            for (int j = 0; j < dIn; j++) {
                z[off + j] += a * wDec[o + j];
            }
        }
    }

    /** Back through the decoder (statistics fixed): dL/df_i = s_out W_dec[i] . dL/dz_hat. */
    public float[] decodeBackward(Code c, float[] dOut, int off) {
        float[] df = new float[dSae];
        for (int i = 0; i < dSae; i++) {
            int o = i * dIn;
            float s = 0f;
            for (int j = 0; j < dIn; j++) {
                s += wDec[o + j] * dOut[off + j];
            }
            df[i] = s * c.sOut;
        }
        return df;
    }

    // ---- the path of IPG-SAE -----------------------------------------------------------------

    /**
     * Moves row z to the path point: latents {@code f(alpha) = f' + alpha (f - f')}, decoded with
     * the error of z held fixed: {@code z <- z + s_out W_dec (f(alpha) - f)}.
     */
    public void interpolateRow(float[] z, int off, float[] base, float[] alpha) {
        Code c = encode(z, off);
        float[] delta = new float[dSae];
        for (int i = 0; i < dSae; i++) {
            // f(alpha) - f = (alpha - 1)(f - f'): exactly 0 at alpha = 1
            delta[i] = (alpha[i] - 1f) * (c.f[i] - (base == null ? 0f : base[i]));
        }
        addDecoded(delta, c, z, off);
    }

    /**
     * Adds one row's part of {@code dL/dalpha_i = sum_t (f_{t,i} - f'_i) dL/df_{t,i}} to {@code scale},
     * with f encoded from the row's original activation z and dL/df = s_out W_dec dL/dz' (the
     * gradient g at the site).
     */
    public void accumulateScaleGrad(float[] z, int zOff, float[] g, int gOff, float[] base, float[] scale) {
        Code c = encode(z, zOff);
        for (int i = 0; i < dSae; i++) {
            float d = c.f[i] - (base == null ? 0f : base[i]);
            if (d == 0f) {
                continue;
            }
            int o = i * dIn;
            float s = 0f;
            for (int j = 0; j < dIn; j++) {
                s += wDec[o + j] * g[gOff + j];
            }
            scale[i] += d * s * c.sOut;
        }
    }

    /** Latents of {@code rows} rows of z (rows, d_in) as (rows, d_sae). */
    public float[] latents(float[] z, int rows) {
        float[] out = new float[rows * dSae];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(encode(z, r * dIn).f, 0, out, r * dSae, dSae);
        }
        return out;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%s SAE at %s (d_in %d, d_sae %d%s) from %s",
                activation == Activation.TOPK ? "TopK" : activation == Activation.JUMPRELU ? "JumpReLU" : "ReLU",
                site, dIn, dSae, activation == Activation.TOPK ? ", k " + k : "", source);
    }
}
