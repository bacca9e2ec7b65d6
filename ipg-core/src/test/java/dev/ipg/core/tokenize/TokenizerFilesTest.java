package dev.ipg.core.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading from a model directory: small hand-written tokenizers and the errors for bad files. */
class TokenizerFilesTest {

    /** A word-level tokenizer: three words and one special added token. */
    static final String TINY = """
            {"version": "1.0", "truncation": null, "padding": null,
             "added_tokens": [{"id": 3, "content": "<eos>", "single_word": false, "lstrip": false, "rstrip": false,
                               "normalized": false, "special": true}],
             "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
             "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "hello": 1, "world": 2}, "unk_token": "[UNK]"}}
            """;

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static void assertOneLine(IpgException e) {
        assertFalse(e.getMessage().contains("\n"), () -> "multi-line message: " + e.getMessage());
    }

    @Test
    void loadsAHandWrittenTokenizer() throws IOException {
        write("tokenizer.json", TINY);
        try (var tok = Tokenizer.load(dir)) {
            assertArrayEquals(new int[] {1, 2, 3, 0}, tok.encode("hello world <eos> other", false));
            assertEquals("hello world <eos>", tok.decode(new int[] {1, 2, 3}, false));
            assertEquals("hello world", tok.decode(new int[] {1, 2, 3}, true));
            assertEquals(4, tok.vocabSize());
            assertEquals("<eos>", tok.token(3));
            assertTrue(tok.isSpecial(3));
            // no tokenizer_config.json: no special token ids and no chat template
            assertEquals(OptionalInt.empty(), tok.eosTokenId());
            assertFalse(tok.hasChatTemplate());
            var e = assertThrows(IpgException.class, tok::chatTemplate);
            assertTrue(e.getMessage().contains("no chat template"), e.getMessage());
        }
    }

    @Test
    void specialTokensMayBeObjectsAndTemplatesMayBeNamed() throws IOException {
        write("tokenizer.json", TINY);
        write("tokenizer_config.json", """
                {"eos_token": {"content": "<eos>", "lstrip": false}, "pad_token": "[UNK]", "bos_token": null,
                 "chat_template": [{"name": "tool_use", "template": "tools"},
                                   {"name": "default", "template": "{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}"}]}
                """);
        try (var tok = Tokenizer.load(dir)) {
            assertEquals(OptionalInt.of(3), tok.eosTokenId());
            assertEquals(OptionalInt.of(0), tok.padTokenId());
            assertEquals(OptionalInt.empty(), tok.bosTokenId());
            assertEquals("hello<eos>world<eos>",
                    tok.chatTemplate().render(List.of(ChatMessage.user("hello"), ChatMessage.assistant("world")), false));
        }
    }

    @Test
    void chatTemplateJinjaFileIsUsedWhenTheConfigHasNone() throws IOException {
        write("tokenizer.json", TINY);
        write("tokenizer_config.json", "{\"eos_token\": \"<eos>\"}");
        write("chat_template.jinja", "{{ messages[0].content | upper }}{% if add_generation_prompt %}>{% endif %}");
        try (var tok = Tokenizer.load(dir)) {
            assertEquals("HELLO>", tok.chatTemplate().render(List.of(ChatMessage.user("hello")), true));
        }
    }

    @Test
    void missingDirectory() {
        var e = assertThrows(IpgException.class, () -> Tokenizer.load(dir.resolve("nope")));
        assertTrue(e.getMessage().startsWith(dir.resolve("nope") + ": not a directory"), e.getMessage());
    }

    @Test
    void missingTokenizerJson() {
        var e = assertThrows(IpgException.class, () -> Tokenizer.load(dir));
        assertEquals(dir.resolve("tokenizer.json") + ": file not found (tokenizer.json is required to tokenize)", e.getMessage());
    }

    @Test
    void malformedTokenizerJson() throws IOException {
        write("tokenizer.json", "{\"model\": {\"vocab\": {\"a\": 0,\n \"b\": }}}");
        var e = assertThrows(IpgException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json") + ": malformed JSON at line 2, column"), e.getMessage());
        assertOneLine(e);
    }

    @Test
    void truncatedTokenizerJson() throws IOException {
        write("tokenizer.json", TINY.substring(0, TINY.length() / 2));
        var e = assertThrows(IpgException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json") + ": malformed JSON"), e.getMessage());
        assertOneLine(e);
    }

    @Test
    void jsonThatIsNotATokenizer() throws IOException {
        write("tokenizer.json", "{\"hello\": [1, 2, 3]}");
        var e = assertThrows(IpgException.class, () -> Tokenizer.load(dir));
        assertEquals(dir.resolve("tokenizer.json") + ": no model.vocab: not a Hugging Face tokenizer.json", e.getMessage());
    }

    @Test
    void tokenizerTheLibraryRejects() throws IOException {
        write("tokenizer.json", "{\"model\": {\"type\": \"NoSuchModel\", \"vocab\": {\"a\": 0}}}");
        var e = assertThrows(IpgException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json") + ": the Hugging Face tokenizers library rejects it: "),
                e.getMessage());
        assertOneLine(e);
    }

    @Test
    void malformedTokenizerConfig() throws IOException {
        write("tokenizer.json", TINY);
        write("tokenizer_config.json", "{\"eos_token\": \"<eos>\",}");
        var e = assertThrows(IpgException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer_config.json") + ": malformed JSON at line 1"), e.getMessage());
        assertOneLine(e);
    }

    @Test
    void specialTokenMissingFromTheVocabulary() throws IOException {
        write("tokenizer.json", TINY);
        write("tokenizer_config.json", "{\"eos_token\": \"</s>\"}");
        var e = assertThrows(IpgException.class, () -> Tokenizer.load(dir));
        assertEquals(dir.resolve("tokenizer_config.json") + ": eos_token \"</s>\" is not in the vocabulary of tokenizer.json",
                e.getMessage());
    }
}
