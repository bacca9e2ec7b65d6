package dev.ipg.core.model;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.TensorSource;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Matrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The tensors of a model as zero-copy {@link Matrix} views over the checkpoint, in the
 * {@code nn.Linear} layout {@code [out, in]} the kernels expect. Every shape is checked against
 * the config. GPT-2's Conv1D weights, stored {@code [in, out]}, are transposed once into an
 * off-heap arena owned by this object.
 */
public final class Weights implements AutoCloseable {

    /** One transformer block. Optional tensors (biases, q/k norms, LayerNorm biases) are null when absent. */
    public record Layer(
            Matrix attnNorm, Matrix attnNormBias,
            Matrix q, Matrix qBias, Matrix k, Matrix kBias, Matrix v, Matrix vBias,
            Matrix o, Matrix oBias,
            Matrix qNorm, Matrix kNorm,
            Matrix mlpNorm, Matrix mlpNormBias,
            Matrix gate, Matrix gateBias, Matrix up, Matrix upBias, Matrix down, Matrix downBias) {
    }

    private final Arena arena;
    private final Map<String, Matrix> bound; // every tensor read from the source, by its name there, in binding order
    private final String source;
    private final List<Layer> layers;
    private final Matrix embed;
    private final Matrix posEmbed;
    private final Matrix finalNorm;
    private final Matrix finalNormBias;
    private final Matrix lmHead;

    private Weights(Arena arena, Recording src, List<Layer> layers, Matrix embed, Matrix posEmbed, Matrix finalNorm,
                    Matrix finalNormBias, Matrix lmHead) {
        this.arena = arena;
        this.bound = Collections.unmodifiableMap(src.used);
        this.source = src.describe();
        this.layers = List.copyOf(layers);
        this.embed = embed;
        this.posEmbed = posEmbed;
        this.finalNorm = finalNorm;
        this.finalNormBias = finalNormBias;
        this.lmHead = lmHead;
    }

    public Layer layer(int i) {
        return layers.get(i);
    }

    /** Token embedding {@code [V, d]}. */
    public Matrix embed() {
        return embed;
    }

    /** Learned position embedding {@code [P, d]}, or null. */
    public Matrix posEmbed() {
        return posEmbed;
    }

    public Matrix finalNorm() {
        return finalNorm;
    }

    public Matrix finalNormBias() {
        return finalNormBias;
    }

    /** LM head {@code [V, d]} (the embedding when tied). */
    public Matrix lmHead() {
        return lmHead;
    }

    /** Binds the tensors of {@code ckpt} for a model with {@code cfg}. */
    public static Weights bind(ModelConfig cfg, TensorSource ckpt) {
        Recording src = new Recording(ckpt);
        return cfg.family() == Family.GPT2 ? bindGpt2(cfg, src) : bindLlamaLike(cfg, src);
    }

    /**
     * The names of the tensors the model reads from its source, in binding order (GPT-2's
     * Conv1D weights under their stored names).
     */
    public Set<String> tensorNames() {
        return bound.keySet();
    }

    /** Where the tensors come from (the checkpoint directory), for messages. */
    public String source() {
        return source;
    }

    /** The first element of a bound tensor that is NaN or infinite: tensor name, row, column and value. */
    public record NonFiniteElement(String tensor, long row, long col, float value) {
    }

    /**
     * Scans every bound tensor, in binding order (embedding, blocks, final norm, head), for a
     * NaN or infinite element. A full pass over the weights: meant for diagnosing a non-finite
     * forward pass, not for the hot path.
     */
    public Optional<NonFiniteElement> firstNonFinite() {
        for (var e : bound.entrySet()) {
            Matrix m = e.getValue();
            long at = NonFinite.firstInTensor(m);
            if (at >= 0) {
                return Optional.of(new NonFiniteElement(e.getKey(), at / m.cols(), at % m.cols(), m.getFlat(at)));
            }
        }
        return Optional.empty();
    }

    /** A source that remembers every tensor bound from it. */
    private static final class Recording implements TensorSource {
        final TensorSource src;
        final Map<String, Matrix> used = new LinkedHashMap<>();

        Recording(TensorSource src) {
            this.src = src;
        }

        @Override
        public boolean has(String name) {
            return src.has(name);
        }

        @Override
        public Matrix matrix(String name, int rows, int cols) {
            Matrix m = src.matrix(name, rows, cols);
            used.put(name, m);
            return m;
        }

        @Override
        public String describe() {
            return src.describe();
        }
    }

    private static Weights bindLlamaLike(ModelConfig c, Recording ck) {
        int d = c.hiddenSize();
        int qw = c.numHeads() * c.headDim();
        int kvw = c.numKvHeads() * c.headDim();
        int ff = c.intermediateSize();
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            HfNames.Layer p = HfNames.layer(i);
            layers.add(new Layer(
                    ck.matrix(p.inputNorm(), 1, d), null,
                    ck.matrix(p.q("weight"), qw, d), c.qkvBias() ? ck.matrix(p.q("bias"), 1, qw) : null,
                    ck.matrix(p.k("weight"), kvw, d), c.qkvBias() ? ck.matrix(p.k("bias"), 1, kvw) : null,
                    ck.matrix(p.v("weight"), kvw, d), c.qkvBias() ? ck.matrix(p.v("bias"), 1, kvw) : null,
                    ck.matrix(p.o("weight"), d, qw), c.oBias() ? ck.matrix(p.o("bias"), 1, d) : null,
                    c.qkNorm() ? ck.matrix(p.qNorm(), 1, c.headDim()) : null,
                    c.qkNorm() ? ck.matrix(p.kNorm(), 1, c.headDim()) : null,
                    ck.matrix(p.postAttentionNorm(), 1, d), null,
                    ck.matrix(p.gate("weight"), ff, d), c.mlpBias() ? ck.matrix(p.gate("bias"), 1, ff) : null,
                    ck.matrix(p.up("weight"), ff, d), c.mlpBias() ? ck.matrix(p.up("bias"), 1, ff) : null,
                    ck.matrix(p.down("weight"), d, ff), c.mlpBias() ? ck.matrix(p.down("bias"), 1, d) : null));
        }
        Matrix embed = ck.matrix(HfNames.EMBED, c.vocabSize(), d);
        Matrix head;
        if (c.isClassifier()) {
            head = ck.matrix(HfNames.SCORE, c.numLabels(), d);
        } else if (c.tieEmbeddings()) {
            head = embed;
        } else if (ck.has(HfNames.LM_HEAD)) {
            head = ck.matrix(HfNames.LM_HEAD, c.vocabSize(), d);
        } else {
            throw new IpgException("tensor lm_head.weight is missing from " + ck.describe()
                    + " and config.json does not set tie_word_embeddings");
        }
        return new Weights(null, ck, layers, embed, null, ck.matrix(HfNames.FINAL_NORM, 1, d), null, head);
    }

    private static Weights bindGpt2(ModelConfig c, Recording ck) {
        String pre = ck.has("transformer.wte.weight") ? "transformer." : "";
        int d = c.hiddenSize();
        int ff = c.intermediateSize();
        Arena arena = Arena.ofShared();
        try {
            List<Layer> layers = new ArrayList<>();
            for (int i = 0; i < c.numLayers(); i++) {
                String p = pre + "h." + i + ".";
                // Conv1D stores [in, out]; transpose to [out, in].
                Matrix qkv = transpose(ck.matrix(p + "attn.c_attn.weight", d, 3 * d), arena);
                Matrix qkvB = ck.matrix(p + "attn.c_attn.bias", 1, 3 * d);
                layers.add(new Layer(
                        ck.matrix(p + "ln_1.weight", 1, d), ck.matrix(p + "ln_1.bias", 1, d),
                        qkv.rowSlice(0, d), vectorSlice(qkvB, 0, d),
                        qkv.rowSlice(d, 2 * d), vectorSlice(qkvB, d, d),
                        qkv.rowSlice(2 * d, 3 * d), vectorSlice(qkvB, 2 * d, d),
                        transpose(ck.matrix(p + "attn.c_proj.weight", d, d), arena), ck.matrix(p + "attn.c_proj.bias", 1, d),
                        null, null,
                        ck.matrix(p + "ln_2.weight", 1, d), ck.matrix(p + "ln_2.bias", 1, d),
                        null, null,
                        transpose(ck.matrix(p + "mlp.c_fc.weight", d, ff), arena), ck.matrix(p + "mlp.c_fc.bias", 1, ff),
                        transpose(ck.matrix(p + "mlp.c_proj.weight", ff, d), arena), ck.matrix(p + "mlp.c_proj.bias", 1, d)));
            }
            Matrix wte = ck.matrix(pre + "wte.weight", c.vocabSize(), d);
            return new Weights(arena, ck, layers, wte, ck.matrix(pre + "wpe.weight", c.maxPositions(), d),
                    ck.matrix(pre + "ln_f.weight", 1, d), ck.matrix(pre + "ln_f.bias", 1, d), wte);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Elements {@code [from, from + len)} of a vector ({@code [1, n]} matrix); no copy. */
    static Matrix vectorSlice(Matrix v, int from, int len) {
        long b = v.dtype().bytes();
        return new Matrix(v.data().asSlice(from * b, len * b), v.dtype(), 1, len);
    }

    /** A transposed copy of {@code m} in {@code arena}, same dtype. */
    static Matrix transpose(Matrix m, Arena arena) {
        int rows = m.rows();
        int cols = m.cols();
        int eb = m.dtype().bytes();
        MemorySegment dst = arena.allocate((long) rows * cols * eb, 64);
        MemorySegment src = m.data();
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < cols; col++) {
                MemorySegment.copy(src, ((long) r * cols + col) * eb, dst, ((long) col * rows + r) * eb, eb);
            }
        }
        return new Matrix(dst, m.dtype(), cols, rows);
    }

    /** The dtypes present among the projection weights, e.g. [BF16]. */
    public List<DType> dtypes() {
        List<DType> out = new ArrayList<>();
        for (Matrix m : new Matrix[] {embed, lmHead, layers.getFirst().q(), layers.getFirst().down()}) {
            if (!out.contains(m.dtype())) {
                out.add(m.dtype());
            }
        }
        return out;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }
}
