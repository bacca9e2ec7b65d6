package dev.ipg.core.model;

import dev.ipg.core.IpgException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A named hook site, as in TransformerLens: {@code blocks.L.hook_resid_pre},
 * {@code blocks.L.hook_resid_mid}, {@code blocks.L.hook_resid_post}, {@code blocks.L.mlp.hook_post}
 * or {@code blocks.L.attn.hook_z}.
 */
public record Site(int layer, Kind kind) {

    /** Where in block {@code layer} the site sits, in the order the forward pass reaches them. */
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
        RESID_POST("hook_resid_post");

        private final String suffix;

        Kind(String suffix) {
            this.suffix = suffix;
        }

        public String suffix() {
            return suffix;
        }
    }

    private static final Pattern NAME = Pattern.compile("blocks\\.(\\d+)\\.(hook_resid_pre|hook_resid_mid|hook_resid_post|mlp\\.hook_post|attn\\.hook_z)");

    public Site {
        if (layer < 0) {
            throw new IllegalArgumentException("negative layer " + layer);
        }
    }

    /** Parses a TransformerLens-style name; throws {@link IpgException} for anything else. */
    public static Site parse(String name) {
        Matcher m = NAME.matcher(name.strip());
        if (!m.matches()) {
            throw new IpgException("unknown site '" + name + "': expected blocks.L.hook_resid_pre, blocks.L.hook_resid_mid, "
                    + "blocks.L.hook_resid_post, blocks.L.mlp.hook_post or blocks.L.attn.hook_z");
        }
        int layer;
        try {
            layer = Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            throw new IpgException("unknown site '" + name + "': layer number too large");
        }
        for (Kind k : Kind.values()) {
            if (k.suffix.equals(m.group(2))) {
                return new Site(layer, k);
            }
        }
        throw new AssertionError(name);
    }

    /** The number of components of this site in a model with {@code config}. */
    public int width(ModelConfig config) {
        return switch (kind) {
            case RESID_PRE, RESID_MID, RESID_POST -> config.hiddenSize();
            case ATTN_Z -> config.numHeads() * config.headDim();
            case MLP_POST -> config.intermediateSize();
        };
    }

    /** Throws {@link IpgException} if the site does not exist in a model with {@code config}. */
    public Site checkIn(ModelConfig config) {
        if (layer >= config.numLayers()) {
            throw new IpgException("site " + this + " does not exist: the model has " + config.numLayers()
                    + " layers (0.." + (config.numLayers() - 1) + ")");
        }
        return this;
    }

    @Override
    public String toString() {
        return "blocks." + layer + "." + kind.suffix;
    }
}
