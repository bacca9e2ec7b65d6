package dev.ipg.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.RegularFiles;
import dev.ipg.core.io.Text;
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

    /** Largest width, vocabulary or MLP size accepted from config.json (keeps every product of sizes in range). */
    static final int MAX_SIZE = 1 << 24;
    /** Largest number of layers or heads accepted from config.json. */
    static final int MAX_COUNT = 1 << 16;

    /** Reads {@code config.json} from a model directory. */
    public static ModelConfig load(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        RegularFiles.require(file);
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new IpgException(modelDir + " has no config.json (is it a Hugging Face model directory?)");
        } catch (IOException e) {
            throw new IpgException(file + " is not valid JSON: " + oneLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new IpgException(file + " is not a JSON object");
        }
        return fromJson(root, file.toString());
    }

    /** Builds a config from the parsed {@code config.json}. */
    public static ModelConfig fromJson(JsonNode c) {
        return fromJson(c, "config.json");
    }

    /**
     * Builds a config from the parsed {@code config.json}; {@code where} names the file in
     * messages. Every field read is checked against its domain (integers are integers, sizes
     * positive and bounded, epsilons finite and non-negative, rope_theta finite and positive).
     */
    public static ModelConfig fromJson(JsonNode c, String where) {
        Fields f = new Fields(c, where);
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
            throw new IpgException(where + ": names no architecture (neither 'architectures' nor 'model_type')");
        }
        Family family = Family.of(arch);
        if (family == Family.GPT2) {
            int d = f.size("n_embd", MAX_SIZE);
            int heads = f.size("n_head", MAX_COUNT);
            if (d % heads != 0) {
                throw new IpgException(where + ": n_embd " + d + " is not a multiple of n_head " + heads);
            }
            int ff = f.optionalSize("n_inner", 4 * d, MAX_SIZE);
            int vocab = f.size("vocab_size", MAX_SIZE);
            return new ModelConfig(family, d, ff, f.size("n_layer", MAX_COUNT), heads, heads, d / heads,
                    vocab, f.size("n_positions", Integer.MAX_VALUE), NormType.LAYER,
                    f.epsilon("layer_norm_epsilon", 1e-5), f.activation("activation_function", "gelu_new"),
                    false, PositionType.LEARNED, null, true, true, true, false, true, 0,
                    f.tokenId("bos_token_id", vocab), f.tokenIds("eos_token_id", vocab), 0);
        }
        int d = f.size("hidden_size", MAX_SIZE);
        int heads = f.size("num_attention_heads", MAX_COUNT);
        int kv = f.optionalSize("num_key_value_heads", heads, MAX_COUNT);
        if (kv > heads || heads % kv != 0) {
            throw new IpgException(where + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kv);
        }
        // Qwen3Config defaults head_dim to 128; the others to hidden / heads.
        boolean explicitHeadDim = c.hasNonNull("head_dim");
        if (!explicitHeadDim && family != Family.QWEN3 && d % heads != 0) {
            throw new IpgException(where + ": hidden_size " + d + " is not a multiple of num_attention_heads " + heads
                    + " and no head_dim is given");
        }
        int headDim = f.optionalSize("head_dim", family == Family.QWEN3 ? 128 : d / heads, MAX_COUNT);
        if ((long) heads * headDim > MAX_SIZE) {
            throw new IpgException(where + ": num_attention_heads x head_dim = " + ((long) heads * headDim)
                    + " is larger than " + MAX_SIZE);
        }
        boolean attnBias = f.bool("attention_bias", family == Family.QWEN2);
        boolean qkvBias = family == Family.QWEN2 || attnBias;
        boolean oBias = family != Family.QWEN2 && attnBias;
        int window = 0;
        boolean useSw = family == Family.MISTRAL || f.bool("use_sliding_window", false);
        if (useSw && c.hasNonNull("sliding_window")) {
            window = f.count("sliding_window", 0, Integer.MAX_VALUE);
        }
        int vocab = f.size("vocab_size", MAX_SIZE);
        int ff = f.size("intermediate_size", MAX_SIZE);
        int layers = f.size("num_hidden_layers", MAX_COUNT);
        int positions = f.optionalSize("max_position_embeddings", 2048, Integer.MAX_VALUE);
        float eps = f.epsilon("rms_norm_eps", 1e-6);
        Activation act = f.activation("hidden_act", "silu");
        Rope rope = rope(f);
        boolean mlpBias = f.bool("mlp_bias", false);
        boolean tied = f.bool("tie_word_embeddings", false);
        int bos = f.tokenId("bos_token_id", vocab);
        List<Integer> eos = f.tokenIds("eos_token_id", vocab);
        int labels = Family.classifierBase(arch) == null ? 0 : numLabels(f);
        if (headDim % 2 != 0) {
            throw new IpgException(where + ": head_dim " + headDim + " must be even for rotary embeddings");
        }
        return new ModelConfig(family, d, ff, layers, heads, kv, headDim, vocab, positions, NormType.RMS, eps, act, true,
                PositionType.ROPE, rope, qkvBias, oBias, mlpBias, family == Family.QWEN3, tied, window, bos, eos, labels);
    }

    /** num_labels, or the size of id2label, or 2 (the transformers default). */
    private static int numLabels(Fields f) {
        if (f.c.hasNonNull("num_labels")) {
            return f.size("num_labels", MAX_SIZE);
        }
        if (f.c.has("id2label") && f.c.get("id2label").isObject() && !f.c.get("id2label").isEmpty()) {
            return f.c.get("id2label").size();
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

    private static Rope rope(Fields c) {
        double theta = c.positive("rope_theta", 10000.0);
        JsonNode s = c.c.get("rope_scaling");
        if (s == null || s.isNull()) {
            return new Rope(theta, "default", 1, 1, 1, 0);
        }
        if (!s.isObject()) {
            throw new IpgException(c.where + ": field 'rope_scaling' is " + describe(s) + ", not an object");
        }
        Fields r = new Fields(s, c.where, "rope_scaling.");
        String type = s.hasNonNull("rope_type") ? r.str("rope_type", "default") : r.str("type", "default");
        return switch (type) {
            case "default" -> new Rope(theta, "default", 1, 1, 1, 0);
            case "linear" -> new Rope(theta, "linear", r.positive("factor", 1), 1, 1, 0);
            case "llama3" -> {
                double low = r.positive("low_freq_factor", 1);
                double high = r.positive("high_freq_factor", 4);
                if (!(high > low)) {
                    throw new IpgException(c.where + ": rope_scaling.high_freq_factor " + high
                            + " must be larger than rope_scaling.low_freq_factor " + low);
                }
                yield new Rope(theta, "llama3", r.positive("factor", 8), low, high,
                        r.optionalSize("original_max_position_embeddings", 8192, Integer.MAX_VALUE));
            }
            default -> throw new IpgException(c.where + ": unsupported rope_scaling type '" + type
                    + "' (ipg supports default, linear and llama3)");
        };
    }

    /** A JSON value for messages: numbers and short texts as written, otherwise their kind. */
    private static String describe(JsonNode v) {
        if (v.isNumber() || v.isBoolean()) {
            return v.asText();
        }
        if (v.isTextual()) {
            String t = v.textValue();
            return "the string \"" + Text.printable(t) + "\"";
        }
        return switch (v.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /** The fields of one JSON object, read with their domains checked; messages name {@code where} and the key. */
    private record Fields(JsonNode c, String where, String prefix) {

        Fields(JsonNode c, String where) {
            this(c, where, "");
        }

        private IpgException bad(String key, JsonNode v, String want) {
            return new IpgException(where + ": field '" + prefix + key + "' is " + describe(v) + ", " + want);
        }

        /** The value when present and not null, else null. */
        private JsonNode get(String key) {
            JsonNode v = c.get(key);
            return v == null || v.isNull() ? null : v;
        }

        /** An integer value (integral JSON numbers, including 128.0), or an error naming what it is. */
        private long integral(String key, JsonNode v) {
            if (v.isIntegralNumber()) {
                if (!v.canConvertToLong()) {
                    throw bad(key, v, "far too large");
                }
                return v.longValue();
            }
            if (v.isFloatingPointNumber()) {
                double x = v.doubleValue();
                if (Double.isFinite(x) && x == Math.rint(x) && Math.abs(x) < 0x1p62) {
                    return (long) x;
                }
            }
            throw bad(key, v, "not an integer");
        }

        /** An integer in [min, max]. */
        int count(String key, long min, long max) {
            JsonNode v = get(key);
            if (v == null) {
                throw new IpgException(where + ": lacks integer field '" + prefix + key + "'");
            }
            long x = integral(key, v);
            if (x < min || x > max) {
                throw bad(key, v, max == Integer.MAX_VALUE || max == Long.MAX_VALUE
                        ? "not an integer >= " + min : "outside [" + min + ", " + max + "]");
            }
            return (int) x;
        }

        /** A required size in [1, max]. */
        int size(String key, int max) {
            return count(key, 1, max);
        }

        /** An optional size in [1, max]; absent or null gives {@code dflt}. */
        int optionalSize(String key, int dflt, int max) {
            return get(key) == null ? dflt : count(key, 1, max);
        }

        /** A norm epsilon: finite, >= 0, and finite as a float. */
        float epsilon(String key, double dflt) {
            JsonNode v = get(key);
            if (v == null) {
                return (float) dflt;
            }
            if (!v.isNumber() || !Double.isFinite(v.doubleValue()) || v.doubleValue() < 0
                    || !Float.isFinite((float) v.doubleValue())) {
                throw bad(key, v, "not a finite number >= 0");
            }
            return (float) v.doubleValue();
        }

        /** A finite number > 0. */
        double positive(String key, double dflt) {
            JsonNode v = get(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isNumber() || !Double.isFinite(v.doubleValue()) || !(v.doubleValue() > 0)) {
                throw bad(key, v, "not a finite number > 0");
            }
            return v.doubleValue();
        }

        boolean bool(String key, boolean dflt) {
            JsonNode v = get(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isBoolean()) {
                throw bad(key, v, "not true or false");
            }
            return v.booleanValue();
        }

        String str(String key, String dflt) {
            JsonNode v = get(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isTextual()) {
                throw bad(key, v, "not a string");
            }
            return v.textValue();
        }

        /** A supported activation name. */
        Activation activation(String key, String dflt) {
            String name = str(key, dflt);
            try {
                return Activation.fromHf(name);
            } catch (IpgException e) {
                throw bad(key, c.get(key), "not an activation ipg supports (silu, swish, gelu, gelu_new, "
                        + "gelu_pytorch_tanh, gelu_fast, relu)");
            }
        }

        /** A token id in [0, vocab), or -1 when absent or null. */
        int tokenId(String key, int vocab) {
            JsonNode v = get(key);
            return v == null ? -1 : id(key, v, vocab);
        }

        private int id(String key, JsonNode v, int vocab) {
            long x = integral(key, v);
            if (x < 0 || x >= vocab) {
                throw bad(key, v, "outside the vocabulary [0, " + vocab + ")");
            }
            return (int) x;
        }

        /** One id or an array of ids, each in [0, vocab); absent or null gives none. */
        List<Integer> tokenIds(String key, int vocab) {
            JsonNode v = get(key);
            List<Integer> out = new ArrayList<>();
            if (v == null) {
                return out;
            }
            if (v.isArray()) {
                for (JsonNode x : v) {
                    if (!x.isNull()) {
                        out.add(id(key, x, vocab));
                    }
                }
            } else {
                out.add(id(key, v, vocab));
            }
            return out;
        }
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
