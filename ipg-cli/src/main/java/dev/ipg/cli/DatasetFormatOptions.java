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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How dataset problems are read and turned into prompts (commands that run over a dataset). */
final class DatasetFormatOptions {

    @Option(names = "--field", paramLabel = "MAP", description = "Field mapping, e.g. question=problem,answer=answer,id=unique_id.")
    String field;

    /** The prompt of a question without a template: the question itself. */
    static final String TEMPLATE = "{question}";

    @Option(names = "--template", paramLabel = "TEXT", description = "Prompt text with a {question} placeholder (default: " + TEMPLATE + "); "
            + "not with --chat, where the model's chat template builds the prompt.")
    String template;

    @Mixin
    ChatOptions chat;

    PromptFormat format() {
        chat.check();
        if (chat.chat && template != null) {
            throw new IpgException("--template and --chat exclude each other: with --chat the model's chat template builds the "
                    + "prompt; put the wording into the question (or --system) instead");
        }
        return new PromptFormat(template == null ? TEMPLATE : template, chat.chat, chat.system, chat.noThinking ? Boolean.FALSE : null);
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
