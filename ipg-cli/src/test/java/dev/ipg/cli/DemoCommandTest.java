package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
    void runsThePipelineAndPrintsTheMeasuredTablesAndTheVerdictPerSite() throws Exception {
        Path out = tmp.resolve("demo");
        String[] r = TrainDemoCommandTest.run("demo", "--model", bundled().toString(), "--out", out.toString(),
                "--support-limit", "2", "--eval-limit", "6", "--dev-limit", "2", "--curve-k", "1,8", "--steps", "2", "--samples", "2",
                "--threads", "2");
        assertEquals("0", r[0], r[2]);
        Path cmpDir = out.resolve("compare");
        JsonNode protocol = new ObjectMapper().readTree(cmpDir.resolve("protocol.json").toFile());
        // a residual and an MLP site, each with its own comparison
        assertEquals(2, protocol.path("sites").size(), protocol.toPrettyString());
        assertEquals("blocks.2.hook_resid_post", protocol.path("sites").get(0).path("site").asText());
        assertEquals("blocks.2.mlp.hook_post", protocol.path("sites").get(1).path("site").asText());
        assertEquals(10, protocol.path("config").path("random_seeds").asInt());
        for (JsonNode site : protocol.path("sites")) {
            JsonNode cmp = new ObjectMapper().readTree(cmpDir.resolve(site.path("site").asText()).resolve("comparison.json").toFile());
            // the printed table is the measured one: the original accuracy printed equals the file's
            double original = cmp.path("original").path("accuracy").asDouble();
            assertTrue(r[1].lines().anyMatch(l -> l.startsWith("original") && l.contains(String.format(java.util.Locale.ROOT, "%.1f", 100 * original))), r[1]);
            assertTrue(cmp.path("config").path("support_decoding").path("temperature").asDouble() > 0, cmp.path("config").toPrettyString());
            assertEquals(2, site.path("ground_truth").path("dev_problems").asInt(), site.toPrettyString());
            assertTrue(site.path("curves").get(0).path("methods").size() >= 4, site.toPrettyString());
        }
        assertTrue(protocol.path("verdict").size() >= 2, protocol.toPrettyString());
        for (JsonNode v : protocol.path("verdict")) {
            assertTrue(r[1].contains(v.asText()), "verdict line not printed: " + v.asText());
        }
        assertTrue(r[1].contains("curve area: IPG"), r[1]);
        // the bundled SAE's rows at the residual site: in its table and its suppression curves, paired with IPG
        JsonNode resid = new ObjectMapper().readTree(cmpDir.resolve("blocks.2.hook_resid_post").resolve("comparison.json").toFile());
        assertTrue(resid.toString().contains("\"ipg-sae\"") && resid.toString().contains("\"sae-r\""), resid.toPrettyString());
        assertTrue(resid.path("config").has("sae"), resid.path("config").toPrettyString());
        String table = r[1].substring(r[1].indexOf("## blocks.2.hook_resid_post"), r[1].indexOf("## blocks.2.mlp.hook_post"));
        assertTrue(table.lines().anyMatch(l -> l.startsWith("ipg-sae ") && l.contains("suppress")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("sae-r ") && l.contains("enhance")), table);
        List<String> curveMethods = new java.util.ArrayList<>();
        protocol.path("sites").get(0).path("curves").get(0).path("methods").forEach(m -> curveMethods.add(m.path("method").asText()));
        assertTrue(curveMethods.contains("ipg-sae") && curveMethods.contains("sae-r"), curveMethods.toString());
        String mlp = r[1].substring(r[1].indexOf("## blocks.2.mlp.hook_post"), r[1].indexOf("== blocks.2.hook_resid_post"));
        assertTrue(mlp.lines().noneMatch(l -> l.startsWith("ipg-sae ")), "no SAE at the MLP site");
        assertTrue(Files.size(out.resolve("report.html")) > 10_000);
        assertTrue(Files.readString(out.resolve("report.html")).contains("id=\"protocol\""));
        assertTrue(r[1].contains("demo finished in"), r[1]);
    }
}
