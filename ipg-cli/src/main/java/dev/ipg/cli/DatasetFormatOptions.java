package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.FieldMapping;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.generate.GenerationDefaults;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import picocli.CommandLine.Option;

/** How dataset problems are read and turned into prompts (commands that run over a dataset). */
final class DatasetFormatOptions {

    @Option(names = "--field", paramLabel = "MAP", description = "Field mapping, e.g. question=problem,answer=answer,id=unique_id.")
    String field;

    @Option(names = "--template", paramLabel = "TEXT", description = "Prompt text with a {question} placeholder (default: {question}); "
            + "not with --chat, where the model's chat template builds the prompt.")
    String template;

    @Option(names = "--chat", description = "Use the model's chat template (question as the user message).")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message for --chat.")
    String system;

    @Option(names = "--no-thinking", description = "With --chat: enable_thinking=false, the template's empty think block (Qwen3; refused for templates without the switch).")
    boolean noThinking;

    PromptFormat format() {
        if (noThinking && !chat) {
            throw new IpgException("--no-thinking needs --chat (it is a switch of the chat template)");
        }
        if (chat && template != null) {
            throw new IpgException("--template and --chat exclude each other: with --chat the model's chat template builds the "
                    + "prompt; put the wording into the question (or --system) instead");
        }
        return new PromptFormat(template == null ? "{question}" : template, chat, system, noThinking ? Boolean.FALSE : null);
    }

    Dataset load(Path file) {
        return field == null ? Dataset.load(file) : Dataset.load(file, FieldMapping.parse(field));
    }

    /** End-of-sequence ids: generation_config.json's, else config.json's, plus the tokenizer's eos token. */
    static Set<Integer> eos(Transformer m, Tokenizer tok, Path modelDir) {
        Set<Integer> eos = new HashSet<>(GenerationDefaults.load(modelDir).eosTokenIds());
        if (eos.isEmpty()) {
            eos.addAll(m.config().eosTokenIds());
        }
        tok.eosTokenId().ifPresent(eos::add);
        return eos;
    }
}
