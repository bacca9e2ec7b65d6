package dev.ipg.core.tokenize;

import dev.ipg.core.IpgException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Hugging Face chat template (the Jinja {@code chat_template} of {@code tokenizer_config.json})
 * that turns a conversation into the prompt text the model was trained on.
 *
 * <p>Rendering follows {@code transformers}' {@code apply_chat_template(tokenize=False)}: the
 * template sees {@code messages} (a list of {@code {role, content}} dicts), {@code
 * add_generation_prompt}, the tokenizer's special tokens that are set ({@code bos_token}, {@code
 * eos_token}, {@code pad_token}, {@code unk_token}), and any extra keyword arguments such as Qwen3's
 * {@code enable_thinking} or a {@code tools} list; anything not given is undefined. The Jinja
 * dialect is jinja2's with {@code trim_blocks} and {@code lstrip_blocks}; see {@link
 * JinjaEnvironment} for how Jinjava is brought to it.
 */
public final class ChatTemplate {

    private final String source;
    private final String origin;
    private final Map<String, String> specialTokens;
    private final JinjaEnvironment env = new JinjaEnvironment();

    ChatTemplate(String source, String origin, Map<String, String> specialTokens) {
        this.source = Objects.requireNonNull(source, "source");
        this.origin = origin;
        this.specialTokens = Map.copyOf(specialTokens);
    }

    /**
     * A template from its Jinja text, for example a user-supplied {@code .jinja} file.
     *
     * @param origin where the template came from, used in error messages (a file name)
     * @param specialTokens variables such as {@code eos_token -> "<|im_end|>"}
     */
    public static ChatTemplate of(String source, String origin, Map<String, String> specialTokens) {
        return new ChatTemplate(source, origin, specialTokens);
    }

    /** The Jinja source of the template. */
    public String source() {
        return source;
    }

    /** Renders the conversation with no extra variables. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders the conversation into prompt text.
     *
     * @param addGenerationPrompt append the header that starts the assistant's reply
     * @param extra further template variables ({@code enable_thinking -> false}, {@code tools ->
     *     List<Map>}); strings, numbers, booleans, lists and maps of those
     * @throws IpgException if the template fails or calls {@code raise_exception} (for example
     *     because the roles do not alternate the way the model requires)
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        if (extra.containsKey("messages") || extra.containsKey("add_generation_prompt")) {
            throw new IllegalArgumentException("extra variables may not redefine messages or add_generation_prompt");
        }
        List<Map<String, Object>> turns = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> turn = new LinkedHashMap<>();
            turn.put("role", m.role());
            turn.put("content", m.content());
            turns.add(turn);
        }
        Map<String, Object> bindings = new HashMap<>(specialTokens);
        bindings.putAll(extra);
        bindings.put("messages", turns);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        try {
            return env.render(source, bindings);
        } catch (JinjaEnvironment.TemplateFailure e) {
            throw new IpgException(e.raised
                    ? origin + ": the chat template rejected the conversation: " + e.getMessage()
                    : origin + ": chat template failed: " + e.getMessage());
        }
    }
}
