package dev.ipg.core.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.IpgException;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Hugging Face tokenizer loaded from a model directory: {@code tokenizer.json} (run by the Hugging
 * Face tokenizers library itself, through DJL's binding) and, when present, {@code
 * tokenizer_config.json} for the special tokens and the chat template.
 *
 * <p>Encoding never truncates or pads. Token ids are {@code int}s in {@code [0, vocabSize())}. The
 * instance holds native memory: close it. {@code encode} and {@code decode} may be called from
 * several threads at once.
 */
public final class Tokenizer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer hf;
    private final String[] tokens; // id -> token as written in tokenizer.json (null for unused ids)
    private final Map<String, Integer> ids;
    private final BitSet special; // ids of added tokens marked "special"
    private final OptionalInt bos;
    private final OptionalInt eos;
    private final OptionalInt pad;
    private final boolean cleanUpSpaces;
    private final ChatTemplate chatTemplate; // null if the model has none

    private Tokenizer(HuggingFaceTokenizer hf, Vocabulary vocab, OptionalInt bos, OptionalInt eos, OptionalInt pad,
            boolean cleanUpSpaces, ChatTemplate chatTemplate) {
        this.hf = hf;
        this.tokens = vocab.tokens;
        this.ids = vocab.ids;
        this.special = vocab.special;
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
        this.cleanUpSpaces = cleanUpSpaces;
        this.chatTemplate = chatTemplate;
    }

    /**
     * Loads the tokenizer of the model in {@code modelDir}.
     *
     * @throws IpgException if {@code tokenizer.json} is missing or malformed, or {@code
     *     tokenizer_config.json} (optional) is malformed or names a special token the vocabulary
     *     lacks
     */
    public static Tokenizer load(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new IpgException(modelDir + ": not a directory (expected a model directory with tokenizer.json)");
        }
        Path tokenizerFile = modelDir.resolve("tokenizer.json");
        String tokenizerJson = readText(tokenizerFile, "tokenizer.json is required to tokenize");
        Vocabulary vocab = Vocabulary.parse(tokenizerJson, tokenizerFile, idLimit(modelDir.resolve("config.json")));

        Path configFile = modelDir.resolve("tokenizer_config.json");
        JsonNode config = Files.exists(configFile)
                ? parseTree(readText(configFile, ""), configFile)
                : JSON.createObjectNode();
        if (!config.isObject()) {
            throw new IpgException(configFile + ": expected a JSON object");
        }
        Map<String, String> specialTokens = new LinkedHashMap<>();
        for (String name : new String[] {"bos_token", "eos_token", "pad_token", "unk_token"}) {
            specialToken(config, name, configFile).ifPresent(t -> specialTokens.put(name, t));
        }
        OptionalInt bos = idOf(vocab, specialTokens.get("bos_token"), "bos_token", configFile);
        OptionalInt eos = idOf(vocab, specialTokens.get("eos_token"), "eos_token", configFile);
        OptionalInt pad = idOf(vocab, specialTokens.get("pad_token"), "pad_token", configFile);
        boolean cleanUp = config.path("clean_up_tokenization_spaces").asBoolean(false);
        ChatTemplate template = chatTemplate(config, configFile, modelDir.resolve("chat_template.jinja"), specialTokens);

        HuggingFaceTokenizer hf = NativeTokenizers.create(tokenizerJson, tokenizerFile);
        return new Tokenizer(hf, vocab, bos, eos, pad, cleanUp, template);
    }

    /** Token ids a tokenizer may use when the directory has no model to bound them. */
    static final int MAX_IDS = 1 << 24;

    /** How the bound on token ids was found, for messages. */
    private record IdLimit(int ids, String source) {
    }

    /**
     * The model's vocabulary size ({@code vocab_size} of {@code config.json}, in both the GPT-2 and
     * the Llama layouts), or {@link #MAX_IDS} when the directory holds no readable model
     * configuration (a tokenizer-only directory); a malformed config.json is the model loader's
     * to report.
     */
    private static IdLimit idLimit(Path config) {
        if (Files.isRegularFile(config)) {
            try {
                JsonNode v = JSON.readTree(Files.readString(config)).path("vocab_size");
                if (v.isIntegralNumber() && v.canConvertToInt() && v.intValue() > 0 && v.intValue() <= MAX_IDS) {
                    return new IdLimit(v.intValue(), "the model's vocabulary of " + v.intValue()
                            + " ids (vocab_size in config.json)");
                }
            } catch (IOException | RuntimeException e) {
                // not ours to report
            }
        }
        return new IdLimit(MAX_IDS, "the limit of " + MAX_IDS + " ids");
    }

    private static String readText(Path file, String why) {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new IpgException(file + ": not a regular file");
        }
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IpgException(file + ": file not found" + (why.isEmpty() ? "" : " (" + why + ")"));
        } catch (MalformedInputException e) {
            throw new IpgException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new IpgException(file + ": cannot be read: " + e.getMessage(), e);
        }
    }

    private static JsonNode parseTree(String text, Path file) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw malformed(file, e);
        }
    }

    static IpgException malformed(Path file, JsonProcessingException e) {
        var at = e.getLocation();
        String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        return new IpgException(file + ": malformed JSON" + where + ": " + NativeTokenizers.oneLine(e.getOriginalMessage()), e);
    }

    /** {@code "name": "<s>"}, {@code "name": {"content": "<s>", ...}}, {@code null} or absent. */
    private static Optional<String> specialToken(JsonNode config, String name, Path file) {
        JsonNode v = config.get(name);
        if (v == null || v.isNull()) {
            return Optional.empty();
        }
        if (v.isTextual()) {
            return Optional.of(v.asText());
        }
        if (v.isObject() && v.path("content").isTextual()) {
            return Optional.of(v.get("content").asText());
        }
        throw new IpgException(file + ": " + name + " must be a string or an object with \"content\", found " + v);
    }

    private static OptionalInt idOf(Vocabulary vocab, String token, String name, Path file) {
        if (token == null) {
            return OptionalInt.empty();
        }
        Integer id = vocab.ids.get(token);
        if (id == null) {
            throw new IpgException(file + ": " + name + " \"" + token + "\" is not in the vocabulary of tokenizer.json");
        }
        return OptionalInt.of(id);
    }

    /**
     * {@code chat_template} of tokenizer_config.json: a string, or a list of {@code {name,
     * template}} of which we take {@code default}; else the file {@code chat_template.jinja}.
     */
    private static ChatTemplate chatTemplate(JsonNode config, Path configFile, Path jinjaFile, Map<String, String> specialTokens) {
        JsonNode t = config.get("chat_template");
        if (t != null && t.isTextual()) {
            return new ChatTemplate(t.asText(), configFile.toString(), specialTokens);
        }
        if (t != null && t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                    return new ChatTemplate(named.get("template").asText(), configFile.toString(), specialTokens);
                }
            }
            throw new IpgException(configFile + ": chat_template is a list without a template named \"default\"");
        }
        if (t != null && !t.isNull()) {
            throw new IpgException(configFile + ": chat_template must be a string, found " + t.getNodeType());
        }
        if (Files.exists(jinjaFile)) {
            return new ChatTemplate(readText(jinjaFile, ""), jinjaFile.toString(), specialTokens);
        }
        return null;
    }

    /**
     * The ids of {@code text}.
     *
     * @param addSpecialTokens let the tokenizer's post-processor add its special tokens (such as a
     *     BOS token); special tokens written in the text ({@code <|im_start|>}) are always
     *     recognized
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] out = hf.encode(text, addSpecialTokens, false).getIds();
        int[] ids = new int[out.length];
        for (int i = 0; i < out.length; i++) {
            ids[i] = Math.toIntExact(out[i]);
        }
        return ids;
    }

    /**
     * The text of {@code ids}; bytes of an incomplete UTF-8 character become U+FFFD.
     *
     * @param skipSpecialTokens leave out tokens marked special ({@code <|im_end|>})
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        String text = decodeRaw(ids, 0, ids.length, skipSpecialTokens);
        return cleanUpSpaces ? cleanUpTokenization(text) : text;
    }

    /** {@code decode} of {@code ids[from, to)} without the optional clean-up of spaces. */
    String decodeRaw(int[] ids, int from, int to, boolean skipSpecialTokens) {
        long[] window = new long[to - from];
        for (int i = from; i < to; i++) {
            window[i - from] = ids[i];
        }
        return hf.decode(window, skipSpecialTokens);
    }

    /** transformers' {@code clean_up_tokenization}, applied when tokenizer_config.json asks for it. */
    static String cleanUpTokenization(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    /**
     * A decoder for generated tokens one at a time that prints special tokens; see {@link
     * StreamDecoder}.
     */
    public StreamDecoder newStreamDecoder() {
        return new StreamDecoder(this, false);
    }

    /** A decoder for generated tokens one at a time; see {@link StreamDecoder}. */
    public StreamDecoder newStreamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, skipSpecialTokens);
    }

    /**
     * The number of token ids, counting added tokens: one more than the largest id (151669 for
     * Qwen3, whose models have 151936 embedding rows).
     */
    public int vocabSize() {
        return tokens.length;
    }

    /** The id of a token as written in tokenizer.json ({@code "Ġthe"}, {@code "<|im_start|>"}). */
    public OptionalInt tokenId(String token) {
        Integer id = ids.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * The token with this id as written in tokenizer.json ({@code "Ġthe"} in byte-level BPE).
     *
     * @throws IllegalArgumentException if no token has this id
     */
    public String token(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new IllegalArgumentException("no token has id " + id + " (vocabulary size " + tokens.length + ")");
        }
        return tokens[id];
    }

    /** Whether the token is an added token marked special (skipped by {@code decode(ids, true)}). */
    public boolean isSpecial(int id) {
        return id >= 0 && special.get(id);
    }

    /** The id of {@code bos_token} in tokenizer_config.json, if it names one. */
    public OptionalInt bosTokenId() {
        return bos;
    }

    /** The id of {@code eos_token} in tokenizer_config.json, if it names one. */
    public OptionalInt eosTokenId() {
        return eos;
    }

    /** The id of {@code pad_token} in tokenizer_config.json, if it names one. */
    public OptionalInt padTokenId() {
        return pad;
    }

    /** Whether the model has a chat template. */
    public boolean hasChatTemplate() {
        return chatTemplate != null;
    }

    /**
     * The model's chat template.
     *
     * @throws IpgException if it has none
     */
    public ChatTemplate chatTemplate() {
        if (chatTemplate == null) {
            throw new IpgException("this tokenizer has no chat template (no chat_template in tokenizer_config.json"
                    + " and no chat_template.jinja)");
        }
        return chatTemplate;
    }

    @Override
    public void close() {
        hf.close();
    }

    /** Token strings by id, read from tokenizer.json with a streaming parser (the merges are skipped). */
    private static final class Vocabulary {
        final String[] tokens;
        final Map<String, Integer> ids;
        final BitSet special;

        private Vocabulary(String[] tokens, Map<String, Integer> ids, BitSet special) {
            this.tokens = tokens;
            this.ids = ids;
            this.special = special;
        }

        static Vocabulary parse(String json, Path file, IdLimit limit) {
            Map<String, Integer> ids = new HashMap<>(1 << 18);
            BitSet special = new BitSet();
            boolean sawModel = false;
            boolean sawVocab = false;
            try (JsonParser p = new JsonFactory().createParser(json)) {
                expect(p.nextToken(), JsonToken.START_OBJECT, p, file);
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken value = p.nextToken();
                    if (field.equals("model") && value == JsonToken.START_OBJECT) {
                        sawModel = true;
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String f = p.currentName();
                            JsonToken v = p.nextToken();
                            if (f.equals("vocab") && v == JsonToken.START_OBJECT) {
                                sawVocab = true;
                                while (p.nextToken() == JsonToken.FIELD_NAME) {
                                    String token = p.currentName();
                                    expect(p.nextToken(), JsonToken.VALUE_NUMBER_INT, p, file);
                                    ids.put(token, checkId(p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? Long.MAX_VALUE : p.getLongValue(), "token", token, file, limit));
                                }
                            } else if (f.equals("vocab") && v == JsonToken.START_ARRAY) {
                                // Unigram: [[piece, score], ...], the id is the position
                                sawVocab = true;
                                int id = 0;
                                while (p.nextToken() == JsonToken.START_ARRAY) {
                                    expect(p.nextToken(), JsonToken.VALUE_STRING, p, file);
                                    ids.put(p.getText(), checkId(id++, "token", p.getText(), file, limit));
                                    p.nextToken();
                                    p.skipChildren();
                                    expect(p.nextToken(), JsonToken.END_ARRAY, p, file);
                                }
                            } else {
                                p.skipChildren();
                            }
                        }
                    } else if (field.equals("added_tokens") && value == JsonToken.START_ARRAY) {
                        while (p.nextToken() == JsonToken.START_OBJECT) {
                            JsonNode t = JSON.readTree(p);
                            if (!t.path("id").isIntegralNumber() || !t.path("content").isTextual()) {
                                throw new IpgException(file + ": an entry of added_tokens lacks an integer \"id\" or a \"content\": "
                                        + NativeTokenizers.oneLine(abbreviate(t.toString())));
                            }
                            int id = checkId(t.get("id").canConvertToLong() ? t.get("id").longValue() : Long.MAX_VALUE, "added token", t.get("content").asText(), file, limit);
                            ids.put(t.get("content").asText(), id);
                            if (t.path("special").asBoolean(false)) {
                                special.set(id);
                            }
                        }
                    } else if (NATIVE_CHECKED.contains(field)) {
                        checkForNative(p, file, field);
                    } else {
                        p.skipChildren();
                    }
                }
                if (p.nextToken() != null) {
                    throw new IpgException(file + ": unexpected content after the JSON object");
                }
            } catch (JsonProcessingException e) {
                throw malformed(file, e);
            } catch (IOException e) {
                throw new IpgException(file + ": cannot be read: " + e.getMessage(), e);
            }
            if (!sawModel || !sawVocab) {
                throw new IpgException(file + ": no model.vocab: not a Hugging Face tokenizer.json");
            }
            int size = 0;
            for (int id : ids.values()) {
                if (id < 0) {
                    throw new IpgException(file + ": negative token id " + id);
                }
                size = Math.max(size, id + 1);
            }
            String[] tokens = new String[size];
            for (var e : ids.entrySet()) {
                tokens[e.getValue()] = e.getKey();
            }
            return new Vocabulary(tokens, ids, special);
        }

        /** The small sections of tokenizer.json whose parsing in the native library can abort the process. */
        private static final java.util.Set<String> NATIVE_CHECKED = java.util.Set.of("decoder", "normalizer",
                "pre_tokenizer", "post_processor");
        private static final int MAX_SECTION_DEPTH = 100;

        /**
         * Walks the value of section {@code field} (the parser is at its first token) and refuses
         * what the Hugging Face tokenizers library cannot represent as a JSON value: numbers beyond
         * the double range, unpaired UTF-16 surrogates, nesting deeper than its recursion limit. In
         * its decoder section such a value aborts the whole process (a Rust panic) instead of
         * returning an error.
         */
        private static void checkForNative(JsonParser p, Path file, String field) throws IOException {
            int depth = 0;
            JsonToken t = p.currentToken();
            while (true) {
                switch (t) {
                    case START_OBJECT, START_ARRAY -> {
                        if (++depth > MAX_SECTION_DEPTH) {
                            throw new IpgException(file + ": " + field + " is nested more than " + MAX_SECTION_DEPTH
                                    + " levels deep");
                        }
                    }
                    case END_OBJECT, END_ARRAY -> depth--;
                    case FIELD_NAME, VALUE_STRING -> {
                        if (unpairedSurrogate(p.getText())) {
                            throw new IpgException(file + ": " + field + " holds a string with an unpaired UTF-16 surrogate");
                        }
                    }
                    case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                        if (!Double.isFinite(p.getValueAsDouble(Double.NaN))
                                || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                                && p.getBigIntegerValue().bitLength() > 1023) {
                            throw new IpgException(file + ": " + field + " holds the number " + abbreviate(p.getText())
                                    + ", beyond the range of a double");
                        }
                    }
                    default -> {
                    }
                }
                if (depth == 0) {
                    return;
                }
                t = p.nextToken();
                if (t == null) {
                    throw new IpgException(file + ": ends inside " + field);
                }
            }
        }

        private static boolean unpairedSurrogate(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (Character.isHighSurrogate(c)) {
                    if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                        return true;
                    }
                    i++;
                } else if (Character.isLowSurrogate(c)) {
                    return true;
                }
            }
            return false;
        }

        /** {@code id} when it lies in [0, limit); otherwise the error naming the file and the token. */
        private static int checkId(long id, String what, String token, Path file, IdLimit limit) {
            if (id < 0) {
                throw new IpgException(file + ": " + what + " " + quote(token) + " has negative id " + id);
            }
            if (id >= limit.ids()) {
                throw new IpgException(file + ": " + what + " " + quote(token) + " has id " + id + ", beyond "
                        + limit.source());
            }
            return (int) id;
        }

        private static String quote(String token) {
            return "\"" + NativeTokenizers.oneLine(abbreviate(token)) + "\"";
        }

        private static void expect(JsonToken got, JsonToken want, JsonParser p, Path file) {
            if (got != want) {
                var at = p.currentLocation();
                throw new IpgException(file + ": expected " + want + " but found " + got + " at line "
                        + at.getLineNr() + ", column " + at.getColumnNr());
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    @Override
    public String toString() {
        return "Tokenizer[vocabSize=" + tokens.length + ", chatTemplate=" + (chatTemplate != null) + "]";
    }
}
