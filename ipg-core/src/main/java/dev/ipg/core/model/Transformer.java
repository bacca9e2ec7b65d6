package dev.ipg.core.model;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.Checkpoint;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The transformer: one class for every family, parameterized by {@link ModelConfig}. A forward
 * pass takes a {@link Batch} of rows (one prompt's tokens, or one new token per sequence),
 * appends their keys and values to a {@link KVCache}, applies {@link Hooks} at the named sites,
 * and returns logits for the rows asked for.
 *
 * <p>Block l, for rows x (R, d):
 * <pre>
 *   resid_pre = x
 *   z   = Attention(RoPE(norm1(x) Wq + bq), RoPE(norm1(x) Wk + bk), norm1(x) Wv + bv)   // attn.hook_z (R, H*hd)
 *   x   = x + z Wo + bo                                                                  // hook_resid_mid
 *   m   = act(norm2(x) Wg) * (norm2(x) Wu)   or   act(norm2(x) Wfc + bfc)                // mlp.hook_post (R, ff)
 *   x   = x + m Wd + bd                                                                  // hook_resid_post
 * </pre>
 */
public final class Transformer implements AutoCloseable {

    private final ModelConfig config;
    private final Checkpoint checkpoint;
    private final Weights weights;
    private final Kernels kernels;
    private final Parallel pool;
    private final double[] invFreq;
    private final Path dir;

    private Transformer(Path dir, ModelConfig config, Checkpoint checkpoint, Weights weights, Kernels kernels, Parallel pool) {
        this.dir = dir;
        this.config = config;
        this.checkpoint = checkpoint;
        this.weights = weights;
        this.kernels = kernels;
        this.pool = pool;
        this.invFreq = config.positions() == ModelConfig.PositionType.ROPE
                ? config.rope().inverseFrequencies(config.headDim()) : null;
    }

    /** Loads a Hugging Face model directory (config.json + safetensors). */
    public static Transformer load(Path dir, Kernels kernels, Parallel pool) {
        ModelConfig config = ModelConfig.load(dir);
        Checkpoint ckpt = Checkpoint.open(dir);
        try {
            return new Transformer(dir, config, ckpt, Weights.bind(config, ckpt), kernels, pool);
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    public Kernels kernels() {
        return kernels;
    }

    public Parallel pool() {
        return pool;
    }

    public Path dir() {
        return dir;
    }

    /** A cache for {@code slots} sequences of up to {@code capacity} positions (at most the context length). */
    public KVCache newCache(int slots, int capacity) {
        return new KVCache(config, slots, Math.min(capacity, config.maxPositions()));
    }

    /**
     * Runs {@code batch} through the model. Keys and values of every row are appended to
     * {@code cache}. Returns the logits {@code (logitRows.length, V)} of the listed rows, in that
     * order (an empty array when none are listed).
     */
    public float[] forward(Batch batch, KVCache cache, Hooks hooks, int[] logitRows) {
        int rows = batch.rows();
        int d = config.hiddenSize();
        Map<Integer, Integer> newLength = validate(batch, cache);
        for (var e : newLength.entrySet()) {
            cache.reserve(e.getKey(), e.getValue());
        }
        // x is (R, d): the residual stream
        float[] x = new float[rows * d];
        embed(batch, x);
        for (int l = 0; l < config.numLayers(); l++) {
            block(l, batch, cache, hooks, x);
        }
        for (var e : newLength.entrySet()) {
            cache.setLength(e.getKey(), e.getValue());
        }
        return logits(x, logitRows);
    }

    /** Logits of the listed rows of the final residual stream {@code x} (R, d). */
    private float[] logits(float[] x, int[] logitRows) {
        int d = config.hiddenSize();
        int n = logitRows.length;
        if (n == 0) {
            return new float[0];
        }
        float[] h = new float[n * d];
        for (int i = 0; i < n; i++) {
            norm(x, logitRows[i] * d, weights.finalNorm(), weights.finalNormBias(), h, i * d);
        }
        float[] out = new float[n * config.vocabSize()];
        kernels.matmul(pool, h, 0, n, weights.lmHead(), out, 0);
        return out;
    }

    private Map<Integer, Integer> validate(Batch batch, KVCache cache) {
        Map<Integer, Integer> next = new HashMap<>();
        for (int r = 0; r < batch.rows(); r++) {
            int s = batch.seq()[r];
            int p = batch.pos()[r];
            int t = batch.tokens()[r];
            if (s < 0 || s >= cache.slots()) {
                throw new IllegalArgumentException("row " + r + ": sequence slot " + s + " not in cache of " + cache.slots());
            }
            if (t < 0 || t >= config.vocabSize()) {
                throw new IpgException("token id " + t + " is outside the vocabulary (0.." + (config.vocabSize() - 1) + ")");
            }
            if (p >= config.maxPositions()) {
                throw new IpgException("sequence of " + (p + 1) + " tokens exceeds the model's context of "
                        + config.maxPositions() + " positions");
            }
            if (p >= cache.capacity()) {
                throw new IpgException("sequence of " + (p + 1) + " tokens exceeds the cache capacity of "
                        + cache.capacity() + " positions");
            }
            int expected = next.getOrDefault(s, cache.length(s));
            if (p != expected) {
                throw new IllegalArgumentException("row " + r + ": position " + p + " of sequence " + s
                        + " does not continue its cache (expected " + expected + ")");
            }
            next.put(s, p + 1);
        }
        return next;
    }

    private void embed(Batch batch, float[] x) {
        int d = config.hiddenSize();
        Matrix pe = weights.posEmbed();
        float[] tmp = pe == null ? null : new float[d];
        for (int r = 0; r < batch.rows(); r++) {
            weights.embed().copyRow(batch.tokens()[r], x, r * d);
            if (pe != null) {
                pe.copyRow(batch.pos()[r], tmp, 0);
                kernels.axpy(1f, tmp, 0, x, r * d, d);
            }
        }
    }

    private void block(int l, Batch batch, KVCache cache, Hooks hooks, float[] x) {
        Weights.Layer w = weights.layer(l);
        int rows = batch.rows();
        int d = config.hiddenSize();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int hd = config.headDim();
        int qw = heads * hd;
        int kvw = kvHeads * hd;

        hooks.apply(new Site(l, Site.Kind.RESID_PRE), x, d, batch);

        // h = norm1(x), (R, d)
        float[] h = new float[rows * d];
        for (int r = 0; r < rows; r++) {
            norm(x, r * d, w.attnNorm(), w.attnNormBias(), h, r * d);
        }
        float[] q = linear(h, rows, w.q(), w.qBias());   // (R, H*hd)
        float[] k = linear(h, rows, w.k(), w.kBias());   // (R, Hkv*hd)
        float[] v = linear(h, rows, w.v(), w.vBias());   // (R, Hkv*hd)
        if (config.qkNorm()) {
            for (int i = 0; i < rows * heads; i++) {
                kernels.rmsnorm(q, i * hd, w.qNorm(), 0f, config.normEps(), q, i * hd, hd);
            }
            for (int i = 0; i < rows * kvHeads; i++) {
                kernels.rmsnorm(k, i * hd, w.kNorm(), 0f, config.normEps(), k, i * hd, hd);
            }
        }
        if (invFreq != null) {
            for (int r = 0; r < rows; r++) {
                int p = batch.pos()[r];
                for (int hh = 0; hh < heads; hh++) {
                    rope(q, r * qw + hh * hd, p);
                }
                for (int hh = 0; hh < kvHeads; hh++) {
                    rope(k, r * kvw + hh * hd, p);
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            int s = batch.seq()[r];
            int p = batch.pos()[r];
            System.arraycopy(k, r * kvw, cache.keys(l, s), p * kvw, kvw);
            System.arraycopy(v, r * kvw, cache.values(l, s), p * kvw, kvw);
        }
        float[] z = attention(l, batch, cache, q);       // (R, H*hd)
        hooks.apply(new Site(l, Site.Kind.ATTN_Z), z, qw, batch);

        float[] a = linear(z, rows, w.o(), w.oBias());   // (R, d)
        kernels.axpy(1f, a, 0, x, 0, rows * d);
        hooks.apply(new Site(l, Site.Kind.RESID_MID), x, d, batch);

        for (int r = 0; r < rows; r++) {
            norm(x, r * d, w.mlpNorm(), w.mlpNormBias(), h, r * d);
        }
        int ff = config.intermediateSize();
        float[] m = linear(h, rows, w.up(), w.upBias());  // (R, ff)
        Activation act = config.activation();
        if (w.gate() != null) {
            float[] g = linear(h, rows, w.gate(), w.gateBias());
            for (int i = 0; i < rows * ff; i++) {
                m[i] = act.apply(g[i]) * m[i];
            }
        } else {
            for (int i = 0; i < rows * ff; i++) {
                m[i] = act.apply(m[i]);
            }
        }
        hooks.apply(new Site(l, Site.Kind.MLP_POST), m, ff, batch);
        float[] down = linear(m, rows, w.down(), w.downBias());  // (R, d)
        kernels.axpy(1f, down, 0, x, 0, rows * d);
        hooks.apply(new Site(l, Site.Kind.RESID_POST), x, d, batch);
    }

    /**
     * Causal attention of every row over its sequence's cached keys and values, positions
     * {@code [start, pos]} (start > 0 only with a sliding window). Returns z (R, H*hd).
     */
    private float[] attention(int l, Batch batch, KVCache cache, float[] q) {
        int rows = batch.rows();
        int heads = config.numHeads();
        int hd = config.headDim();
        int group = heads / config.numKvHeads();
        int kvw = cache.rowWidth();
        int qw = heads * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        int window = config.slidingWindow();
        float[] z = new float[rows * qw];
        int maxLen = 0;
        for (int p : batch.pos()) {
            maxLen = Math.max(maxLen, p + 1);
        }
        int scoresLen = maxLen;
        pool.forRange(rows * heads, 1, (from, to) -> {
            float[] scores = new float[scoresLen];
            for (int i = from; i < to; i++) {
                int r = i / heads;
                int hh = i % heads;
                int p = batch.pos()[r];
                int start = window > 0 ? Math.max(0, p - window + 1) : 0;
                float[] keys = cache.keys(l, batch.seq()[r]);
                float[] vals = cache.values(l, batch.seq()[r]);
                int kvOff = (hh / group) * hd;
                int qOff = r * qw + hh * hd;
                int n = p + 1 - start;
                for (int t = 0; t < n; t++) {
                    scores[t] = kernels.dot(q, qOff, keys, (start + t) * kvw + kvOff, hd) * scale;
                }
                kernels.softmax(scores, 0, n);
                for (int t = 0; t < n; t++) {
                    kernels.axpy(scores[t], vals, (start + t) * kvw + kvOff, z, qOff, hd);
                }
            }
        });
        return z;
    }

    /** Rotates one head in place, rotate-half convention: pairs (i, i + hd/2) by angle pos * invFreq[i]. */
    private void rope(float[] a, int off, int pos) {
        int half = config.headDim() / 2;
        for (int i = 0; i < half; i++) {
            double angle = pos * invFreq[i];
            float c = (float) Math.cos(angle);
            float s = (float) Math.sin(angle);
            float x1 = a[off + i];
            float x2 = a[off + half + i];
            a[off + i] = x1 * c - x2 * s;
            a[off + half + i] = x2 * c + x1 * s;
        }
    }

    /** Applies the block's norm to one row. */
    private void norm(float[] x, int xo, Matrix weight, Matrix bias, float[] out, int oo) {
        if (config.norm() == ModelConfig.NormType.RMS) {
            kernels.rmsnorm(x, xo, weight, 0f, config.normEps(), out, oo, config.hiddenSize());
        } else {
            kernels.layernorm(x, xo, weight, bias, config.normEps(), out, oo, config.hiddenSize());
        }
    }

    /** {@code x W^T + b} for R rows: returns (R, W.rows). */
    private float[] linear(float[] x, int rows, Matrix w, Matrix bias) {
        int n = w.rows();
        float[] out = new float[rows * n];
        kernels.matmul(pool, x, 0, rows, w, out, 0);
        if (bias != null) {
            for (int r = 0; r < rows; r++) {
                int o = r * n;
                for (int j = 0; j < n; j++) {
                    out[o + j] += bias.getFlat(j);
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        weights.close();
        checkpoint.close();
    }
}
