package dev.ipg.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.tokenize.ChatMessage;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The character vocabulary, loaded by the Hugging Face tokenizers library through {@link Tokenizer}. */
class CharVocabularyTest {

    @TempDir
    static Path dir;

    @BeforeAll
    static void writeFiles() throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), CharVocabulary.tokenizerJson());
        Files.writeString(dir.resolve("tokenizer_config.json"), CharVocabulary.tokenizerConfigJson(256));
    }

    @Test
    void everyCharacterIsOneTokenAndRoundTrips() {
        try (Tokenizer tok = Tokenizer.load(dir)) {
            assertEquals(99, tok.vocabSize());
            String all = "\n" + " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                    + "abcdefghijklmnopqrstuvwxyz{|}~";
            assertEquals(all, CharVocabulary.CHARACTERS);
            for (int i = 0; i < all.length(); i++) {
                String c = String.valueOf(all.charAt(i));
                int[] ids = tok.encode(c, false);
                assertArrayEquals(new int[] {3 + i}, ids, "id of " + (int) all.charAt(i));
                assertEquals(c, tok.decode(ids, false));
                assertEquals(c, tok.token(3 + i));
            }
            int[] ids = tok.encode(all, false);
            assertEquals(all.length(), ids.length);
            assertEquals(all, tok.decode(ids, true));
        }
    }

    @Test
    void taskTextRoundTripsCharacterByCharacter() {
        ChainTask task = new ChainTask(ChainTask.Spec.standard());
        SplittableRandom rng = new SplittableRandom(5);
        try (Tokenizer tok = Tokenizer.load(dir)) {
            for (int n = 0; n < 200; n++) {
                ChainTask.Problem p = task.problem(rng);
                String text = p.question() + "\n" + task.solve(p, rng).text();
                int[] ids = tok.encode(text, false);
                assertEquals(text.length(), ids.length, text);
                for (int i = 0; i < ids.length; i++) {
                    assertEquals(CharVocabulary.id(text.charAt(i)), ids[i]);
                }
                assertEquals(text, tok.decode(ids, false));
            }
        }
    }

    @Test
    void specialTokensAndChatTemplate() {
        try (Tokenizer tok = Tokenizer.load(dir)) {
            assertEquals(2, tok.eosTokenId().getAsInt());
            assertEquals(0, tok.padTokenId().getAsInt());
            assertTrue(tok.bosTokenId().isEmpty());
            for (int i = 0; i < 3; i++) {
                assertTrue(tok.isSpecial(i));
            }
            String prompt = tok.chatTemplate().render(List.of(new ChatMessage("user", "Start with 5, add 3.")), true);
            assertEquals("<|im_start|>user\nStart with 5, add 3.<|im_end|>\n<|im_start|>assistant\n", prompt);
            int[] ids = tok.encode(prompt, false);
            assertEquals(1, ids[0]);
            assertEquals("user\n".length() + 1 + "Start with 5, add 3.".length() + 2 + 1 + "assistant\n".length(), ids.length);
            assertEquals(2, ids[1 + 5 + 20]);
            assertEquals(prompt, tok.decode(ids, false));
            assertEquals("user\nStart with 5, add 3.\nassistant\n", tok.decode(ids, true));
        }
    }
}
