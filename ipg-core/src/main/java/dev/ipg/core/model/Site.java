package dev.ipg.core.model;

import dev.ipg.core.IpgException;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A named hook site, as in TransformerLens. Per block L: {@code blocks.L.hook_resid_pre},
 * {@code blocks.L.attn.hook_q}, {@code hook_k}, {@code hook_v}, {@code blocks.L.attn.hook_pattern},
 * {@code blocks.L.attn.hook_z}, {@code blocks.L.hook_attn_out}, {@code blocks.L.hook_resid_mid},
 * {@code blocks.L.mlp.hook_post}, {@code blocks.L.hook_mlp_out}, {@code blocks.L.hook_resid_post};
 * outside the blocks: {@code hook_embed}, {@code hook_pos_embed} (learned positions only) and
 * {@code ln_final.hook_normalized}. {@code blocks.L.attn.hook_z.heads} is hook_z with one
 * component per attention head (ipg's own spelling: TransformerLens has no head-level hook; strip
 * {@code .heads} for the TransformerLens name of the activation).
 *
 * <p>A site has {@link #width components} (what is scored, selected and scaled; the component
 * index of hook_z, q, k and v is {@code head * head_dim + d}), {@link #rowWidth floats per
 * position} (what hooks see; they differ only for whole heads) and a {@link #shape} (how it is
 * written: hook_q/k/v/z as {@code [T, heads, head_dim]}, hook_pattern as {@code [heads, T, T]}).
 * For a site with a layer-independent kind the layer is always 0.
 */
public record Site(int layer, Kind kind) implements java.io.Serializable {

    /** Where the site sits. The first five are in the order the forward pass reaches them; the rest were added later. */
    public enum Kind {
        /** The residual stream entering the block. Width: hidden size. */
        RESID_PRE("hook_resid_pre"),
        /** Per-head attention outputs, concatenated, before the output projection. Width: heads * head_dim. */
        ATTN_Z("attn.hook_z"),
        /** The residual stream after the attention sub-block. Width: hidden size. */
        RESID_MID("hook_resid_mid"),
        /** MLP hidden activations (act(gate) * up, or act(fc)). Width: intermediate size. */
        MLP_POST("mlp.hook_post"),
        /** The residual stream leaving the block. Width: hidden size. */
        RESID_POST("hook_resid_post"),
        /** Token embeddings {@code W_E[token]}, before position embeddings are added. Width: hidden size. */
        EMBED("hook_embed"),
        /** Learned position embeddings {@code W_pos[pos]} (GPT-2); absent with rotary positions. Width: hidden size. */
        POS_EMBED("hook_pos_embed"),
        /**
         * Queries: the query projection {@code norm1(x) Wq + bq} before the per-head q-norm (Qwen3)
         * and before rotary embedding, as TransformerLens records hook_q (its hook_rot_q comes after
         * rotation). Width: heads * head_dim.
         */
        ATTN_Q("attn.hook_q"),
        /** Keys: the key projection before k-norm and rotary embedding, as hook_q. Width: kv_heads * head_dim. */
        ATTN_K("attn.hook_k"),
        /** Values: the value projection. Width: kv_heads * head_dim. */
        ATTN_V("attn.hook_v"),
        /** Attention probabilities (softmax of the scaled, causally masked scores), read only: [heads, T, T]. */
        ATTN_PATTERN("attn.hook_pattern"),
        /** The attention sub-block's output {@code z Wo + bo}, before the residual add. Width: hidden size. */
        ATTN_OUT("hook_attn_out"),
        /** The MLP sub-block's output {@code m Wd + bd}, before the residual add. Width: hidden size. */
        MLP_OUT("hook_mlp_out"),
        /**
         * The final norm's output with its weight (and bias) applied: the input of the unembedding.
         * (TransformerLens's RMSNorm records hook_normalized before the weight; its LayerNorm after
         * weight and bias, as here.) Width: hidden size.
         */
        LN_FINAL("ln_final.hook_normalized"),
        /**
         * hook_z with one component per head: scaling component h scales the whole head's
         * head_dim values; the gradient of a head is the sum over its head_dim of the per-dimension
         * ones. Width: heads; hooks see hook_z's heads * head_dim values per position.
         */
        ATTN_HEADS("attn.hook_z.heads");

        private final String suffix;

        Kind(String suffix) {
            this.suffix = suffix;
        }

        public String suffix() {
            return suffix;
        }

        /** Whether the site is outside the blocks (its name has no {@code blocks.L.} prefix). */
        public boolean global() {
            return this == EMBED || this == POS_EMBED || this == LN_FINAL;
        }

        /** Whether the site can be read but not intervened on or differentiated. */
        public boolean readOnly() {
            return this == ATTN_PATTERN;
        }

        /** The full name at layer L ({@code blocks.L.} + suffix, or the suffix of a global kind). */
        public String nameAt(String layer) {
            return global() ? suffix : "blocks." + layer + "." + suffix;
        }
    }

    private static final Pattern NAME = Pattern.compile("blocks\\.(\\d+)\\.(.+)");

    public Site {
        if (layer < 0) {
            throw new IllegalArgumentException("negative layer " + layer);
        }
        if (kind.global()) {
            layer = 0;
        }
    }

    /** A site outside the blocks: {@code hook_embed}, {@code hook_pos_embed} or {@code ln_final.hook_normalized}. */
    public static Site global(Kind kind) {
        if (!kind.global()) {
            throw new IllegalArgumentException(kind + " is a block site");
        }
        return new Site(0, kind);
    }

    /** Every site name pattern, for messages and help: {@code hook_embed, blocks.L.hook_resid_pre, ...}. */
    public static String names() {
        return Arrays.stream(Kind.values()).map(k -> k.nameAt("L")).collect(Collectors.joining(", "));
    }

    /** Parses a TransformerLens-style name; throws {@link IpgException} for anything else. */
    public static Site parse(String name) {
        String n = name.strip();
        for (Kind k : Kind.values()) {
            if (k.global() && k.suffix.equals(n)) {
                return new Site(0, k);
            }
        }
        Matcher m = NAME.matcher(n);
        Kind kind = null;
        if (m.matches()) {
            for (Kind k : Kind.values()) {
                if (!k.global() && k.suffix.equals(m.group(2))) {
                    kind = k;
                }
            }
        }
        if (kind == null) {
            throw new IpgException("unknown site '" + name + "': expected one of " + names());
        }
        int layer;
        try {
            layer = Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            throw new IpgException("unknown site '" + name + "': layer number too large");
        }
        return new Site(layer, kind);
    }

    /**
     * The number of components of this site in a model with {@code config}: what scores, selections
     * and scale vectors index. hook_pattern has none (it is read only).
     */
    public int width(ModelConfig config) {
        return switch (kind) {
            case RESID_PRE, RESID_MID, RESID_POST, EMBED, POS_EMBED, ATTN_OUT, MLP_OUT, LN_FINAL -> config.hiddenSize();
            case ATTN_Z, ATTN_Q -> config.numHeads() * config.headDim();
            case ATTN_K, ATTN_V -> config.numKvHeads() * config.headDim();
            case MLP_POST -> config.intermediateSize();
            case ATTN_HEADS -> config.numHeads();
            case ATTN_PATTERN -> throw readOnly("is read only: it has no components to score, scale or differentiate");
        };
    }

    /** The floats per position that hooks at this site see: the width, except for whole heads (heads * head_dim). */
    public int rowWidth(ModelConfig config) {
        return kind == Kind.ATTN_HEADS ? config.numHeads() * config.headDim() : width(config);
    }

    /**
     * How the activations of {@code positions} positions are written: {@code [T, heads, head_dim]}
     * for hook_q, hook_z and its heads, {@code [T, kv_heads, head_dim]} for hook_k and hook_v,
     * {@code [heads, T, T]} for hook_pattern, {@code [T, width]} otherwise.
     */
    public long[] shape(ModelConfig config, int positions) {
        return switch (kind) {
            case ATTN_Z, ATTN_Q, ATTN_HEADS -> new long[] {positions, config.numHeads(), config.headDim()};
            case ATTN_K, ATTN_V -> new long[] {positions, config.numKvHeads(), config.headDim()};
            case ATTN_PATTERN -> new long[] {config.numHeads(), positions, positions};
            default -> new long[] {positions, width(config)};
        };
    }

    /**
     * The first block whose activations the reverse mode needs to reach this site: 0 for the
     * embeddings, the number of blocks for the final norm, the site's layer otherwise.
     */
    public int firstBlock(ModelConfig config) {
        return switch (kind) {
            case EMBED, POS_EMBED -> 0;
            case LN_FINAL -> config.numLayers();
            default -> layer;
        };
    }

    /** Throws {@link IpgException} unless the site can be intervened on (hook_pattern is read only). */
    public Site checkWritable() {
        if (kind.readOnly()) {
            throw readOnly("is read only: the attention probabilities are recorded, not changed "
                    + "(intervene at attn.hook_q, attn.hook_k or attn.hook_z instead)");
        }
        return this;
    }

    private IpgException readOnly(String problem) {
        return new IpgException(this + " " + problem);
    }

    /** Throws {@link IpgException} if the site does not exist in a model with {@code config}. */
    public Site checkIn(ModelConfig config) {
        if (kind == Kind.POS_EMBED && config.positions() != ModelConfig.PositionType.LEARNED) {
            throw new IpgException("site " + this + " does not exist: the model has rotary position embeddings, "
                    + "not learned ones (the token embedding is hook_embed)");
        }
        if (!kind.global() && layer >= config.numLayers()) {
            throw new IpgException("site " + this + " does not exist: the model has " + config.numLayers()
                    + " layers (0.." + (config.numLayers() - 1) + ")");
        }
        return this;
    }

    @Override
    public String toString() {
        return kind.nameAt(Integer.toString(layer));
    }
}
