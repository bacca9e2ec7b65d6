package dev.ipg.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.IpgException;
import dev.ipg.core.nn.Activation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the forward pass needs to know about a model, read from a Hugging Face
 * {@code config.json}. One transformer class runs every family from this record.
 *
 * @param family            checkpoint family (tensor names and flag defaults)
 * @param hiddenSize        d, width of the residual stream
 * @param intermediateSize  width of the MLP hidden layer
 * @param numLayers         number of transformer blocks
 * @param numHeads          query heads
 * @param numKvHeads        key/value heads (grouped-query attention when fewer than numHeads)
 * @param headDim           width of one head (Qwen3 sets it independently of hiddenSize)
 * @param vocabSize         rows of the embedding and the LM head
 * @param maxPositions      context length ({@code max_position_embeddings} or {@code n_positions})
 * @param norm              RMSNorm or LayerNorm
 * @param normEps           epsilon of every norm
 * @param activation        MLP activation
 * @param gatedMlp          SwiGLU-style act(gate) * up (true) or act(fc) (false)
 * @param positions         rotary or learned absolute positions
 * @param rope              rotary embedding parameters, or null with learned positions
 * @param qkvBias           q, k, v projections have biases
 * @param oBias             output projection has a bias
 * @param mlpBias           MLP projections have biases
 * @param qkNorm            per-head RMSNorm of queries and keys before RoPE (Qwen3)
 * @param tieEmbeddings     the LM head is the token embedding
 * @param slidingWindow     attention window in tokens, or 0 for full causal attention
 * @param bosTokenId        beginning-of-sequence id from config.json, or -1
 * @param eosTokenIds       end-of-sequence ids from config.json (may be empty)
 * @param numLabels         outputs of a sequence-classification head ({@code score.weight}), or 0 for a causal LM
 */
public record ModelConfig(
        Family family,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        NormType norm,
        float normEps,
        Activation activation,
        boolean gatedMlp,
        PositionType positions,
        Rope rope,
        boolean qkvBias,
        boolean oBias,
        boolean mlpBias,
        boolean qkNorm,
        boolean tieEmbeddings,
        int slidingWindow,
        int bosTokenId,
        List<Integer> eosTokenIds,
        int numLabels) {

    public enum NormType { RMS, LAYER }

    public enum PositionType { ROPE, LEARNED }

    /**
     * Rotary embedding: {@code inv_freq[i] = theta^(-2i/rotaryDim)}, optionally rescaled by the
     * {@code llama3} rule (Llama 3.1/3.2).
     */
    public record Rope(double theta, String scalingType, double factor, double lowFreqFactor,
                       double highFreqFactor, int originalMaxPositions) {

        /** The per-pair inverse frequencies for a head of width {@code headDim}. */
        public double[] inverseFrequencies(int headDim) {
            int half = headDim / 2;
            double[] inv = new double[half];
            for (int i = 0; i < half; i++) {
                inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
            }
            if ("llama3".equals(scalingType)) {
                double lowWavelen = originalMaxPositions / lowFreqFactor;
                double highWavelen = originalMaxPositions / highFreqFactor;
                for (int i = 0; i < half; i++) {
                    double wavelen = 2 * Math.PI / inv[i];
                    if (wavelen > lowWavelen) {
                        inv[i] = inv[i] / factor;
                    } else if (wavelen >= highWavelen) {
                        double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                        inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
                    }
                }
            } else if ("linear".equals(scalingType)) {
                for (int i = 0; i < half; i++) {
                    inv[i] /= factor;
                }
            }
            return inv;
        }
    }

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        if (hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0 || numKvHeads <= 0 || headDim <= 0
                || vocabSize <= 0 || intermediateSize <= 0) {
            throw new IpgException("config.json has a non-positive size: hidden " + hiddenSize + ", layers " + numLayers
                    + ", heads " + numHeads + ", kv heads " + numKvHeads + ", head_dim " + headDim
                    + ", vocab " + vocabSize + ", intermediate " + intermediateSize);
        }
        if (numHeads % numKvHeads != 0) {
            throw new IpgException("config.json: num_attention_heads " + numHeads
                    + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
        if (positions == PositionType.ROPE && headDim % 2 != 0) {
            throw new IpgException("config.json: head_dim " + headDim + " must be even for rotary embeddings");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code config.json} from a model directory. */
    public static ModelConfig load(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new IpgException(modelDir + " has no config.json (is it a Hugging Face model directory?)");
        } catch (IOException e) {
            throw new IpgException("config.json in " + modelDir + " is not valid JSON: " + oneLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new IpgException("config.json in " + modelDir + " is not a JSON object");
        }
        return fromJson(root);
    }

    /** Builds a config from the parsed {@code config.json}. */
    public static ModelConfig fromJson(JsonNode c) {
        JsonNode archs = c.get("architectures");
        String arch;
        if (archs != null && archs.isArray() && !archs.isEmpty()) {
            arch = archs.get(0).asText();
        } else if (c.has("model_type")) {
            arch = switch (c.get("model_type").asText()) {
                case "llama" -> "LlamaForCausalLM";
                case "mistral" -> "MistralForCausalLM";
                case "qwen2" -> "Qwen2ForCausalLM";
                case "qwen3" -> "Qwen3ForCausalLM";
                case "gpt2" -> "GPT2LMHeadModel";
                default -> c.get("model_type").asText();
            };
        } else {
            throw new IpgException("config.json names no architecture (neither 'architectures' nor 'model_type')");
        }
        Family family = Family.of(arch);
        if (family == Family.GPT2) {
            int d = req(c, "n_embd");
            int heads = req(c, "n_head");
            JsonNode inner = c.get("n_inner");
            int ff = inner == null || inner.isNull() ? 4 * d : inner.asInt();
            return new ModelConfig(family, d, ff, req(c, "n_layer"), heads, heads, d / heads,
                    req(c, "vocab_size"), req(c, "n_positions"), NormType.LAYER,
                    (float) dbl(c, "layer_norm_epsilon", 1e-5), Activation.fromHf(str(c, "activation_function", "gelu_new")),
                    false, PositionType.LEARNED, null, true, true, true, false, true, 0,
                    integer(c, "bos_token_id", -1), ids(c.get("eos_token_id")), 0);
        }
        int d = req(c, "hidden_size");
        int heads = req(c, "num_attention_heads");
        int kv = c.has("num_key_value_heads") && !c.get("num_key_value_heads").isNull() ? c.get("num_key_value_heads").asInt() : heads;
        // Qwen3Config defaults head_dim to 128; the others to hidden / heads.
        int headDim = c.has("head_dim") && !c.get("head_dim").isNull() ? c.get("head_dim").asInt()
                : family == Family.QWEN3 ? 128 : d / heads;
        boolean attnBias = bool(c, "attention_bias", family == Family.QWEN2);
        boolean qkvBias = family == Family.QWEN2 || attnBias;
        boolean oBias = family != Family.QWEN2 && attnBias;
        int window = 0;
        JsonNode sw = c.get("sliding_window");
        boolean useSw = family == Family.MISTRAL || bool(c, "use_sliding_window", false);
        if (useSw && sw != null && sw.isNumber()) {
            window = sw.asInt();
        }
        return new ModelConfig(family, d, req(c, "intermediate_size"), req(c, "num_hidden_layers"), heads, kv, headDim,
                req(c, "vocab_size"), integer(c, "max_position_embeddings", 2048), NormType.RMS,
                (float) dbl(c, "rms_norm_eps", 1e-6), Activation.fromHf(str(c, "hidden_act", "silu")), true,
                PositionType.ROPE, rope(c), qkvBias, oBias, bool(c, "mlp_bias", false), family == Family.QWEN3,
                bool(c, "tie_word_embeddings", false), window, integer(c, "bos_token_id", -1), ids(c.get("eos_token_id")),
                Family.classifierBase(arch) == null ? 0 : numLabels(c));
    }

    /** num_labels, or the size of id2label, or 2 (the transformers default). */
    private static int numLabels(JsonNode c) {
        if (c.has("num_labels") && c.get("num_labels").canConvertToInt()) {
            return c.get("num_labels").asInt();
        }
        if (c.has("id2label") && c.get("id2label").isObject()) {
            return c.get("id2label").size();
        }
        return 2;
    }

    /**
     * The Hugging Face architecture this config describes: the family's causal LM, or its
     * {@code ...ForSequenceClassification} (reward model) when it has a classification head.
     */
    public String architecture() {
        return isClassifier() ? family.architecture().replace("ForCausalLM", "ForSequenceClassification") : family.architecture();
    }

    /** Whether this is a sequence-classification (reward) model: its head is {@code score.weight}. */
    public boolean isClassifier() {
        return numLabels > 0;
    }

    private static Rope rope(JsonNode c) {
        double theta = dbl(c, "rope_theta", 10000.0);
        JsonNode s = c.get("rope_scaling");
        if (s == null || s.isNull()) {
            return new Rope(theta, "default", 1, 1, 1, 0);
        }
        String type = s.has("rope_type") ? s.get("rope_type").asText() : str(s, "type", "default");
        return switch (type) {
            case "default" -> new Rope(theta, "default", 1, 1, 1, 0);
            case "linear" -> new Rope(theta, "linear", dbl(s, "factor", 1), 1, 1, 0);
            case "llama3" -> new Rope(theta, "llama3", dbl(s, "factor", 8), dbl(s, "low_freq_factor", 1),
                    dbl(s, "high_freq_factor", 4), integer(s, "original_max_position_embeddings", 8192));
            default -> throw new IpgException("config.json: unsupported rope_scaling type '" + type
                    + "' (ipg supports default, linear and llama3)");
        };
    }

    private static int req(JsonNode c, String key) {
        JsonNode v = c.get(key);
        if (v == null || !v.canConvertToInt()) {
            throw new IpgException("config.json lacks integer field '" + key + "'");
        }
        return v.asInt();
    }

    private static int integer(JsonNode c, String key, int dflt) {
        JsonNode v = c.get(key);
        return v == null || !v.canConvertToInt() ? dflt : v.asInt();
    }

    private static double dbl(JsonNode c, String key, double dflt) {
        JsonNode v = c.get(key);
        return v == null || !v.isNumber() ? dflt : v.asDouble();
    }

    private static boolean bool(JsonNode c, String key, boolean dflt) {
        JsonNode v = c.get(key);
        return v == null || !v.isBoolean() ? dflt : v.asBoolean();
    }

    private static String str(JsonNode c, String key, String dflt) {
        JsonNode v = c.get(key);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static List<Integer> ids(JsonNode v) {
        List<Integer> out = new ArrayList<>();
        if (v != null && v.isArray()) {
            v.forEach(x -> out.add(x.asInt()));
        } else if (v != null && v.canConvertToInt()) {
            out.add(v.asInt());
        }
        return out;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }

    /** Total number of parameters implied by this config (excluding a tied LM head). */
    public long parameterCount() {
        long d = hiddenSize;
        long q = (long) numHeads * headDim;
        long kvw = (long) numKvHeads * headDim;
        long perLayer = d * q + 2 * d * kvw + q * d + (gatedMlp ? 3 : 2) * d * intermediateSize;
        perLayer += (norm == NormType.LAYER ? 4 : 2) * d;
        if (qkvBias) {
            perLayer += q + 2 * kvw;
        }
        if (oBias) {
            perLayer += d;
        }
        if (mlpBias) {
            perLayer += (gatedMlp ? 2 : 1) * intermediateSize + d;
        }
        if (qkNorm) {
            perLayer += 2L * headDim;
        }
        long total = numLayers * perLayer + (long) vocabSize * d + (norm == NormType.LAYER ? 2 : 1) * d;
        if (!tieEmbeddings) {
            total += (long) vocabSize * d;
        }
        if (positions == PositionType.LEARNED) {
            total += (long) maxPositions * d;
        }
        return total;
    }
}
