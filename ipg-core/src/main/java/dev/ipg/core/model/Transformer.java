package dev.ipg.core.model;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.Checkpoint;
import dev.ipg.core.io.TensorSource;
import dev.ipg.core.nn.Embedding;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;

/**
 * The transformer: one class for every family, parameterized by {@link ModelConfig}. A forward
 * pass takes a {@link Batch} of rows (one prompt's tokens, or one new token per sequence),
 * appends their keys and values to a {@link KVCache}, applies {@link Hooks} at the named sites,
 * and returns logits for the rows asked for.
 *
 * <p>The residual stream x (R, d) enters block 0 as {@code hook_embed + hook_pos_embed}, passes
 * through each {@link Block} (its forward and backward), and after the last block
 * {@code normFinal(x)} ({@code ln_final.hook_normalized}) feeds the unembedding.
 */
public final class Transformer implements AutoCloseable {

    private final ModelConfig config;
    private final Checkpoint checkpoint;
    private final Weights weights;
    private final Kernels kernels;
    private final Parallel pool;
    private final Block[] blocks;
    private final Path dir;

    private Transformer(Path dir, ModelConfig config, Checkpoint checkpoint, Weights weights, Kernels kernels, Parallel pool) {
        this.dir = dir;
        this.config = config;
        this.checkpoint = checkpoint;
        this.weights = weights;
        this.kernels = kernels;
        this.pool = pool;
        double[] invFreq = config.positions() == ModelConfig.PositionType.ROPE
                ? config.rope().inverseFrequencies(config.headDim()) : null;
        this.blocks = new Block[config.numLayers()];
        for (int l = 0; l < blocks.length; l++) {
            blocks[l] = new Block(l, config, weights.layer(l), kernels, pool, invFreq);
        }
    }

    /**
     * A model over tensors that are not a checkpoint directory (heap arrays while training).
     * Closing it does not close the source.
     */
    public static Transformer of(ModelConfig config, TensorSource source, Kernels kernels, Parallel pool) {
        return new Transformer(null, config, null, Weights.bind(config, source), kernels, pool);
    }

    /**
     * How a checkpoint is loaded.
     *
     * @param ignoreUnusedTensors accept tensors the model that config.json describes does not read
     *     (by default each is an error: it usually means config.json and the weights disagree, e.g.
     *     fewer layers than stored, or a bias that config.json disables)
     */
    public record LoadOptions(boolean ignoreUnusedTensors) {

        /** Every tensor of the checkpoint must be used. */
        public static LoadOptions strict() {
            return new LoadOptions(false);
        }
    }

    /** Loads a Hugging Face model directory (config.json + safetensors); every tensor must be used. */
    public static Transformer load(Path dir, Kernels kernels, Parallel pool) {
        return load(dir, kernels, pool, LoadOptions.strict());
    }

    /** Loads a Hugging Face model directory (config.json + safetensors). */
    public static Transformer load(Path dir, Kernels kernels, Parallel pool, LoadOptions options) {
        ModelConfig config = ModelConfig.load(dir);
        Checkpoint ckpt = Checkpoint.open(dir);
        try {
            Weights w = Weights.bind(config, ckpt);
            try {
                if (!options.ignoreUnusedTensors()) {
                    UnusedTensors.check(config, ckpt, w);
                }
                return new Transformer(dir, config, ckpt, w, kernels, pool);
            } catch (RuntimeException e) {
                w.close();
                throw e;
            }
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

    /** Block l (0 = the first). */
    public Block block(int l) {
        return blocks[l];
    }

    /** A cache for {@code slots} sequences of up to {@code capacity} positions (at most the context length). */
    public KVCache newCache(int slots, int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("negative cache capacity " + capacity);
        }
        return new KVCache(config, slots, Math.min(capacity, config.maxPositions()));
    }

    /**
     * Runs {@code batch} through the model. Keys and values of every row are appended to
     * {@code cache}. Returns the logits {@code (logitRows.length, V)} of the listed rows, in that
     * order (an empty array when none are listed); a sequence-classification model gives its
     * {@code numLabels} scores per row instead of V logits.
     */
    public float[] forward(Batch batch, KVCache cache, Hooks hooks, int[] logitRows) {
        return logits(batch, forwardHidden(batch, cache, hooks, null), hooks, logitRows);
    }

    /**
     * Runs {@code batch} through every block and returns the residual stream leaving the last
     * one, before the final norm (R, d). When {@code tape} is non-null, records what the reverse
     * mode needs.
     */
    public float[] forwardHidden(Batch batch, KVCache cache, Hooks hooks, Tape tape) {
        Map<Integer, Integer> newLength = validate(batch, cache);
        for (var e : newLength.entrySet()) {
            cache.reserve(e.getKey(), e.getValue());
        }
        // x is (R, d): the residual stream
        float[] x = embed(batch, hooks);
        for (int l = 0; l < config.numLayers(); l++) {
            blocks[l].forward(batch, cache, hooks, x, tape == null ? null : tape.start(l));
        }
        // the one finiteness check of the blocks: a pass over (R, d) just written
        if (!NonFinite.all(kernels, x, 0, x.length)) {
            throw new Diagnosis(this).residual(batch, cache, hooks, x); // the cache lengths are not advanced
        }
        for (var e : newLength.entrySet()) {
            cache.setLength(e.getKey(), e.getValue());
        }
        if (tape != null) {
            tape.finish(batch);
        }
        return x;
    }

    /**
     * The residual stream entering block 0 (R, d): token embeddings (hooks at hook_embed), plus
     * learned position embeddings (hooks at hook_pos_embed) when the model has them.
     */
    private float[] embed(Batch batch, Hooks hooks) {
        Site tokenSite = Site.global(Site.Kind.EMBED);
        Site posSite = Site.global(Site.Kind.POS_EMBED);
        if (!hooks.actsAt(tokenSite) && !hooks.actsAt(posSite)) {
            return Embedding.forward(weights.embed(), weights.posEmbed(), batch.tokens(), batch.pos());
        }
        int d = config.hiddenSize();
        float[] x = Embedding.forward(weights.embed(), null, batch.tokens(), batch.pos());
        hooks.apply(tokenSite, x, d, batch);
        if (weights.posEmbed() != null) {
            float[] p = new float[x.length];
            for (int r = 0; r < batch.rows(); r++) {
                weights.posEmbed().copyRow(batch.pos()[r], p, r * d);
            }
            hooks.apply(posSite, p, d, batch);
            kernels.axpy(1f, p, 0, x, 0, x.length);
        }
        return x;
    }

    /**
     * Final norm of rows {@code rows} of the residual {@code x} of {@code batch} (R, d), with the
     * hooks at {@code ln_final.hook_normalized} applied: when some act there, every row is
     * normalized (so readers see all positions) and the listed ones returned. Returns
     * (rows.length, d); inv (when non-null) gets the norms of the listed rows.
     */
    public float[] finalNorm(float[] x, Batch batch, Hooks hooks, int[] rows, float[] inv) {
        Site site = Site.global(Site.Kind.LN_FINAL);
        if (hooks == null || !hooks.actsAt(site)) {
            return finalNorm(x, rows, inv);
        }
        int d = config.hiddenSize();
        int all = batch.rows();
        float[] invAll = new float[all];
        float[] h = new float[all * d];
        Block.norm(config, kernels, x, all, weights.finalNorm(), weights.finalNormBias(), h, invAll);
        hooks.apply(site, h, d, batch);
        float[] sel = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(h, rows[i] * d, sel, i * d, d);
            if (inv != null) {
                inv[i] = invAll[rows[i]];
            }
        }
        return sel;
    }

    /** Final norm of rows {@code rows} of the residual {@code x} (R, d): returns (rows.length, d); inv gets the norms. */
    public float[] finalNorm(float[] x, int[] rows, float[] inv) {
        int d = config.hiddenSize();
        float[] sel = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(x, rows[i] * d, sel, i * d, d);
        }
        float[] h = new float[sel.length];
        Block.norm(config, kernels, sel, rows.length, weights.finalNorm(), weights.finalNormBias(), h, inv);
        return h;
    }

    /**
     * Back through the final norm of {@code rows} rows {@code x} (rows, d) with reciprocal norms
     * {@code inv} (from {@link #finalNorm}): dx += dL/dx for dy = dL/d(normalized); dw and db
     * (when non-null) += the gradients of its weight and bias.
     */
    public void finalNormBackward(float[] dy, float[] x, int rows, float[] inv, float[] dx, float[] dw, float[] db) {
        Block.normBackward(config, dy, x, rows, weights.finalNorm(), inv, dx, dw, db);
    }

    /** Logits of the listed rows of the final residual stream {@code x} (R, d). */
    private float[] logits(Batch batch, float[] x, Hooks hooks, int[] logitRows) {
        int n = logitRows.length;
        if (n == 0) {
            return new float[0];
        }
        int v = weights.lmHead().rows();
        if ((long) n * v > KVCache.MAX_ARRAY) {
            throw new IpgException("logits of " + n + " rows x " + v + " tokens do not fit in one array;"
                    + " ask for fewer rows at once");
        }
        float[] h = finalNorm(x, batch, hooks, logitRows, null);
        float[] out = new float[n * v];
        kernels.matmul(pool, h, 0, n, weights.lmHead(), out, 0);
        // the one finiteness check of the head: a pass over the (n, V) logits just written
        if (!NonFinite.all(kernels, out, 0, out.length)) {
            int i = NonFinite.first(out, 0, out.length);
            throw new Diagnosis(this).logits(batch, logitRows[i / v], i % v, out[i]);
        }
        return out;
    }

    private Map<Integer, Integer> validate(Batch batch, KVCache cache) {
        long widest = Math.max(Math.max(config.hiddenSize(), config.intermediateSize()),
                (long) config.numHeads() * config.headDim());
        if ((long) batch.rows() * widest > KVCache.MAX_ARRAY) {
            throw new IpgException("a forward pass over " + batch.rows() + " positions needs arrays of "
                    + batch.rows() + " x " + widest + " floats, more than one array holds; use fewer or shorter sequences");
        }
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

    /**
     * The error for a non-finite value found outside the forward pass (the reverse mode's
     * log-probabilities or gradients), described by {@code what}: names the tensor holding a
     * non-finite weight when there is one (a full scan of the weights, run only on this path).
     */
    public IpgException nonFinite(String what) {
        return Diagnosis.reverse(this, what);
    }

    /** Where a rerun of a batch first meets a non-finite value: a site (null: the embedding), row and component. */
    record Located(Site site, int row, int component, float value) {
    }

    /** Thrown by the probing reader to end a rerun early. */
    private static final class Stop extends RuntimeException {
        Stop() {
            super(null, null, false, false);
        }
    }

    /**
     * Runs {@code batch} again, site by site, after a forward pass over it ended non-finite (its
     * cache lengths were not advanced, so the rerun computes the same values), and returns the
     * first place a NaN or infinity appears, or null if none does. For diagnosis only.
     */
    Located locate(Batch batch, KVCache cache, Hooks hooks) {
        Located[] found = new Located[1];
        Hooks probe = hooks.copy();
        for (int l = 0; l < config.numLayers(); l++) {
            // the residual stream, hook_z and the MLP neurons place the value in a sub-block
            for (Site.Kind k : EnumSet.range(Site.Kind.RESID_PRE, Site.Kind.RESID_POST)) {
                probe.read(new Site(l, k), (site, act, width, b) -> {
                    int i = NonFinite.first(act, 0, b.rows() * width);
                    if (i >= 0) {
                        found[0] = new Located(site, i / width, i % width, act[i]);
                        throw new Stop();
                    }
                });
            }
        }
        float[] x = Embedding.forward(weights.embed(), weights.posEmbed(), batch.tokens(), batch.pos());
        int i = NonFinite.first(x, 0, x.length);
        if (i >= 0) {
            return new Located(null, i / config.hiddenSize(), i % config.hiddenSize(), x[i]);
        }
        try {
            for (int l = 0; l < config.numLayers(); l++) {
                blocks[l].forward(batch, cache, probe, x, null);
            }
        } catch (Stop stop) {
            return found[0];
        }
        return null;
    }

    @Override
    public void close() {
        weights.close();
        if (checkpoint != null) {
            checkpoint.close();
        }
    }
}
