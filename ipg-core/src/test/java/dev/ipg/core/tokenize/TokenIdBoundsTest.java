package dev.ipg.core.tokenize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.model.BrokenCheckpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Token ids beyond the model's vocabulary are refused when tokenizer.json is loaded, naming the file. */
class TokenIdBoundsTest {

    @TempDir
    Path tmp;

    private Path withAddedToken(long id, boolean withConfig) throws IOException {
        Path dir = tmp.resolve(id + "-" + withConfig);
        Files.createDirectories(dir);
        ObjectMapper om = new ObjectMapper();
        ObjectNode t = (ObjectNode) om.readTree(BrokenCheckpoints.demo().resolve("tokenizer.json").toFile());
        t.withArray("added_tokens").addObject().put("id", id).put("content", "<x>").put("single_word", false)
                .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        Files.writeString(dir.resolve("tokenizer.json"), om.writeValueAsString(t));
        if (withConfig) {
            Files.copy(BrokenCheckpoints.demo().resolve("config.json"), dir.resolve("config.json"));
        }
        return dir;
    }

    @ParameterizedTest
    @ValueSource(longs = {2147483647L, 2147483646L, 300000000L, 128L, 4294967296L})
    void anIdBeyondTheModelsVocabularyIsRefused(long id) throws IOException {
        Path dir = withAddedToken(id, true);
        IpgException e = assertThrows(IpgException.class, () -> Tokenizer.load(dir).close());
        assertEquals(dir.resolve("tokenizer.json") + ": added token \"<x>\" has id " + id
                + ", beyond the model's vocabulary of 128 ids (vocab_size in config.json)", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(longs = {2147483647L, 300000000L})
    void withoutAModelAHugeIdIsRefusedBeforeAnythingIsAllocated(long id) throws IOException {
        Path dir = withAddedToken(id, false);
        IpgException e = assertThrows(IpgException.class, () -> Tokenizer.load(dir).close());
        assertEquals(dir.resolve("tokenizer.json") + ": added token \"<x>\" has id " + id + ", beyond the limit of "
                + (1 << 24) + " ids", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(longs = {127L})
    void anIdInsideTheVocabularyLoads(long id) throws IOException {
        Path dir = withAddedToken(id, true);
        try (Tokenizer tok = Tokenizer.load(dir)) {
            assertEquals(128, tok.vocabSize());
            assertEquals(id, tok.tokenId("<x>").orElseThrow());
        }
    }
}
