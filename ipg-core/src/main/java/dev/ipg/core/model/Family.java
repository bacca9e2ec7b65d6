package dev.ipg.core.model;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.Text;
import java.util.Arrays;
import java.util.List;

/**
 * The checkpoint families ipg reads. A family fixes only what config.json does not say: the
 * defaults of a few flags and the tensor names. The forward pass is the same code for all.
 */
public enum Family {
    LLAMA("LlamaForCausalLM"),
    MISTRAL("MistralForCausalLM"),
    QWEN2("Qwen2ForCausalLM"),
    QWEN3("Qwen3ForCausalLM"),
    GPT2("GPT2LMHeadModel");

    private final String architecture;

    Family(String architecture) {
        this.architecture = architecture;
    }

    /** The Hugging Face {@code architectures[0]} value. */
    public String architecture() {
        return architecture;
    }

    /** The {@code ...ForSequenceClassification} head of a causal-LM architecture name, if it is one. */
    static String classifierBase(String architecture) {
        return architecture.endsWith("ForSequenceClassification") && !architecture.startsWith("GPT2")
                ? architecture.replace("ForSequenceClassification", "ForCausalLM") : null;
    }

    /**
     * Looks up the family of an {@code architectures} entry; {@code LlamaForSequenceClassification}
     * and the like (reward models) map to their causal-LM family.
     */
    public static Family of(String architecture) {
        String base = classifierBase(architecture);
        String name = base != null ? base : architecture;
        for (Family f : values()) {
            if (f.architecture.equals(name)) {
                return f;
            }
        }
        throw new IpgException("unsupported architecture '" + Text.printable(architecture) + "' in config.json; ipg reads "
                + String.join(", ", supported()) + " (and their ...ForSequenceClassification reward models)");
    }

    /** The architectures ipg reads. */
    public static List<String> supported() {
        return Arrays.stream(values()).map(Family::architecture).toList();
    }
}
