package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.tokenize.ChatMessage;
import dev.ipg.core.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How a prompt is given and turned into token ids. */
final class PromptOptions {

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The prompt text.")
    String prompt;

    @Mixin
    ChatOptions chat;

    /** The text the model sees (after the chat template, if any). */
    String render(Tokenizer tok) {
        if (prompt == null) {
            throw new IpgException("--prompt is required");
        }
        chat.check();
        if (!chat.chat) {
            return prompt;
        }
        if (!tok.hasChatTemplate()) {
            throw new IpgException("--chat: the model's tokenizer_config.json has no chat_template");
        }
        List<ChatMessage> msgs = new ArrayList<>();
        if (chat.system != null) {
            msgs.add(new ChatMessage("system", chat.system));
        }
        msgs.add(new ChatMessage("user", prompt));
        Map<String, Object> extra = new HashMap<>();
        if (chat.noThinking) {
            PromptFormat.requireThinkingSwitch(tok);
            extra.put("enable_thinking", false);
        }
        return tok.chatTemplate().render(msgs, true, extra);
    }

    /** Token ids of the prompt: chat-rendered text carries its own special tokens. */
    int[] encode(Tokenizer tok) {
        String text = render(tok);
        int[] ids = tok.encode(text, !chat.chat);
        if (ids.length == 0) {
            throw new IpgException("the prompt encodes to no tokens");
        }
        return ids;
    }
}
