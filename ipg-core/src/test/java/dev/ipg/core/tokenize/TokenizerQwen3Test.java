package dev.ipg.core.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real Qwen3 tokenizer. Expected ids come from an independent implementation: the pure
 * JavaScript {@code @huggingface/tokenizers} 0.2.0 (npm), run in Node 20 on the same tokenizer.json
 * and tokenizer_config.json ({@code new Tokenizer(json, config).encode(text).ids}).
 */
class TokenizerQwen3Test {

    static final String HELLO = "Hello, world!";
    static final String DIGITS = "The year 2024 had 366 days; 3.14159 * 12345 = 38781.93.";
    static final String CHINESE = "你好，世界！今天天气很好。";
    // "I ❤️ 🦀 and 👨‍👩‍👧‍👦 emoji 😀": a heart with variation selector, a crab, a ZWJ family, a smiley
    static final String EMOJI = "I \u2764\uFE0F \uD83E\uDD80 and "
            + "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67\u200D\uD83D\uDC66 emoji \uD83D\uDE00";
    static final String WHITESPACE = "  leading spaces\n\ttabs\r\nand CRLF  ";
    static final String PROMPT = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            + "<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n";

    private static Tokenizer tok;

    @BeforeAll
    static void load() {
        tok = Tokenizer.load(Fixtures.qwen3());
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void encodesAsciiDigitsChineseEmojiAndWhitespaceLikeTokenizersJs() {
        assertArrayEquals(new int[] {9707, 11, 1879, 0}, tok.encode(HELLO, false));
        assertArrayEquals(new int[] {785, 1042, 220, 17, 15, 17, 19, 1030, 220, 18, 21, 21, 2849, 26, 220, 18, 13,
                16, 19, 16, 20, 24, 353, 220, 16, 17, 18, 19, 20, 284, 220, 18, 23, 22, 23, 16, 13, 24, 18, 13},
                tok.encode(DIGITS, false));
        assertArrayEquals(new int[] {108386, 3837, 99489, 6313, 100644, 104307, 101243, 1773}, tok.encode(CHINESE, false));
        assertArrayEquals(new int[] {40, 70470, 30543, 11162, 99, 222, 323, 61804, 101, 378, 235, 145233, 378, 235,
                145665, 378, 235, 145988, 42365, 90316}, tok.encode(EMOJI, false));
        assertArrayEquals(new int[] {220, 6388, 12621, 198, 3244, 3435, 319, 437, 356, 80658, 256}, tok.encode(WHITESPACE, false));
    }

    @Test
    void recognizesSpecialTokensWrittenInAChatPrompt() {
        int[] expected = {151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 3838,
                374, 220, 17, 10, 18, 30, 151645, 198, 151644, 77091, 198};
        assertArrayEquals(expected, tok.encode(PROMPT, false));
        // Qwen3 adds no BOS, so asking for special tokens changes nothing
        assertArrayEquals(expected, tok.encode(PROMPT, true));
        String noThink = PROMPT + "<think>\n\n</think>\n\n";
        int[] ids = tok.encode(noThink, false);
        assertArrayEquals(new int[] {151667, 271, 151668, 271}, java.util.Arrays.copyOfRange(ids, ids.length - 4, ids.length));
    }

    @Test
    void doesNotTruncateLongTexts() {
        // tokenizers.js: 600 ids, all 23811 (" hello"); DJL truncates to 512 unless told not to
        int[] ids = tok.encode(" hello".repeat(600), false);
        assertEquals(600, ids.length);
        assertEquals(23811, ids[0]);
        assertEquals(23811, ids[599]);
    }

    @Test
    void decodeRoundTripsText() {
        for (String text : List.of(HELLO, DIGITS, CHINESE, EMOJI, WHITESPACE, PROMPT)) {
            assertEquals(text, tok.decode(tok.encode(text, false), false));
        }
    }

    @Test
    void decodeCanSkipSpecialTokens() {
        int[] ids = tok.encode(PROMPT, false);
        assertEquals("system\nYou are a helpful assistant.\nuser\nWhat is 2+3?\nassistant\n", tok.decode(ids, true));
        // <think> is an added token but not a special one: it stays
        assertEquals("<think>x</think>", tok.decode(tok.encode("<think>x</think>", false), true));
    }

    @Test
    void partialUtf8DecodesToReplacementCharacter() {
        // the crab U+1F980 is F0 9F A6 80 in UTF-8, spread over " \xF0\x9F" (11162), "\xA6" (99), "\x80" (222)
        assertEquals(" \uD83E\uDD80", tok.decode(new int[] {11162, 99, 222}, false));
        assertTrue(tok.decode(new int[] {11162, 99}, false).endsWith("\uFFFD"));
    }

    @Test
    void vocabularyLookups() {
        assertEquals(151669, tok.vocabSize());
        assertEquals(OptionalInt.of(151644), tok.tokenId("<|im_start|>"));
        assertEquals(OptionalInt.of(1879), tok.tokenId("Ġworld"));
        assertEquals(OptionalInt.empty(), tok.tokenId("no such token"));
        assertEquals("Hello", tok.token(9707));
        assertEquals("<|im_end|>", tok.token(151645));
        assertEquals("</think>", tok.token(151668));
        assertThrows(IllegalArgumentException.class, () -> tok.token(151669));
        assertThrows(IllegalArgumentException.class, () -> tok.token(-1));
        assertTrue(tok.isSpecial(151644));
        assertFalse(tok.isSpecial(151667));
        assertFalse(tok.isSpecial(9707));
    }

    @Test
    void specialTokenIdsComeFromTokenizerConfig() {
        assertEquals(OptionalInt.empty(), tok.bosTokenId()); // "bos_token": null
        assertEquals(OptionalInt.of(151645), tok.eosTokenId()); // <|im_end|>
        assertEquals(OptionalInt.of(151643), tok.padTokenId()); // <|endoftext|>
        assertTrue(tok.hasChatTemplate());
        assertNotNull(tok.chatTemplate());
    }

    @Test
    void streamingOutputConcatenatesToTheFullDecode() {
        String mixed = "Zahl: 42 — 你好 \uD83E\uDD80 naïve café \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 done";
        for (String text : List.of(CHINESE, EMOJI, WHITESPACE, PROMPT, mixed)) {
            int[] ids = tok.encode(text, false);
            StreamDecoder stream = tok.newStreamDecoder();
            var printed = new StringBuilder();
            for (int id : ids) {
                String piece = stream.push(id);
                assertFalse(piece.contains("\uFFFD"), () -> "a piece with a broken character for " + text);
                printed.append(piece);
            }
            printed.append(stream.flush());
            assertEquals(tok.decode(ids, false), printed.toString());
            assertEquals(text, printed.toString());
        }
    }

    @Test
    void streamingHoldsBackIncompleteCharacters() {
        StreamDecoder stream = tok.newStreamDecoder();
        assertEquals("I", stream.push(40));
        assertEquals("", stream.push(11162)); // " " + first two bytes of the crab
        assertEquals("", stream.push(99));
        assertEquals(" \uD83E\uDD80", stream.push(222));
        assertEquals(" and", stream.push(323));
        assertEquals("", stream.push(11162));
        assertEquals(" \uFFFD", stream.flush()); // the sequence ended inside a character
    }

    @Test
    void streamingCanSkipSpecialTokens() {
        int[] ids = tok.encode(PROMPT, false);
        StreamDecoder stream = tok.newStreamDecoder(true);
        var printed = new StringBuilder();
        for (int id : ids) {
            printed.append(stream.push(id));
        }
        printed.append(stream.flush());
        assertEquals(tok.decode(ids, true), printed.toString());
    }

    @Test
    void streamingKeepsASmallWindow() {
        int[] ids = tok.encode((DIGITS + " " + CHINESE + " " + EMOJI + "\n").repeat(40), false);
        StreamDecoder stream = tok.newStreamDecoder();
        List<String> pieces = new ArrayList<>();
        int widest = 0;
        for (int id : ids) {
            pieces.add(stream.push(id));
            widest = Math.max(widest, stream.windowLength());
        }
        pieces.add(stream.flush());
        assertTrue(ids.length > 1000);
        // the window holds the last printed token(s) plus at most the few bytes of one character
        assertTrue(widest <= 8, "window grew to " + widest);
        assertEquals(tok.decode(ids, false), String.join("", pieces));
    }

    @Test
    void djlStaysOffline() {
        // set before DJL's first use so that it neither downloads nor phones home
        assertEquals("true", System.getProperty("OPT_OUT_TRACKING"));
        if (System.getenv("DJL_OFFLINE") == null) {
            assertTrue(ai.djl.util.Utils.isOfflineMode());
        }
    }
}
