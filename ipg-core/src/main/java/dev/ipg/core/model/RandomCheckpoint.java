package dev.ipg.core.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a random-weight checkpoint of any supported family in Hugging Face layout
 * ({@code config.json} + {@code model.safetensors}), with the tensor names and shapes the real
 * models use. Weights are uniform with unit output variance, norms 1 + noise, biases small noise,
 * so every nonlinearity is exercised.
 */
public final class RandomCheckpoint {

    /**
     * Shape of the model to write.
     *
     * @param family        which architecture
     * @param hidden        hidden size
     * @param layers        number of blocks
     * @param heads         query heads
     * @param kvHeads       key/value heads
     * @param headDim       head width (0: hidden / heads)
     * @param intermediate  MLP width
     * @param vocab         vocabulary size
     * @param maxPositions  context length
     * @param dtype         storage type of the weights
     * @param tied          tie the LM head to the embedding
     * @param llama3Rope    add Llama 3.1-style rope_scaling (Llama only)
     * @param gpt2Prefix    GPT-2 tensor names carry the {@code transformer.} prefix
     */
    public record Spec(Family family, int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate,
                       int vocab, int maxPositions, DType dtype, boolean tied, boolean llama3Rope, boolean gpt2Prefix) {

        /** A tiny model of {@code family} suitable for exact comparisons. */
        public static Spec tiny(Family family) {
            return switch (family) {
                case LLAMA -> new Spec(family, 64, 2, 4, 2, 0, 96, 97, 128, DType.F32, false, true, false);
                case MISTRAL -> new Spec(family, 48, 2, 6, 2, 0, 80, 101, 128, DType.F32, true, false, false);
                case QWEN2 -> new Spec(family, 64, 2, 4, 2, 0, 112, 97, 128, DType.F32, false, false, false);
                case QWEN3 -> new Spec(family, 64, 2, 4, 2, 24, 96, 97, 128, DType.F32, true, false, false);
                case GPT2 -> new Spec(family, 64, 2, 4, 4, 0, 256, 97, 128, DType.F32, true, false, true);
            };
        }

        public Spec withDtype(DType d) {
            return new Spec(family, hidden, layers, heads, kvHeads, headDim, intermediate, vocab, maxPositions, d, tied,
                    llama3Rope, gpt2Prefix);
        }

        public Spec withGpt2Prefix(boolean p) {
            return new Spec(family, hidden, layers, heads, kvHeads, headDim, intermediate, vocab, maxPositions, dtype, tied,
                    llama3Rope, p);
        }

        int hd() {
            return headDim > 0 ? headDim : hidden / heads;
        }
    }

    private RandomCheckpoint() {
    }

    /** Writes the checkpoint into {@code dir} (created if needed) and returns {@code dir}. */
    public static Path write(Path dir, Spec spec, long seed) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), config(spec));
            SplittableRandom rng = new SplittableRandom(seed);
            Map<String, Tensor> t = spec.family() == Family.GPT2 ? gpt2(spec, rng) : llamaLike(spec, rng);
            SafetensorsWriter w = new SafetensorsWriter();
            for (var e : t.entrySet()) {
                w.add(e.getKey(), e.getValue().values(), e.getValue().shape(), spec.dtype());
            }
            w.write(dir.resolve("model.safetensors"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A named tensor's values and shape. */
    public record Tensor(float[] values, long[] shape) {
    }

    private static Map<String, Tensor> llamaLike(Spec s, SplittableRandom rng) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        int d = s.hidden();
        int hd = s.hd();
        int qw = s.heads() * hd;
        int kvw = s.kvHeads() * hd;
        int ff = s.intermediate();
        boolean qkvBias = s.family() == Family.QWEN2;
        t.put(HfNames.EMBED, uniform(rng, 1.0, s.vocab(), d));
        for (int i = 0; i < s.layers(); i++) {
            HfNames.Layer p = HfNames.layer(i);
            t.put(p.inputNorm(), normWeight(rng, d));
            t.put(p.q("weight"), linear(rng, qw, d));
            t.put(p.k("weight"), linear(rng, kvw, d));
            t.put(p.v("weight"), linear(rng, kvw, d));
            if (qkvBias) {
                t.put(p.q("bias"), uniform(rng, 0.3, qw));
                t.put(p.k("bias"), uniform(rng, 0.3, kvw));
                t.put(p.v("bias"), uniform(rng, 0.3, kvw));
            }
            t.put(p.o("weight"), linear(rng, d, qw));
            if (s.family() == Family.QWEN3) {
                t.put(p.qNorm(), normWeight(rng, hd));
                t.put(p.kNorm(), normWeight(rng, hd));
            }
            t.put(p.postAttentionNorm(), normWeight(rng, d));
            t.put(p.gate("weight"), linear(rng, ff, d));
            t.put(p.up("weight"), linear(rng, ff, d));
            t.put(p.down("weight"), linear(rng, d, ff));
        }
        t.put(HfNames.FINAL_NORM, normWeight(rng, d));
        if (!s.tied()) {
            t.put(HfNames.LM_HEAD, linear(rng, s.vocab(), d));
        }
        return t;
    }

    private static Map<String, Tensor> gpt2(Spec s, SplittableRandom rng) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        String pre = s.gpt2Prefix() ? "transformer." : "";
        int d = s.hidden();
        int ff = s.intermediate();
        t.put(pre + "wte.weight", uniform(rng, 1.0, s.vocab(), d));
        t.put(pre + "wpe.weight", uniform(rng, 0.5, s.maxPositions(), d));
        for (int i = 0; i < s.layers(); i++) {
            String p = pre + "h." + i + ".";
            t.put(p + "ln_1.weight", normWeight(rng, d));
            t.put(p + "ln_1.bias", uniform(rng, 0.1, d));
            // Conv1D: [in, out]
            t.put(p + "attn.c_attn.weight", uniform(rng, Math.sqrt(3.0 / d), d, 3 * d));
            t.put(p + "attn.c_attn.bias", uniform(rng, 0.3, 3 * d));
            t.put(p + "attn.c_proj.weight", uniform(rng, Math.sqrt(3.0 / d), d, d));
            t.put(p + "attn.c_proj.bias", uniform(rng, 0.1, d));
            t.put(p + "ln_2.weight", normWeight(rng, d));
            t.put(p + "ln_2.bias", uniform(rng, 0.1, d));
            t.put(p + "mlp.c_fc.weight", uniform(rng, Math.sqrt(3.0 / d), d, ff));
            t.put(p + "mlp.c_fc.bias", uniform(rng, 0.3, ff));
            t.put(p + "mlp.c_proj.weight", uniform(rng, Math.sqrt(3.0 / ff), ff, d));
            t.put(p + "mlp.c_proj.bias", uniform(rng, 0.1, d));
        }
        t.put(pre + "ln_f.weight", normWeight(rng, d));
        t.put(pre + "ln_f.bias", uniform(rng, 0.1, d));
        return t;
    }

    private static Tensor linear(SplittableRandom rng, int out, int in) {
        return uniform(rng, Math.sqrt(3.0 / in), out, in);
    }

    private static Tensor normWeight(SplittableRandom rng, int n) {
        Tensor t = uniform(rng, 0.2, n);
        for (int i = 0; i < n; i++) {
            t.values()[i] += 1f;
        }
        return t;
    }

    /** Uniform in [-a, a). */
    private static Tensor uniform(SplittableRandom rng, double a, int... shape) {
        long n = 1;
        long[] sh = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            n *= shape[i];
            sh[i] = shape[i];
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((rng.nextDouble() * 2 - 1) * a);
        }
        return new Tensor(v, sh);
    }

    /** The config.json text for {@code s}, as Hugging Face writes it for that family. */
    public static String config(Spec s) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode c = om.createObjectNode();
        ArrayNode arch = c.putArray("architectures");
        arch.add(s.family().architecture());
        switch (s.family()) {
            case GPT2 -> {
                c.put("model_type", "gpt2");
                c.put("n_embd", s.hidden());
                c.put("n_layer", s.layers());
                c.put("n_head", s.heads());
                c.put("n_positions", s.maxPositions());
                c.put("n_ctx", s.maxPositions());
                c.putNull("n_inner");
                if (s.intermediate() != 4 * s.hidden()) {
                    c.put("n_inner", s.intermediate());
                }
                c.put("vocab_size", s.vocab());
                c.put("activation_function", "gelu_new");
                c.put("layer_norm_epsilon", 1e-5);
                c.put("bos_token_id", 0);
                c.put("eos_token_id", 1);
            }
            default -> {
                c.put("model_type", switch (s.family()) {
                    case LLAMA -> "llama";
                    case MISTRAL -> "mistral";
                    case QWEN2 -> "qwen2";
                    case QWEN3 -> "qwen3";
                    case GPT2 -> throw new AssertionError();
                });
                c.put("hidden_size", s.hidden());
                c.put("intermediate_size", s.intermediate());
                c.put("num_hidden_layers", s.layers());
                c.put("num_attention_heads", s.heads());
                c.put("num_key_value_heads", s.kvHeads());
                c.put("head_dim", s.hd());
                c.put("vocab_size", s.vocab());
                c.put("max_position_embeddings", s.maxPositions());
                c.put("rms_norm_eps", 1e-6);
                c.put("rope_theta", s.family() == Family.LLAMA ? 500000.0 : 10000.0);
                c.put("hidden_act", "silu");
                c.put("tie_word_embeddings", s.tied());
                c.put("bos_token_id", 0);
                c.put("eos_token_id", 1);
                if (s.family() == Family.QWEN2 || s.family() == Family.QWEN3) {
                    c.put("use_sliding_window", false);
                    c.put("sliding_window", 4096);
                }
                if (s.family() == Family.QWEN3) {
                    c.put("attention_bias", false);
                }
                if (s.family() == Family.MISTRAL) {
                    c.putNull("sliding_window");
                }
                if (s.family() == Family.LLAMA && s.llama3Rope()) {
                    ObjectNode rs = c.putObject("rope_scaling");
                    rs.put("rope_type", "llama3");
                    rs.put("factor", 8.0);
                    rs.put("low_freq_factor", 1.0);
                    rs.put("high_freq_factor", 4.0);
                    rs.put("original_max_position_embeddings", 32);
                }
            }
        }
        c.put("torch_dtype", switch (s.dtype()) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
        });
        try {
            return om.writerWithDefaultPrettyPrinter().writeValueAsString(c);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
