package dev.ipg.core.sae;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.Site;
import dev.ipg.core.tensor.DType;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Trains a TopK sparse autoencoder (Gao et al. 2024, "Scaling and evaluating sparse
 * autoencoders"), forward and backward side by side. For a batch of B rows x (d):
 *
 * <pre>
 *   pre   = W_enc (x - b_dec) + b_enc;  f = TopK(relu(pre));  x_hat = W_dec^T f + b_dec
 *   L     = sum_b |x_hat_b - x_b|^2 / sum_b |x_b - mean(x)|^2                       (the batch FVU)
 *         + auxAlpha * min(1, dead / k_aux) * sum_b |W_dec^T a_b - (x_b - x_hat_b)|^2 / sum_b |x_b - mean(x)|^2
 * </pre>
 *
 * where a_b holds the k_aux = d/2 largest pre-activations among dead latents (none fired in the
 * last {@code deadAfterRows} rows) and the residual target is held fixed (AuxK). Adam updates
 * every parameter; before each update the gradient of every decoder row loses its component
 * along the row, and after it the rows are renormalized to unit norm. b_dec starts at the
 * geometric median (Weiszfeld iterations) of the first rows seen, W_enc at W_dec's rows.
 */
public final class TopKTrainer {

    /**
     * @param latents       d_sae
     * @param k             latents kept per row
     * @param lr            Adam learning rate
     * @param auxAlpha      weight of the AuxK loss (Gao et al.: 1/32)
     * @param deadAfterRows a latent that has not fired in this many rows is dead
     * @param seed          initialization seed
     */
    public record Options(int latents, int k, double lr, double auxAlpha, long deadAfterRows, long seed) {
        public Options {
            if (latents <= 0 || k <= 0 || k > latents) {
                throw new IpgException("need 1 <= k <= latents, got k " + k + ", latents " + latents);
            }
            if (!(lr > 0)) {
                throw new IpgException("learning rate must be > 0, got " + lr);
            }
        }
    }

    /** One step's figures on its batch. */
    public record Stats(double fvu, double mse, double l0, double auxLoss, double deadFraction) {
    }

    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPS = 1e-8;

    private final int d;
    private final int n;
    private final Options opt;
    private final float[] wEnc;
    private final float[] bEnc;
    private final float[] wDec;
    private final float[] bDec;
    private final float[][] m;
    private final float[][] v;
    private final long[] lastFired;
    private long rowsSeen;
    private long steps;
    private boolean initialized;

    public TopKTrainer(int dIn, Options opt) {
        this.d = dIn;
        this.n = opt.latents();
        this.opt = opt;
        wEnc = new float[n * d];
        bEnc = new float[n];
        wDec = new float[n * d];
        bDec = new float[d];
        SplittableRandom r = new SplittableRandom(opt.seed());
        for (int i = 0; i < n * d; i++) {
            wDec[i] = (float) gaussian(r);
        }
        normalizeDecoder();
        System.arraycopy(wDec, 0, wEnc, 0, wDec.length);
        float[][] params = params();
        m = new float[params.length][];
        v = new float[params.length][];
        for (int p = 0; p < params.length; p++) {
            m[p] = new float[params[p].length];
            v[p] = new float[params[p].length];
        }
        lastFired = new long[n];
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    private float[][] params() {
        return new float[][] {wEnc, bEnc, wDec, bDec};
    }

    public long steps() {
        return steps;
    }

    public long rowsSeen() {
        return rowsSeen;
    }

    /** Sets b_dec to the geometric median of {@code rows} rows of x (Weiszfeld), unless already initialized. */
    public void initialize(float[] x, int rows) {
        if (initialized) {
            return;
        }
        double[] med = new double[d];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) {
                med[j] += x[r * d + j] / (double) rows;
            }
        }
        for (int it = 0; it < 50; it++) {
            double[] num = new double[d];
            double den = 0;
            for (int r = 0; r < rows; r++) {
                double dist = 0;
                for (int j = 0; j < d; j++) {
                    double t = x[r * d + j] - med[j];
                    dist += t * t;
                }
                double w = 1 / Math.max(Math.sqrt(dist), 1e-8);
                den += w;
                for (int j = 0; j < d; j++) {
                    num[j] += w * x[r * d + j];
                }
            }
            for (int j = 0; j < d; j++) {
                med[j] = num[j] / den;
            }
        }
        for (int j = 0; j < d; j++) {
            bDec[j] = (float) med[j];
        }
        initialized = true;
    }

    /** One Adam step on {@code rows} rows of x (rows, d). */
    public Stats step(float[] x, int rows) {
        initialize(x, rows);
        double[] mean = new double[d];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) {
                mean[j] += x[r * d + j] / (double) rows;
            }
        }
        double total = 0;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) {
                double t = x[r * d + j] - mean[j];
                total += t * t;
            }
        }
        total = Math.max(total, 1e-12);
        boolean[] dead = new boolean[n];
        int numDead = 0;
        for (int i = 0; i < n; i++) {
            dead[i] = rowsSeen - lastFired[i] >= opt.deadAfterRows() && rowsSeen >= opt.deadAfterRows();
            numDead += dead[i] ? 1 : 0;
        }
        int kAux = Math.min(Math.max(d / 2, 1), numDead);
        double auxScale = numDead == 0 ? 0 : opt.auxAlpha() * Math.min(1.0, numDead / (double) Math.max(d / 2, 1));

        float[] gEnc = new float[n * d];
        float[] gBEnc = new float[n];
        float[] gDec = new float[n * d];
        float[] gBDec = new float[d];
        double sq = 0;
        double aux = 0;
        long active = 0;
        float[] xc = new float[d];
        float[] pre = new float[n];
        float[] xHat = new float[d];
        float[] dxHat = new float[d];
        float[] auxOut = new float[d];
        float[] dAux = new float[d];
        float[] auxPre = new float[n];
        for (int r = 0; r < rows; r++) {
            int o = r * d;
            // forward: encoder
            for (int j = 0; j < d; j++) {
                xc[j] = x[o + j] - bDec[j];
            }
            for (int i = 0; i < n; i++) {
                int w = i * d;
                float s = bEnc[i];
                for (int j = 0; j < d; j++) {
                    s += wEnc[w + j] * xc[j];
                }
                pre[i] = Math.max(s, 0f);
            }
            int[] top = Sae.topK(pre, opt.k());
            // decoder
            System.arraycopy(bDec, 0, xHat, 0, d);
            for (int i : top) {
                float a = pre[i];
                if (a == 0f) {
                    continue;
                }
                active++;
                lastFired[i] = rowsSeen + r + 1;
                int w = i * d;
                for (int j = 0; j < d; j++) {
                    xHat[j] += a * wDec[w + j];
                }
            }
            // loss and its gradient at x_hat
            for (int j = 0; j < d; j++) {
                double e = xHat[j] - x[o + j];
                sq += e * e;
                dxHat[j] = (float) (2 * e / total);
            }
            // AuxK: the dead latents' top pre-activations reconstruct the (fixed) residual x - x_hat
            int[] auxTop = null;
            if (kAux > 0) {
                for (int i = 0; i < n; i++) {
                    auxPre[i] = dead[i] ? pre[i] : -1f;
                }
                auxTop = Sae.topK(auxPre, kAux);
                java.util.Arrays.fill(auxOut, 0f);
                for (int i : auxTop) {
                    float a = auxPre[i];
                    if (a <= 0f) {
                        continue;
                    }
                    int w = i * d;
                    for (int j = 0; j < d; j++) {
                        auxOut[j] += a * wDec[w + j];
                    }
                }
                for (int j = 0; j < d; j++) {
                    double e = auxOut[j] - (x[o + j] - xHat[j]);
                    aux += e * e;
                    dAux[j] = (float) (auxScale * 2 * e / total);
                }
            }
            // backward: decoder (x_hat = W_dec^T f + b_dec)
            for (int j = 0; j < d; j++) {
                gBDec[j] += dxHat[j];
            }
            float[] dPre = new float[n];
            for (int i : top) {
                float a = pre[i];
                if (a == 0f) {
                    continue;
                }
                int w = i * d;
                float df = 0f;
                for (int j = 0; j < d; j++) {
                    gDec[w + j] += a * dxHat[j];
                    df += wDec[w + j] * dxHat[j];
                }
                dPre[i] += df;
            }
            if (auxTop != null) {
                for (int i : auxTop) {
                    float a = auxPre[i];
                    if (a <= 0f) {
                        continue;
                    }
                    int w = i * d;
                    float df = 0f;
                    for (int j = 0; j < d; j++) {
                        gDec[w + j] += a * dAux[j];
                        df += wDec[w + j] * dAux[j];
                    }
                    dPre[i] += df;
                }
            }
            // backward: encoder (pre = W_enc (x - b_dec) + b_enc; relu and TopK pass the kept, positive ones)
            for (int i = 0; i < n; i++) {
                float g = dPre[i];
                if (g == 0f) {
                    continue;
                }
                int w = i * d;
                gBEnc[i] += g;
                for (int j = 0; j < d; j++) {
                    gEnc[w + j] += g * xc[j];
                    gBDec[j] -= g * wEnc[w + j];
                }
            }
        }
        rowsSeen += rows;
        // no gradient along the decoder rows (they stay unit-norm)
        for (int i = 0; i < n; i++) {
            int w = i * d;
            double dot = 0;
            for (int j = 0; j < d; j++) {
                dot += gDec[w + j] * wDec[w + j];
            }
            for (int j = 0; j < d; j++) {
                gDec[w + j] -= (float) (dot * wDec[w + j]);
            }
        }
        adam(new float[][] {gEnc, gBEnc, gDec, gBDec});
        normalizeDecoder();
        int deadNow = 0;
        for (int i = 0; i < n; i++) {
            deadNow += rowsSeen - lastFired[i] >= opt.deadAfterRows() ? 1 : 0;
        }
        return new Stats(sq / total, sq / ((double) rows * d), active / (double) rows, aux / total, deadNow / (double) n);
    }

    private void adam(float[][] grads) {
        steps++;
        float[][] params = params();
        double c1 = 1 - Math.pow(BETA1, steps);
        double c2 = 1 - Math.pow(BETA2, steps);
        for (int p = 0; p < params.length; p++) {
            float[] w = params[p];
            float[] g = grads[p];
            float[] mm = m[p];
            float[] vv = v[p];
            for (int i = 0; i < w.length; i++) {
                mm[i] = (float) (BETA1 * mm[i] + (1 - BETA1) * g[i]);
                vv[i] = (float) (BETA2 * vv[i] + (1 - BETA2) * g[i] * g[i]);
                w[i] -= (float) (opt.lr() * (mm[i] / c1) / (Math.sqrt(vv[i] / c2) + EPS));
            }
        }
    }

    private void normalizeDecoder() {
        for (int i = 0; i < n; i++) {
            int w = i * d;
            double s = 0;
            for (int j = 0; j < d; j++) {
                s += wDec[w + j] * wDec[w + j];
            }
            float inv = (float) (1 / (Math.sqrt(s) + 1e-12));
            for (int j = 0; j < d; j++) {
                wDec[w + j] *= inv;
            }
        }
    }

    /** The SAE as trained so far (copies of the weights), reading {@code site}. */
    public Sae sae(Site site, String source) {
        return new Sae(source, site.toString(), site, d, n, Sae.Activation.TOPK, opt.k(), true, Sae.Normalization.NONE,
                wEnc.clone(), bEnc.clone(), wDec.clone(), bDec.clone(), null);
    }

    /** Fraction of latents that have not fired in the last {@code deadAfterRows} rows. */
    public double deadFraction() {
        int dead = 0;
        for (int i = 0; i < n; i++) {
            dead += rowsSeen - lastFired[i] >= opt.deadAfterRows() ? 1 : 0;
        }
        return dead / (double) n;
    }

    // ---- resumable state -----------------------------------------------------------------------

    /** Writes weights, Adam moments and counters to {@code file} (atomically). */
    public void save(Path file, java.util.Map<String, String> extra) {
        var w = new SafetensorsWriter();
        String[] names = {"W_enc", "b_enc", "W_dec", "b_dec"};
        float[][] params = params();
        for (int p = 0; p < params.length; p++) {
            w.add(names[p], params[p], new long[] {params[p].length}, DType.F32);
            w.add(names[p] + ".adam_m", m[p], new long[] {m[p].length}, DType.F32);
            w.add(names[p] + ".adam_v", v[p], new long[] {v[p].length}, DType.F32);
        }
        float[] fired = new float[n];
        for (int i = 0; i < n; i++) {
            fired[i] = (float) Math.max(0, rowsSeen - lastFired[i]);
        }
        w.add("rows_since_fired", fired, new long[] {n}, DType.F32);
        w.metadata("ipg.steps", Long.toString(steps));
        w.metadata("ipg.rows_seen", Long.toString(rowsSeen));
        w.metadata("ipg.initialized", Boolean.toString(initialized));
        extra.forEach(w::metadata);
        w.write(file);
    }

    /** Restores what {@link #save} wrote; returns the file's metadata. */
    public java.util.Map<String, String> load(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String[] names = {"W_enc", "b_enc", "W_dec", "b_dec"};
            float[][] params = params();
            for (int p = 0; p < params.length; p++) {
                copy(f, names[p], params[p]);
                copy(f, names[p] + ".adam_m", m[p]);
                copy(f, names[p] + ".adam_v", v[p]);
            }
            float[] fired = new float[n];
            copy(f, "rows_since_fired", fired);
            steps = Long.parseLong(f.metadata().get("ipg.steps"));
            rowsSeen = Long.parseLong(f.metadata().get("ipg.rows_seen"));
            initialized = Boolean.parseBoolean(f.metadata().get("ipg.initialized"));
            for (int i = 0; i < n; i++) {
                lastFired[i] = rowsSeen - (long) fired[i];
            }
            return java.util.Map.copyOf(f.metadata());
        }
    }

    private static void copy(SafetensorsFile f, String name, float[] dst) {
        float[] src = Tensors.read(f, name, dst.length);
        System.arraycopy(src, 0, dst, 0, dst.length);
    }
}
