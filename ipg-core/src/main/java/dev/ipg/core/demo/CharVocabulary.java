package dev.ipg.core.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The demo model's character-level vocabulary as real Hugging Face tokenizer files.
 *
 * <p>Ids: 0 {@code <|endoftext|>}, 1 {@code <|im_start|>}, 2 {@code <|im_end|>} (added special
 * tokens), 3 newline, then the 95 printable ASCII characters from space (4) to {@code ~} (98).
 * {@code tokenizer.json} holds a BPE model with these single characters as its vocabulary and no
 * merges, no normalizer and no pre-tokenizer, so every character is its own token, and a
 * {@code Fuse} decoder that concatenates tokens back into the text. Characters outside the
 * vocabulary are dropped by the tokenizer. {@code tokenizer_config.json} carries a ChatML chat
 * template.
 */
public final class CharVocabulary {

    /** Special tokens, ids 0, 1, 2. */
    public static final List<String> SPECIAL = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");

    public static final int END_OF_TEXT = 0;
    public static final int IM_START = 1;
    public static final int IM_END = 2;

    /** The characters, in id order from {@link #SPECIAL}{@code .size()}: newline then ASCII 32..126. */
    public static final String CHARACTERS = characters();

    /** ChatML: {@code <|im_start|>role\ncontent<|im_end|>\n} per message, then the assistant header. */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}"
            + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
            + "{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private CharVocabulary() {
    }

    private static String characters() {
        StringBuilder sb = new StringBuilder("\n");
        for (char c = 32; c <= 126; c++) {
            sb.append(c);
        }
        return sb.toString();
    }

    /** Number of ids (specials and characters). */
    public static int size() {
        return SPECIAL.size() + CHARACTERS.length();
    }

    /** The id of a vocabulary character, or -1. */
    public static int id(char c) {
        int i = CHARACTERS.indexOf(c);
        return i < 0 ? -1 : SPECIAL.size() + i;
    }

    /** The text of {@code tokenizer.json}. */
    public static String tokenizerJson() {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIAL.size(); i++) {
            ObjectNode t = added.addObject();
            t.put("id", i);
            t.put("content", SPECIAL.get(i));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < SPECIAL.size(); i++) {
            vocab.put(SPECIAL.get(i), i);
        }
        for (int i = 0; i < CHARACTERS.length(); i++) {
            vocab.put(String.valueOf(CHARACTERS.charAt(i)), SPECIAL.size() + i);
        }
        model.putArray("merges");
        return pretty(om, root);
    }

    /** The text of {@code tokenizer_config.json}, with the chat template and {@code model_max_length}. */
    public static String tokenizerConfigJson(int maxLength) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        ObjectNode dec = root.putObject("added_tokens_decoder");
        for (int i = 0; i < SPECIAL.size(); i++) {
            ObjectNode t = dec.putObject(Integer.toString(i));
            t.put("content", SPECIAL.get(i));
            t.put("lstrip", false);
            t.put("normalized", false);
            t.put("rstrip", false);
            t.put("single_word", false);
            t.put("special", true);
        }
        ArrayNode extra = root.putArray("additional_special_tokens");
        extra.add(SPECIAL.get(IM_START));
        extra.add(SPECIAL.get(IM_END));
        root.putNull("bos_token");
        root.put("eos_token", SPECIAL.get(IM_END));
        root.put("pad_token", SPECIAL.get(END_OF_TEXT));
        root.putNull("unk_token");
        root.put("chat_template", CHAT_TEMPLATE);
        root.put("clean_up_tokenization_spaces", false);
        root.put("model_max_length", maxLength);
        root.put("tokenizer_class", "PreTrainedTokenizerFast");
        return pretty(om, root);
    }

    private static String pretty(ObjectMapper om, ObjectNode n) {
        try {
            return om.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
