package dev.ipg.core.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The demo model's architecture: a Llama (RMSNorm, RoPE, SwiGLU, grouped-query attention, untied
 * LM head) and the {@code config.json} and {@code generation_config.json} written for it.
 *
 * @param hidden       hidden size
 * @param layers       blocks
 * @param heads        query heads
 * @param kvHeads      key/value heads
 * @param intermediate MLP width
 * @param vocab        embedding rows (at least the tokenizer's size; padded to a multiple of 64)
 * @param context      maximum positions
 */
public record DemoModel(int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab, int context) {

    public DemoModel {
        if (hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || intermediate <= 0 || context <= 0
                || hidden % heads != 0 || heads % kvHeads != 0 || (hidden / heads) % 2 != 0) {
            throw new IpgException("inconsistent demo model shape: hidden " + hidden + ", heads " + heads + ", kv heads "
                    + kvHeads + " (hidden must divide by heads into an even head width; heads by kv heads)");
        }
        if (vocab < CharVocabulary.size()) {
            throw new IpgException("vocab " + vocab + " is smaller than the tokenizer's " + CharVocabulary.size() + " ids");
        }
    }

    /** The shipped shape: hidden 128, 4 layers, 4 query and 2 key/value heads, MLP 384, vocab 128, context 256. */
    public static DemoModel standard() {
        return new DemoModel(128, 4, 4, 2, 384, 128, 256);
    }

    public int headDim() {
        return hidden / heads;
    }

    /** The {@code config.json} text, as transformers writes a LlamaConfig. */
    public String configJson(DType dtype) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode c = om.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("head_dim", headDim());
        c.put("vocab_size", vocab);
        c.put("max_position_embeddings", context);
        c.put("hidden_act", "silu");
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.putNull("rope_scaling");
        c.put("attention_bias", false);
        c.put("attention_dropout", 0.0);
        c.put("mlp_bias", false);
        c.put("tie_word_embeddings", false);
        c.put("initializer_range", 0.02);
        c.put("pretraining_tp", 1);
        c.put("use_cache", true);
        c.put("bos_token_id", CharVocabulary.END_OF_TEXT);
        c.put("eos_token_id", CharVocabulary.IM_END);
        c.put("pad_token_id", CharVocabulary.END_OF_TEXT);
        c.put("torch_dtype", switch (dtype) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
        });
        return pretty(om, c);
    }

    /** The parsed config, exactly as a loader reads {@link #configJson}. */
    public ModelConfig config() {
        try {
            return ModelConfig.fromJson(new ObjectMapper().readTree(configJson(DType.F32)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code generation_config.json}: stop at {@code <|im_end|>} or {@code <|endoftext|>}, sample at the given temperature. */
    public static String generationConfigJson(double temperature, double topP) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode g = om.createObjectNode();
        g.put("bos_token_id", CharVocabulary.END_OF_TEXT);
        ArrayNode eos = g.putArray("eos_token_id");
        eos.add(CharVocabulary.IM_END);
        eos.add(CharVocabulary.END_OF_TEXT);
        g.put("pad_token_id", CharVocabulary.END_OF_TEXT);
        g.put("do_sample", true);
        g.put("temperature", temperature);
        g.put("top_p", topP);
        g.put("top_k", 0);
        g.put("max_new_tokens", 160);
        return pretty(om, g);
    }

    static String pretty(ObjectMapper om, ObjectNode n) {
        try {
            return om.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
