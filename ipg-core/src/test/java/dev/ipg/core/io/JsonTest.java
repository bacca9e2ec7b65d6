package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonTest {

    @TempDir
    Path dir;

    @Test
    void readsAnObjectAndLetsTheLastDuplicateKeyWinLikePython() throws IOException {
        Path f = Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 64, \"hidden_size\": 128, \"name\": \"ü\"}\n");
        ObjectNode o = Json.readObject(f);
        assertEquals(128, o.get("hidden_size").asInt());
        assertEquals("ü", o.get("name").asText());
    }

    @Test
    void aParseErrorIsOneLineNamingTheFileAndPosition() throws IOException {
        Path f = Files.writeString(dir.resolve("config.json"), "{\n  \"a\": 1,\n  }\n");
        IpgException e = assertThrows(IpgException.class, () -> Json.read(f));
        String m = e.getMessage();
        assertTrue(m.startsWith(f + " is not valid JSON: Unexpected character ('}'"), m); // the path as given
        assertTrue(m.endsWith("(line 3, column 3)"), m); // the '}' of "  }"
        assertTrue(!m.contains("\n"), m);
    }

    @Test
    void trailingGarbageEmptyFilesAndNonObjectsAreErrors() throws IOException {
        Path trailing = Files.writeString(dir.resolve("t.json"), "{} x");
        assertTrue(assertThrows(IpgException.class, () -> Json.read(trailing)).getMessage()
                .startsWith(trailing + " is not valid JSON: "));
        Path empty = Files.writeString(dir.resolve("e.json"), "  \n");
        assertEquals(empty + " is not valid JSON: it is empty",
                assertThrows(IpgException.class, () -> Json.read(empty)).getMessage());
        Path array = Files.writeString(dir.resolve("a.json"), "[1]");
        assertEquals(array + " is not a JSON object (it is an array)",
                assertThrows(IpgException.class, () -> Json.readObject(array)).getMessage());
    }

    @Test
    void aMissingFileNamesItsPath() {
        Path f = dir.resolve("tokenizer_config.json");
        assertEquals(f + " does not exist", assertThrows(IpgException.class, () -> Json.read(f)).getMessage());
    }

    @Test
    void writeIsReadBackAndLeavesOnlyTheTarget() throws IOException {
        ObjectNode o = Json.object();
        o.put("b", 2).put("a", "x");
        o.putArray("list").add(1).add(2);
        Path f = dir.resolve("out.json");
        Json.write(f, o);
        JsonNode back = Json.read(f);
        assertEquals(o, back);
        assertTrue(Files.readString(f).endsWith("}\n"));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }
}
