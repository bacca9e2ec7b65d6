package dev.ipg.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.RunLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The resumable-run skeleton: lock, configuration, leftovers of a killed run, finished items, progress. */
class RunDirectoryTest {

    @TempDir
    Path tmp;

    @Test
    void prepareRecordsTheConfigurationClearsLeftoversAndRefusesAnotherConfiguration() throws IOException {
        Path dir = tmp.resolve("run");
        ObjectNode config = Json.object().put("method", "x").put("steps", 4);
        try (RunLock lock = RunDirectory.lock(dir)) {
            assertTrue(Files.isDirectory(dir));
            Files.writeString(dir.resolve(".run.json.0123456789abcdef.tmp"), "torn");
            RunDirectory.prepare(dir, "run-config.json", config, d -> false, "prompts");
            assertTrue(Files.isDirectory(dir.resolve("prompts")));
            assertFalse(Files.exists(dir.resolve(".run.json.0123456789abcdef.tmp")), "a killed run's temporary file is removed");
            assertEquals(config, Json.read(dir.resolve("run-config.json")));
            Files.writeString(dir.resolve("prompts").resolve(".00001.json.0123456789abcdef.tmp"), "torn");
            RunDirectory.prepare(dir, "run-config.json", config, d -> false, "prompts"); // the same configuration resumes
            assertFalse(Files.exists(dir.resolve("prompts").resolve(".00001.json.0123456789abcdef.tmp")));
            ObjectNode other = config.deepCopy().put("steps", 8);
            IpgException e = assertThrows(IpgException.class, () -> RunDirectory.prepare(dir, "run-config.json", other, d -> false));
            assertTrue(e.getMessage().contains("steps"), e.getMessage());
        }
    }

    @Test
    void progressStartsAtTheFinishedItems() {
        List<String> events = new ArrayList<>();
        ProgressListener p = new ProgressListener() {
            @Override
            public void start(String unit, long total, long done) {
                events.add(unit + " " + done + "/" + total);
            }
        };
        boolean[] finished = {true, false, true, true, false};
        RunDirectory.start(p, "prompts", 5, i -> finished[i]);
        assertEquals(List.of("prompts 3/5"), events);
        assertEquals(0, RunDirectory.finished(0, i -> true));
    }
}
