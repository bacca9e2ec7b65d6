package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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

    @Test
    void thePlantedTestbedReportsEachMethodsPrecisionAgainstThePlantedSetFromItsOwnRanking() throws Exception {
        Path out = tmp.resolve("planted");
        String[] r = TrainDemoCommandTest.run("demo", "--testbed", "planted", "--model", CompareGroundTruthCliTest.testbed().toString(),
                "--out", out.toString(), "--support-limit", "4",
                "--eval-limit", "4", "--dev-limit", "2", "--curve-k", "1,8", "--steps", "2", "--samples", "4", "--threads", "2");
        assertEquals("0", r[0], r[2]);
        Path planted = CompareGroundTruthCliTest.testbed().resolve("planted.json");
        JsonNode truth = new ObjectMapper().readTree(planted.toFile());
        Set<Integer> plantedSet = new HashSet<>();
        truth.path("indices").forEach(i -> plantedSet.add(i.asInt()));
        assertEquals(8, plantedSet.size(), truth.toPrettyString());
        // one site, the planted one, with the planted set's size selected
        Path cmpDir = out.resolve("compare");
        JsonNode protocol = new ObjectMapper().readTree(cmpDir.resolve("protocol.json").toFile());
        assertEquals(1, protocol.path("sites").size(), protocol.toPrettyString());
        JsonNode site = protocol.path("sites").get(0);
        assertEquals(truth.path("site").asText(), site.path("site").asText());
        JsonNode pg = site.path("planted_ground_truth");
        assertEquals(8, pg.path("k").asInt(), pg.toPrettyString());
        List<String> methods = new ArrayList<>();
        for (JsonNode m : pg.path("methods")) {
            methods.add(m.path("method").asText());
            for (String f : List.of("precision_at_planted", "recall_at_planted", "average_precision")) {
                double v = m.path(f).asDouble(Double.NaN);
                assertTrue(v >= 0 && v <= 1, m.path("method").asText() + " " + f + " = " + v);
            }
            m.path("precision_at_k").forEach(v -> assertTrue(v.asDouble() >= 0 && v.asDouble() <= 1, m.toPrettyString()));
        }
        assertTrue(methods.containsAll(List.of("ipg", "pg", "activation", "ig", "random")), methods.toString());
        // IPG's precision at 8 is that of the top 8 of its own run's ranking (signed score, ties by component index)
        JsonNode ipg = pg.path("methods").get(methods.indexOf("ipg"));
        List<String> rows = Files.readAllLines(cmpDir.resolve("methods").resolve("ipg").resolve("top.csv"));
        List<double[]> scored = new ArrayList<>();
        for (String row : rows.subList(1, rows.size())) {
            String[] c = row.split(",");
            scored.add(new double[] {Integer.parseInt(c[2]), Double.parseDouble(c[3])});
        }
        scored.sort((a, b) -> a[1] != b[1] ? Double.compare(b[1], a[1]) : Double.compare(a[0], b[0]));
        assertTrue(scored.getFirst()[1] > 0, "IPG scores nothing: the ranking would be ties only");
        int hits = 0;
        for (double[] c : scored.subList(0, 8)) {
            hits += plantedSet.contains((int) c[0]) ? 1 : 0;
        }
        assertEquals(hits / 8.0, ipg.path("precision_at_planted").asDouble(), 1e-12, scored.subList(0, 8).stream()
                .map(c -> (int) c[0] + ":" + c[1]).toList().toString());
        // printed: the planted table with the precision and recall columns, and the steering effect on reflections
        assertTrue(r[1].contains("planted ground truth (") && r[1].contains("P=R@8"), r[1]);
        assertTrue(r[1].lines().anyMatch(l -> l.startsWith("ipg ") && l.contains(String.format(java.util.Locale.ROOT, "%.2f",
                ipg.path("precision_at_planted").asDouble()))), r[1]);
        String table = r[1].substring(r[1].indexOf("## " + truth.path("site").asText()));
        assertTrue(table.lines().findFirst().orElseThrow().contains("top 8"), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("method") && l.contains("reflect")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("ipg ") && l.contains("suppress")), table);
        assertTrue(r[1].contains("planted ground truth (8 components): IPG precision = recall @8"), r[1]);
        assertTrue(Files.size(out.resolve("report.html")) > 10_000);
    }
}
