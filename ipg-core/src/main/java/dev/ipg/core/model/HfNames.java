package dev.ipg.core.model;

/**
 * The tensor names of a Llama-style Hugging Face checkpoint (Llama, Mistral, Qwen2, Qwen3), the
 * one place that spells them: the binder ({@link Weights}), the random checkpoints and the
 * trainer's initial weights all name tensors through it.
 */
public final class HfNames {

    /** The token embedding [vocab, d]. */
    public static final String EMBED = "model.embed_tokens.weight";
    /** The final norm's gain [d]. */
    public static final String FINAL_NORM = "model.norm.weight";
    /** The untied output head [vocab, d]. */
    public static final String LM_HEAD = "lm_head.weight";
    /** A sequence classifier's head [labels, d]. */
    public static final String SCORE = "score.weight";

    private HfNames() {
    }

    /** The tensors of block {@code index}. */
    public static Layer layer(int index) {
        return new Layer(index);
    }

    /**
     * The tensor names of one block; {@code part} is {@code weight} or {@code bias}.
     *
     * @param index the block
     */
    public record Layer(int index) {

        /** {@code model.layers.N.} */
        public String prefix() {
            return "model.layers." + index + ".";
        }

        public String inputNorm() {
            return prefix() + "input_layernorm.weight";
        }

        public String postAttentionNorm() {
            return prefix() + "post_attention_layernorm.weight";
        }

        public String q(String part) {
            return attn("q_proj." + part);
        }

        public String k(String part) {
            return attn("k_proj." + part);
        }

        public String v(String part) {
            return attn("v_proj." + part);
        }

        public String o(String part) {
            return attn("o_proj." + part);
        }

        /** Qwen3's per-head query norm gain [head_dim]. */
        public String qNorm() {
            return attn("q_norm.weight");
        }

        /** Qwen3's per-head key norm gain [head_dim]. */
        public String kNorm() {
            return attn("k_norm.weight");
        }

        public String gate(String part) {
            return mlp("gate_proj." + part);
        }

        public String up(String part) {
            return mlp("up_proj." + part);
        }

        public String down(String part) {
            return mlp("down_proj." + part);
        }

        private String attn(String name) {
            return prefix() + "self_attn." + name;
        }

        private String mlp(String name) {
            return prefix() + "mlp." + name;
        }
    }
}
