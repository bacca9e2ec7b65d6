package dev.ipg.cli;

import dev.ipg.core.IpgException;
import picocli.CommandLine.Option;

/** {@code --chat}, {@code --system} and {@code --no-thinking}: the model's chat template around a prompt (or a dataset's questions). */
final class ChatOptions {

    @Option(names = "--chat", description = "Wrap the prompt (a dataset's question) in the model's chat template (tokenizer_config.json) "
            + "as a user message, with the assistant turn opened.")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message for --chat.")
    String system;

    @Option(names = "--no-thinking", description = "With --chat: enable_thinking=false, the template's empty think block (Qwen3; "
            + "refused for templates without the switch).")
    boolean noThinking;

    /** Refuses --system and --no-thinking without --chat. */
    void check() {
        if (!chat) {
            if (noThinking) {
                throw new IpgException("--no-thinking needs --chat (it is a switch of the chat template)");
            }
            if (system != null) {
                throw new IpgException("--system needs --chat");
            }
        }
    }
}
