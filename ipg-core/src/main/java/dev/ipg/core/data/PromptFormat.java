package dev.ipg.core.data;

import dev.ipg.core.IpgException;
import dev.ipg.core.tokenize.ChatMessage;
import dev.ipg.core.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How a problem becomes the model's prompt: a text template with a {@code {question}}
 * placeholder, or the model's chat template with the question as the user message (and an
 * optional system message), the assistant turn opened.
 *
 * @param template       text with {@code {question}} (ignored with chat)
 * @param chat           use the chat template
 * @param system         system message for chat, or null
 * @param enableThinking value of the template's {@code enable_thinking}, or null to leave it unset
 */
public record PromptFormat(String template, boolean chat, String system, Boolean enableThinking) implements java.io.Serializable {

    public PromptFormat {
        if (!chat && (template == null || !template.contains("{question}"))) {
            throw new IpgException("--template must contain {question}, got '" + template + "'");
        }
        if (!chat && system != null) {
            throw new IpgException("--system needs --chat");
        }
    }

    /** The question as it is. */
    public static PromptFormat plain() {
        return new PromptFormat("{question}", false, null, null);
    }

    /** The text the model sees. */
    public String render(String question, Tokenizer tok) {
        if (!chat) {
            return template.replace("{question}", question);
        }
        if (!tok.hasChatTemplate()) {
            throw new IpgException("--chat: the model's tokenizer_config.json has no chat_template");
        }
        List<ChatMessage> msgs = new ArrayList<>();
        if (system != null) {
            msgs.add(new ChatMessage("system", system));
        }
        msgs.add(new ChatMessage("user", question));
        Map<String, Object> extra = new HashMap<>();
        if (enableThinking != null) {
            requireThinkingSwitch(tok);
            extra.put("enable_thinking", enableThinking);
        }
        return tok.chatTemplate().render(msgs, true, extra);
    }

    /**
     * Refuses {@code --no-thinking} for a chat template without the {@code enable_thinking}
     * switch (Qwen3 has it; the DeepSeek-R1 templates always open a think block), where it would
     * change nothing.
     */
    public static void requireThinkingSwitch(Tokenizer tok) {
        if (!tok.chatTemplate().source().contains("enable_thinking")) {
            throw new IpgException("--no-thinking: the model's chat template has no enable_thinking switch, so thinking cannot be "
                    + "turned off (Qwen3 templates have one)");
        }
    }

    /** Token ids of the prompt; a chat-rendered text carries its own special tokens. */
    public int[] encode(String question, Tokenizer tok) {
        int[] ids = tok.encode(render(question, tok), !chat);
        if (ids.length == 0) {
            throw new IpgException("the prompt for '" + abbreviate(question) + "' encodes to no tokens");
        }
        return ids;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    /** The format as recorded in run configurations ({@code prompt_format}). */
    public com.fasterxml.jackson.databind.node.ObjectNode json() {
        var f = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        f.put("chat", chat);
        f.put("template", chat ? null : template);
        f.put("system", system);
        if (enableThinking != null) {
            f.put("enable_thinking", enableThinking);
        }
        return f;
    }
}
