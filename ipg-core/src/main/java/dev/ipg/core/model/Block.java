package dev.ipg.core.model;

import dev.ipg.core.nn.Activation;
import dev.ipg.core.nn.Attention;
import dev.ipg.core.nn.LayerNorm;
import dev.ipg.core.nn.Linear;
import dev.ipg.core.nn.Mlp;
import dev.ipg.core.nn.RmsNorm;
import dev.ipg.core.nn.Rope;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;

/**
 * One transformer block: its forward and, right beside it, its backward, and what the forward
 * records for the backward ({@link Saved}, read by nothing else). For rows x (R, d):
 * <pre>
 *   resid_pre = x
 *   q, k, v = norm1(x) Wq + bq, norm1(x) Wk + bk, norm1(x) Wv + bv                       // attn.hook_q, hook_k, hook_v
 *   z   = Attention(RoPE(qknorm(q)), RoPE(qknorm(k)), v)                                 // attn.hook_pattern, attn.hook_z (R, H*hd)
 *   x   = x + (z Wo + bo)                                                                // hook_attn_out, hook_resid_mid
 *   m   = act(norm2(x) Wg) * (norm2(x) Wu)   or   act(norm2(x) Wfc + bfc)                // mlp.hook_post (R, ff)
 *   x   = x + (m Wd + bd)                                                                // hook_mlp_out, hook_resid_post
 * </pre>
 * The backward runs these lines bottom to top: from dL/d(resid_post) to dL/d(resid_pre),
 * offering the gradient at each hook site on the way to a {@link Capture}, which may end it there.
 */
public final class Block {

    /**
     * Where a backward ends: offered dL/d(site) at each site kind of the block, top to bottom
     * (the gradient at the site's activation as the hooks saw it); returns true to stop there.
     */
    @FunctionalInterface
    public interface Capture {
        /** Never stops: the backward runs to resid_pre (weight gradients). */
        Capture NONE = (here, grad) -> false;

        boolean stop(Site.Kind here, float[] grad);
    }

    /**
     * Gradient buffers of one block's weights, shaped like {@link Weights.Layer}; null where the
     * block has no such tensor. The backward adds to them.
     */
    public record Grads(float[] attnNorm, float[] attnNormBias,
                        float[] q, float[] qBias, float[] k, float[] kBias, float[] v, float[] vBias,
                        float[] o, float[] oBias,
                        float[] qNorm, float[] kNorm,
                        float[] mlpNorm, float[] mlpNormBias,
                        float[] gate, float[] gateBias, float[] up, float[] upBias, float[] down, float[] downBias) {

        /** No weight gradients: the backward gives only dL/dx. */
        static final Grads NONE = new Grads(null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null);

        /** Zero buffers for every tensor of {@code w}. */
        public static Grads zerosLike(Weights.Layer w) {
            return new Grads(zeros(w.attnNorm()), zeros(w.attnNormBias()),
                    zeros(w.q()), zeros(w.qBias()), zeros(w.k()), zeros(w.kBias()), zeros(w.v()), zeros(w.vBias()),
                    zeros(w.o()), zeros(w.oBias()),
                    zeros(w.qNorm()), zeros(w.kNorm()),
                    zeros(w.mlpNorm()), zeros(w.mlpNormBias()),
                    zeros(w.gate()), zeros(w.gateBias()), zeros(w.up()), zeros(w.upBias()), zeros(w.down()),
                    zeros(w.downBias()));
        }

        private static float[] zeros(Matrix m) {
            return m == null ? null : new float[Math.toIntExact(m.size())];
        }
    }

    /**
     * What the forward keeps for the backward; shapes for R rows. Arrays are the forward's own
     * buffers kept alive, not copies, except the residual stream, which is updated in place and
     * is copied at the two points the backward reads it. Kept in a {@link Tape}.
     */
    static final class Saved {
        /** Whether the weight-gradient inputs (h1, z, h2, m) are kept. */
        private final boolean forWeights;
        /** Residual entering the block, after hooks (R, d). */
        private float[] xIn;
        /** Reciprocal norms of the first norm (R). */
        private float[] inv1;
        /** First norm output (R, d); weight mode only. */
        private float[] h1;
        /** Queries and keys before q/k-norm (Qwen3 only) (R, H*hd), (R, Hkv*hd), and their reciprocal norms. */
        private float[] qPre;
        private float[] kPre;
        private float[] invQ;
        private float[] invK;
        /** Queries after RoPE (R, H*hd). */
        private float[] q;
        /** Attention output after hooks (R, H*hd); weight mode only. */
        private float[] z;
        /** Residual after the attention sub-block, after hooks (R, d). */
        private float[] xMid;
        /** Reciprocal norms of the second norm (R). */
        private float[] inv2;
        /** Second norm output (R, d); weight mode only. */
        private float[] h2;
        /** Gate pre-activation (R, ff), or null for plain MLPs. */
        private float[] g;
        /** Up projection (gated) or fc pre-activation (plain) (R, ff). */
        private float[] u;
        /** MLP activation after hooks (R, ff); weight mode only. */
        private float[] m;

        Saved(boolean forWeights) {
            this.forWeights = forWeights;
        }
    }

    /**
     * Floats {@link Saved} holds per row, at most: xIn and xMid (2d), the reciprocal norms
     * (2 + H + Hkv, counted as d), q, g and u (H*hd + 2ff), with q/k-norm qPre and kPre, and for
     * weight gradients h1, h2, z and m.
     */
    public static long savedFloatsPerRow(ModelConfig cfg, boolean weights) {
        long d = cfg.hiddenSize();
        long qw = (long) cfg.numHeads() * cfg.headDim();
        long kvw = (long) cfg.numKvHeads() * cfg.headDim();
        long ff = cfg.intermediateSize();
        return 3 * d + qw + 2 * ff + (cfg.qkNorm() ? qw + kvw : 0) + (weights ? 2 * d + qw + ff : 0);
    }

    private final int l;
    private final ModelConfig config;
    private final Weights.Layer w;
    private final Kernels kernels;
    private final Parallel pool;
    private final Attention.Shape shape;
    private final double[] invFreq;

    Block(int l, ModelConfig config, Weights.Layer w, Kernels kernels, Parallel pool, double[] invFreq) {
        this.l = l;
        this.config = config;
        this.w = w;
        this.kernels = kernels;
        this.pool = pool;
        this.shape = new Attention.Shape(config.numHeads(), config.numKvHeads(), config.headDim(), config.slidingWindow());
        this.invFreq = invFreq;
    }

    /**
     * Runs the block over the rows of {@code batch}: updates the residual {@code x} (R, d) in
     * place, appends keys and values to {@code cache}, applies the hooks at the block's sites,
     * and records into {@code tape} when non-null.
     */
    void forward(Batch batch, KVCache cache, Hooks hooks, float[] x, Saved tape) {
        int rows = batch.rows();
        int d = config.hiddenSize();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int hd = config.headDim();
        int kvw = kvHeads * hd;
        float eps = config.normEps();

        hooks.apply(new Site(l, Site.Kind.RESID_PRE), x, d, batch);
        float[] inv1 = tape == null ? null : new float[rows];
        if (tape != null) {
            tape.xIn = x.clone();
            tape.inv1 = inv1;
        }
        // h = norm1(x), (R, d)
        float[] h = new float[rows * d];
        norm(config, kernels, x, rows, w.attnNorm(), w.attnNormBias(), h, inv1);
        float[] q = Linear.forward(kernels, pool, h, rows, w.q(), w.qBias());   // (R, H*hd)
        float[] k = Linear.forward(kernels, pool, h, rows, w.k(), w.kBias());   // (R, Hkv*hd)
        float[] v = Linear.forward(kernels, pool, h, rows, w.v(), w.vBias());   // (R, Hkv*hd)
        hooks.apply(new Site(l, Site.Kind.ATTN_Q), q, heads * hd, batch);
        hooks.apply(new Site(l, Site.Kind.ATTN_K), k, kvw, batch);
        hooks.apply(new Site(l, Site.Kind.ATTN_V), v, kvw, batch);
        if (config.qkNorm()) {
            float[] invQ = tape == null ? null : new float[rows * heads];
            float[] invK = tape == null ? null : new float[rows * kvHeads];
            if (tape != null) {
                tape.qPre = q.clone();
                tape.kPre = k.clone();
                tape.invQ = invQ;
                tape.invK = invK;
            }
            RmsNorm.forward(kernels, q, rows * heads, hd, w.qNorm(), eps, q, invQ);
            RmsNorm.forward(kernels, k, rows * kvHeads, hd, w.kNorm(), eps, k, invK);
        }
        if (invFreq != null) {
            Rope.forward(q, rows, heads, hd, batch.pos(), invFreq);
            Rope.forward(k, rows, kvHeads, hd, batch.pos(), invFreq);
        }
        for (int r = 0; r < rows; r++) {
            int s = batch.seq()[r];
            int p = batch.pos()[r];
            System.arraycopy(k, r * kvw, cache.keys(l, s), p * kvw, kvw);
            System.arraycopy(v, r * kvw, cache.values(l, s), p * kvw, kvw);
        }
        Site patternSite = new Site(l, Site.Kind.ATTN_PATTERN);
        if (hooks.actsAt(patternSite)) {
            float[] pattern = Attention.pattern(kernels, shape, q, batch.seq(), batch.pos(), s -> cache.keys(l, s));
            hooks.apply(patternSite, pattern, pattern.length / Math.max(1, rows), batch);
        }
        float[] z = Attention.forward(kernels, pool, shape, q, batch.seq(), batch.pos(),
                s -> cache.keys(l, s), s -> cache.values(l, s));       // (R, H*hd)
        hooks.apply(new Site(l, Site.Kind.ATTN_Z), z, heads * hd, batch);
        hooks.apply(new Site(l, Site.Kind.ATTN_HEADS), z, heads * hd, heads, batch);

        float[] a = Linear.forward(kernels, pool, z, rows, w.o(), w.oBias());   // (R, d)
        hooks.apply(new Site(l, Site.Kind.ATTN_OUT), a, d, batch);
        kernels.axpy(1f, a, 0, x, 0, rows * d);
        hooks.apply(new Site(l, Site.Kind.RESID_MID), x, d, batch);
        if (tape != null) {
            tape.xMid = x.clone();
        }
        float[] inv2 = tape == null ? null : new float[rows];
        float[] h2 = new float[rows * d];
        norm(config, kernels, x, rows, w.mlpNorm(), w.mlpNormBias(), h2, inv2);

        int ff = config.intermediateSize();
        Activation act = config.activation();
        float[] u = Linear.forward(kernels, pool, h2, rows, w.up(), w.upBias());   // (R, ff)
        float[] g = null;
        float[] m;
        if (w.gate() != null) {
            g = Linear.forward(kernels, pool, h2, rows, w.gate(), w.gateBias());
            m = Mlp.gatedForward(kernels, act, g, u, rows * ff);
        } else {
            m = Mlp.plainForward(kernels, act, u, rows * ff);
        }
        hooks.apply(new Site(l, Site.Kind.MLP_POST), m, ff, batch);
        if (tape != null) {
            tape.q = q;
            tape.inv2 = inv2;
            tape.g = g;
            tape.u = u;
            if (tape.forWeights) {
                tape.h1 = h;
                tape.z = z;
                tape.h2 = h2;
                tape.m = m;
            }
        }
        float[] down = Linear.forward(kernels, pool, m, rows, w.down(), w.downBias());  // (R, d)
        hooks.apply(new Site(l, Site.Kind.MLP_OUT), down, d, batch);
        kernels.axpy(1f, down, 0, x, 0, rows * d);
        hooks.apply(new Site(l, Site.Kind.RESID_POST), x, d, batch);
    }

    /**
     * Back through the block, whose forward recorded into {@code tape} with keys and values in
     * {@code cache}: dx is dL/d(resid_post); returns dL/d(resid_pre), or, when {@code cap}
     * stops at a site, the residual gradient reached by then. {@code grads} (null: none) receives
     * the weight gradients; they need a tape recorded for weights.
     */
    public float[] backward(Tape tape, KVCache cache, float[] dx, Capture cap, Grads grads) {
        Saved t = tape.saved(l);
        if (t == null) {
            throw new IllegalStateException("block " + l + " was not recorded (the tape starts at block " + tape.fromLayer() + ")");
        }
        if (grads != null && !t.forWeights) {
            throw new IllegalStateException("weight gradients of block " + l + " need a tape recorded for weights");
        }
        Grads lg = grads == null ? Grads.NONE : grads;
        Batch b = tape.batch();
        int rows = b.rows();
        int d = config.hiddenSize();
        int ff = config.intermediateSize();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int hd = config.headDim();
        int kvw = kvHeads * hd;
        if (cap.stop(Site.Kind.RESID_POST, dx) || cap.stop(Site.Kind.MLP_OUT, dx)) {
            return dx;
        }
        // x_post = x_mid + m Wdᵀ + bd
        float[] dm = new float[rows * ff];
        Linear.backward(kernels, pool, dx, rows, w.down(), t.m, dm, lg.down(), lg.downBias());
        if (cap.stop(Site.Kind.MLP_POST, dm)) {
            return dx;
        }
        Activation act = config.activation();
        float[] dh2 = new float[rows * d];
        float[] du = new float[rows * ff];
        if (w.gate() != null) {
            float[] dg = new float[rows * ff];
            Mlp.gatedBackward(kernels, act, dm, t.g, t.u, rows * ff, dg, du);
            Linear.backward(kernels, pool, dg, rows, w.gate(), t.h2, dh2, lg.gate(), lg.gateBias());
        } else {
            Mlp.plainBackward(kernels, act, dm, t.u, rows * ff, du);
        }
        Linear.backward(kernels, pool, du, rows, w.up(), t.h2, dh2, lg.up(), lg.upBias());
        float[] dxMid = dx.clone();
        normBackward(config, dh2, t.xMid, rows, w.mlpNorm(), t.inv2, dxMid, lg.mlpNorm(), lg.mlpNormBias());
        if (cap.stop(Site.Kind.RESID_MID, dxMid) || cap.stop(Site.Kind.ATTN_OUT, dxMid)) {
            return dxMid;
        }
        // x_mid = x_in + z Woᵀ + bo
        float[] dz = new float[rows * heads * hd];
        Linear.backward(kernels, pool, dxMid, rows, w.o(), t.z, dz, lg.o(), lg.oBias());
        if (cap.stop(Site.Kind.ATTN_Z, dz)) {
            return dxMid;
        }
        int slots = cache.slots();
        float[][] dKeys = new float[slots][];
        float[][] dValues = new float[slots][];
        for (int s = 0; s < slots; s++) {
            dKeys[s] = new float[cache.length(s) * kvw];
            dValues[s] = new float[cache.length(s) * kvw];
        }
        float[] dq = new float[rows * heads * hd];
        Attention.backward(kernels, pool, shape, dz, t.q, b.seq(), b.pos(),
                s -> cache.keys(l, s), s -> cache.values(l, s), dq, s -> dKeys[s], s -> dValues[s]);
        float[] dk = new float[rows * kvw];
        float[] dv = new float[rows * kvw];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(dKeys[b.seq()[r]], b.pos()[r] * kvw, dk, r * kvw, kvw);
            System.arraycopy(dValues[b.seq()[r]], b.pos()[r] * kvw, dv, r * kvw, kvw);
        }
        if (cap.stop(Site.Kind.ATTN_V, dv)) {
            return dxMid;
        }
        if (invFreq != null) {
            Rope.backward(dq, rows, heads, hd, b.pos(), invFreq);
            Rope.backward(dk, rows, kvHeads, hd, b.pos(), invFreq);
        }
        if (config.qkNorm()) {
            float[] dqPre = new float[dq.length];
            float[] dkPre = new float[dk.length];
            RmsNorm.backward(dq, t.qPre, rows * heads, hd, w.qNorm(), t.invQ, dqPre, lg.qNorm());
            RmsNorm.backward(dk, t.kPre, rows * kvHeads, hd, w.kNorm(), t.invK, dkPre, lg.kNorm());
            dq = dqPre;
            dk = dkPre;
        }
        // hook_q and hook_k are the projections, before q/k-norm and rotary embedding
        if (cap.stop(Site.Kind.ATTN_Q, dq) || cap.stop(Site.Kind.ATTN_K, dk)) {
            return dxMid;
        }
        float[] dh1 = new float[rows * d];
        Linear.backward(kernels, pool, dq, rows, w.q(), t.h1, dh1, lg.q(), lg.qBias());
        Linear.backward(kernels, pool, dk, rows, w.k(), t.h1, dh1, lg.k(), lg.kBias());
        Linear.backward(kernels, pool, dv, rows, w.v(), t.h1, dh1, lg.v(), lg.vBias());
        float[] dxIn = dxMid;
        normBackward(config, dh1, t.xIn, rows, w.attnNorm(), t.inv1, dxIn, lg.attnNorm(), lg.attnNormBias());
        cap.stop(Site.Kind.RESID_PRE, dxIn);
        return dxIn;
    }

    /** The model's norm (RMSNorm or LayerNorm) of each of {@code rows} rows of width d; inv (when non-null) gets the reciprocal norms. */
    static void norm(ModelConfig config, Kernels kernels, float[] x, int rows, Matrix weight, Matrix bias, float[] out,
                     float[] inv) {
        int d = config.hiddenSize();
        if (config.norm() == ModelConfig.NormType.RMS) {
            RmsNorm.forward(kernels, x, rows, d, weight, config.normEps(), out, inv);
        } else {
            LayerNorm.forward(kernels, x, rows, d, weight, bias, config.normEps(), out, inv);
        }
    }

    /** Back through {@link #norm}: dx += dL/dx; dw and db (when non-null) += the weight and bias gradients. */
    static void normBackward(ModelConfig config, float[] dy, float[] x, int rows, Matrix weight, float[] inv, float[] dx,
                             float[] dw, float[] db) {
        int d = config.hiddenSize();
        if (config.norm() == ModelConfig.NormType.RMS) {
            RmsNorm.backward(dy, x, rows, d, weight, inv, dx, dw);
        } else {
            LayerNorm.backward(dy, x, rows, d, weight, inv, dx, dw, db);
        }
    }
}
