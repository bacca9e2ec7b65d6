package dev.ipg.core.tokenize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.model.BrokenCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Values in the decoder section of tokenizer.json that the native tokenizers library cannot hold
 * make it panic, which aborts the whole JVM (found by the fuzz test: a number out of the double
 * range). They are refused in Java first, naming the file and the section.
 */
class NativeParserGuardTest {

    @TempDir
    Path tmp;

    private Path withDecoderValue(String name, String rawJsonValue) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        ObjectMapper om = new ObjectMapper();
        ObjectNode t = (ObjectNode) om.readTree(BrokenCheckpoints.demo().resolve("tokenizer.json").toFile());
        t.putObject("decoder").put("type", "ByteLevel").put("trim_offsets", true).put("use_regex", true)
                .put("add_prefix_space", "PLACEHOLDER");
        String text = om.writeValueAsString(t).replace("\"PLACEHOLDER\"", rawJsonValue);
        Files.writeString(dir.resolve("tokenizer.json"), text);
        Files.copy(BrokenCheckpoints.demo().resolve("config.json"), dir.resolve("config.json"));
        return dir;
    }

    private String refusal(Path dir) {
        return assertThrows(IpgException.class, () -> Tokenizer.load(dir).close()).getMessage();
    }

    @Test
    void aNumberBeyondTheDoubleRangeIsRefusedInsteadOfAbortingTheProcess() throws Exception {
        Path dir = withDecoderValue("big", "1e400");
        assertEquals(dir.resolve("tokenizer.json") + ": decoder holds the number 1e400, beyond the range of a double",
                refusal(dir));
        Path ints = withDecoderValue("bigint", "1" + "0".repeat(400));
        assertEquals(ints.resolve("tokenizer.json")
                + ": decoder holds the number 1" + "0".repeat(59) + "..., beyond the range of a double", refusal(ints));
    }

    @Test
    void unpairedSurrogatesAndDeepNestingAreRefused() throws Exception {
        Path sur = withDecoderValue("surrogate", "\"\\ud800x\"");
        assertEquals(sur.resolve("tokenizer.json") + ": decoder holds a string with an unpaired UTF-16 surrogate", refusal(sur));
        Path deep = withDecoderValue("deep", "[".repeat(150) + "]".repeat(150));
        assertEquals(deep.resolve("tokenizer.json") + ": decoder is nested more than 100 levels deep", refusal(deep));
    }

    @Test
    void anOrdinaryDecoderStillLoads() throws Exception {
        Path dir = withDecoderValue("ok", "false");
        try (Tokenizer tok = Tokenizer.load(dir)) {
            assertEquals(99, tok.vocabSize());
        }
    }
}
