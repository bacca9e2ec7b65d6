package dev.ipg.core.model;

/**
 * What the reverse mode needs from a forward pass, recorded for blocks {@code fromLayer} and
 * above (all blocks, plus the embedding rows, when weight gradients are wanted). Arrays are the
 * forward's own buffers, kept alive, not copies (except the residual stream, which is updated in
 * place and is copied at the two points the backward reads it).
 */
public final class Tape {

    /** One block's saved activations; shapes for R rows. */
    public static final class Layer {
        /** Whether the weight-gradient inputs (h1, z, h2, m) are kept. */
        public final boolean forWeights;

        Layer(boolean forWeights) {
            this.forWeights = forWeights;
        }

        /** Residual entering the block, after hooks (R, d). */
        public float[] xIn;
        /** Reciprocal norms of the first norm (R). */
        public float[] inv1;
        /** First norm output (R, d); weight mode only. */
        public float[] h1;
        /** Queries and keys before q/k-norm (Qwen3 only) (R, H*hd), (R, Hkv*hd), and their reciprocal norms. */
        public float[] qPre;
        public float[] kPre;
        public float[] invQ;
        public float[] invK;
        /** Queries after RoPE (R, H*hd). */
        public float[] q;
        /** Attention output after hooks (R, H*hd); weight mode only. */
        public float[] z;
        /** Residual after the attention sub-block, after hooks (R, d). */
        public float[] xMid;
        public float[] inv2;
        /** Second norm output (R, d); weight mode only. */
        public float[] h2;
        /** Gate pre-activation (R, ff), or null for plain MLPs. */
        public float[] g;
        /** Up projection (gated) or fc pre-activation (plain) (R, ff). */
        public float[] u;
        /** MLP activation after hooks (R, ff); weight mode only. */
        public float[] m;
    }

    private final int fromLayer;
    private final boolean weights;
    private final Layer[] layers;
    private float[] finalResid;
    private Batch batch;

    /** A tape for blocks {@code fromLayer..} of a model with {@code numLayers} blocks. */
    public Tape(int numLayers, int fromLayer, boolean weights) {
        this.fromLayer = weights ? 0 : fromLayer;
        this.weights = weights;
        this.layers = new Layer[numLayers];
    }

    public int fromLayer() {
        return fromLayer;
    }

    /** Whether weight gradients will be taken (everything is recorded). */
    public boolean weights() {
        return weights;
    }

    public Layer layer(int l) {
        return layers[l];
    }

    /** The residual stream leaving the last block, before the final norm (R, d). */
    public float[] finalResid() {
        return finalResid;
    }

    public Batch batch() {
        return batch;
    }

    boolean records(int l) {
        return l >= fromLayer;
    }

    Layer start(int l) {
        layers[l] = new Layer(weights);
        return layers[l];
    }

    void finish(Batch b, float[] x) {
        this.batch = b;
        this.finalResid = x;
    }
}
