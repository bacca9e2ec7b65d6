package dev.ipg.core.grad;

import dev.ipg.core.model.Block;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.HfNames;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.model.Weights;
import dev.ipg.core.tensor.Matrix;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gradient buffers shaped like the model's weights (engine layout, {@code [out, in]}); null where
 * the model has no such tensor. With tied embeddings {@link #lmHead()} is the same array as
 * {@link #embed()}, so both contributions add up.
 */
public final class Gradients {

    private final Block.Grads[] layers;
    private final float[] embed;
    private final float[] posEmbed;
    private final float[] finalNorm;
    private final float[] finalNormBias;
    private final float[] lmHead;
    private final Family family;

    private Gradients(Family family, Block.Grads[] layers, float[] embed, float[] posEmbed, float[] finalNorm, float[] finalNormBias,
                      float[] lmHead) {
        this.family = family;
        this.layers = layers;
        this.embed = embed;
        this.posEmbed = posEmbed;
        this.finalNorm = finalNorm;
        this.finalNormBias = finalNormBias;
        this.lmHead = lmHead;
    }

    /** Zero buffers for every weight of {@code model}. */
    public static Gradients zerosLike(Transformer model) {
        Weights w = model.weights();
        int n = model.config().numLayers();
        Block.Grads[] layers = new Block.Grads[n];
        for (int l = 0; l < n; l++) {
            layers[l] = Block.Grads.zerosLike(w.layer(l));
        }
        float[] embed = zeros(w.embed());
        float[] head = w.lmHead() == w.embed() ? embed : zeros(w.lmHead());
        return new Gradients(model.config().family(), layers, embed, zeros(w.posEmbed()), zeros(w.finalNorm()),
                zeros(w.finalNormBias()), head);
    }

    private static float[] zeros(Matrix m) {
        return m == null ? null : new float[Math.toIntExact(m.size())];
    }

    public Block.Grads layer(int l) {
        return layers[l];
    }

    public float[] embed() {
        return embed;
    }

    public float[] posEmbed() {
        return posEmbed;
    }

    public float[] finalNorm() {
        return finalNorm;
    }

    public float[] finalNormBias() {
        return finalNormBias;
    }

    public float[] lmHead() {
        return lmHead;
    }

    /**
     * Every buffer under its Hugging Face tensor name (Llama-like families; the layouts agree
     * there). A tied LM head appears once, as the embedding.
     */
    public Map<String, float[]> byName() {
        if (family == Family.GPT2) {
            throw new UnsupportedOperationException("named gradients are provided for Llama-like checkpoints only");
        }
        Map<String, float[]> m = new LinkedHashMap<>();
        m.put(HfNames.EMBED, embed);
        for (int l = 0; l < layers.length; l++) {
            Block.Grads g = layers[l];
            HfNames.Layer p = HfNames.layer(l);
            put(m, p.inputNorm(), g.attnNorm());
            put(m, p.q("weight"), g.q());
            put(m, p.q("bias"), g.qBias());
            put(m, p.k("weight"), g.k());
            put(m, p.k("bias"), g.kBias());
            put(m, p.v("weight"), g.v());
            put(m, p.v("bias"), g.vBias());
            put(m, p.o("weight"), g.o());
            put(m, p.o("bias"), g.oBias());
            put(m, p.qNorm(), g.qNorm());
            put(m, p.kNorm(), g.kNorm());
            put(m, p.postAttentionNorm(), g.mlpNorm());
            put(m, p.gate("weight"), g.gate());
            put(m, p.gate("bias"), g.gateBias());
            put(m, p.up("weight"), g.up());
            put(m, p.up("bias"), g.upBias());
            put(m, p.down("weight"), g.down());
            put(m, p.down("bias"), g.downBias());
        }
        m.put(HfNames.FINAL_NORM, finalNorm);
        if (lmHead != embed) {
            m.put(HfNames.LM_HEAD, lmHead);
        }
        return m;
    }

    private static void put(Map<String, float[]> m, String name, float[] g) {
        if (g != null) {
            m.put(name, g);
        }
    }
}
