package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ipg demo} end to end on the bundled model, with small limits so it takes seconds. */
class DemoCommandTest {

    @TempDir
    Path tmp;

    static Path bundled() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("mvnw"))) {
                Path m = d.resolve("models").resolve("ipg-demo");
                assertTrue(Files.isRegularFile(m.resolve("config.json")), "the bundled demo model is missing: " + m);
                return m;
            }
        }
        throw new AssertionError("not inside the ipg repository");
    }

    @Test
    void runsThePipelineAndPrintsTheMeasuredTableAndVerdict() throws Exception {
        Path out = tmp.resolve("demo");
        String[] r = TrainDemoCommandTest.run("demo", "--model", bundled().toString(), "--out", out.toString(),
                "--support-limit", "2", "--eval-limit", "12", "--steps", "2", "--samples", "2", "--threads", "2");
        assertEquals("0", r[0], r[2]);
        JsonNode cmp = new ObjectMapper().readTree(out.resolve("compare").resolve("comparison.json").toFile());
        // the printed table is the measured one: the original accuracy printed equals the file's
        double original = cmp.path("original").path("accuracy").asDouble();
        assertTrue(r[1].lines().anyMatch(l -> l.startsWith("original") && l.contains(String.format(java.util.Locale.ROOT, "%.1f", 100 * original))), r[1]);
        assertEquals(2, cmp.path("verdict").size(), cmp.toPrettyString());
        for (JsonNode v : cmp.path("verdict")) {
            assertTrue(r[1].contains(v.asText()), "verdict line not printed: " + v.asText());
            assertTrue(v.asText().contains("IPG beats every baseline") || v.asText().contains("IPG does NOT beat"), v.asText());
        }
        assertTrue(cmp.path("config").path("support_decoding").path("temperature").asDouble() > 0, cmp.path("config").toPrettyString());
        assertTrue(Files.size(out.resolve("report.html")) > 10_000);
        assertTrue(r[1].contains("demo finished in"), r[1]);
    }
}
