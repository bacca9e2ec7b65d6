package dev.ipg.core.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The protocol sections read what ipg compare writes and show its figures. */
class ProtocolSectionTest {

    static final String PROTOCOL = """
            {"config": {"random_seeds": 10, "area": "the mean change", "ground_truth": "log-prob drop"},
             "sites": [{"site": "blocks.2.hook_resid_post", "width": 128, "ks": [1, 4, 16], "headline_k": 6, "original_accuracy": 0.93,
                        "eval_problems": 100, "unavailable": {"reasoning-neuron": "no reasoning words"},
                        "curves": [{"condition": "suppress", "gamma": 0.0, "methods": [
                           {"method": "ipg", "seeds": 1, "delta_points": [0.0, -6.0, -28.0], "area": -12.5},
                           {"method": "random", "seeds": 10, "delta_points": [-0.1, -2.7, -12.6], "seed_min_points": [-3, -5, -18],
                            "seed_max_points": [2, 0, -5], "area": -5.2, "area_seed_min": -7, "area_seed_max": -3,
                            "minus_ipg": [{"mean": -0.1, "lower": -3, "upper": 3}, {"mean": 3.3, "lower": -1, "upper": 8},
                                          {"mean": 15.4, "lower": 8, "upper": 23}],
                            "area_minus_ipg": {"mean": 7.3, "lower": 3.5, "upper": 10.1}},
                           {"method": "pg", "seeds": 1, "delta_points": [-1.0, -3.0, -21.0], "area": -9.0,
                            "minus_ipg": [{"mean": -1, "lower": -5, "upper": 2, "mcnemar_p": 1.0}, {"mean": 3, "lower": -2, "upper": 8,
                            "mcnemar_p": 0.45}, {"mean": 7, "lower": -2, "upper": 16, "mcnemar_p": 0.21}],
                            "area_minus_ipg": {"mean": 3.5, "lower": -2.8, "upper": 4.7}}]}],
                        "ground_truth": {"dev_problems": 64, "all_components": true, "candidates": [0, 1, 2], "drops": [0.1, 0.3, 0.2],
                                         "k": 6, "costliest": [6, 25, 124, 106, 29, 49],
                                         "methods": [{"method": "ipg", "precision_at_k": 0.0, "spearman": -0.08, "precision_min": 0,
                                                      "precision_max": 0},
                                                     {"method": "pg", "precision_at_k": 0.17, "spearman": null, "precision_min": 0.17,
                                                      "precision_max": 0.17}]},
                        "stability": {"half_size": 16, "methods": [{"method": "ipg", "dice": [0.0, 0.0, 0.25], "dice_at_headline_k": 0.0}]},
                        "verdict": ["blocks.2.hook_resid_post suppress: IPG wins vs: random"]}],
             "verdict": ["blocks.2.hook_resid_post suppress: IPG wins vs: random"]}
            """;

    @Test
    void readsTheProtocolAndRendersCurvesGroundTruthAndStability(@TempDir Path tmp) throws Exception {
        Path site = Files.createDirectories(tmp.resolve("cmp").resolve("blocks.2.hook_resid_post"));
        Files.writeString(tmp.resolve("cmp").resolve(ProtocolFile.JSON), PROTOCOL);
        // a site's comparison directory finds the sweep's protocol one level up
        Path file = ProtocolFile.find(site);
        assertEquals(tmp.resolve("cmp").resolve(ProtocolFile.JSON).toAbsolutePath().normalize(), file.toAbsolutePath().normalize());
        ProtocolFile.View v = ProtocolFile.read(file);
        var s = v.sites().getFirst();
        assertArrayEquals(new int[] {1, 4, 16}, s.ks());
        var random = s.curves().getFirst().methods().get(1);
        assertArrayEquals(new double[] {-3, -5, -18}, random.seedMin());
        assertEquals(7.3, random.areaMinus(), 0);
        assertNull(s.curves().getFirst().methods().getFirst().minus());
        assertTrue(Double.isNaN(random.mcnemar()[0]));
        assertEquals(0.45, s.curves().getFirst().methods().get(2).mcnemar()[1], 0);
        assertNull(s.groundTruth().methods().get(1).spearman());
        StringBuilder b = new StringBuilder();
        ProtocolSection.render(b, ReportData.Section.of(v, null));
        String html = b.toString();
        assertTrue(html.contains("id=\"protocol\""));
        assertTrue(html.contains("<svg class=\"protocol-curve\""));
        assertEquals(3, html.split("<polyline ", -1).length - 1, html); // one line per method
        assertEquals(1, html.split("<polygon ", -1).length - 1);          // random's seed band
        assertTrue(html.contains("random (10 seeds)"));
        assertTrue(html.contains("&minus;IPG +7.3 [+3.5, +10.1]"), html);
        assertTrue(html.contains("p=0.45"));
        assertTrue(html.contains("[6, 25, 124, 106, 29, 49]"));
        assertTrue(html.contains("<td>n/a</td>"));
        assertTrue(html.contains("reasoning-neuron cannot score: no reasoning words"));
        assertTrue(html.contains("IPG wins vs: random"));
        assertTrue(html.contains("<td>0.25</td>"));
    }

    @Test
    void aMissingOrMalformedProtocolIsSaidSo(@TempDir Path tmp) throws Exception {
        assertNull(ProtocolFile.find(Files.createDirectories(tmp.resolve("a").resolve("b"))));
        Files.writeString(tmp.resolve(ProtocolFile.JSON), "{\"sites\": 3}");
        var e = assertThrows(IpgException.class, () -> ProtocolFile.read(tmp.resolve(ProtocolFile.JSON)));
        assertTrue(e.getMessage().contains("not a protocol"), e.getMessage());
        StringBuilder b = new StringBuilder();
        ProtocolSection.render(b, ReportData.Section.absent("none given"));
        assertTrue(b.toString().contains("none given"));
        assertArrayEquals(new double[] {-1, 0, 1, 2, 3, 4}, ProtocolSection.ticks(-1, 4.5), 1e-12);
        assertArrayEquals(new double[] {-80, -60, -40, -20, 0}, ProtocolSection.ticks(-87, 3), 1e-12);
    }

    @Test
    void aProtocolWrittenByAnEarlierIpgIsReadAndWritesBackToTheSameText(@TempDir Path tmp) throws Exception {
        // protocol.json of the compare package's protocol test as an earlier ipg wrote it
        Path file = tmp.resolve(ProtocolFile.JSON);
        try (var in = ProtocolSectionTest.class.getResourceAsStream("protocol-earlier.json")) {
            Files.write(file, in.readAllBytes());
        }
        var text = dev.ipg.core.io.Json.read(file);
        ProtocolFile.View v = ProtocolFile.read(file);
        var t = text.at("/sites/0");
        var s = v.sites().getFirst();
        assertEquals(t.get("site").asText(), s.site());
        assertEquals(t.get("ks").size(), s.ks().length);
        assertEquals(t.get("headline_k").asInt(), s.headlineK());
        assertEquals(t.get("unavailable").size(), s.unavailable().size());
        assertEquals(t.at("/stability/half_size").asInt(), s.halfSize());
        assertEquals(t.at("/ground_truth/candidates").size(), s.groundTruth().candidates());
        for (int c = 0; c < t.get("curves").size(); c++) {
            for (int m = 0; m < t.at("/curves/" + c + "/methods").size(); m++) {
                var tm = t.at("/curves/" + c + "/methods/" + m);
                var line = s.curves().get(c).methods().get(m);
                assertEquals(tm.get("method").asText(), line.method());
                assertEquals(tm.get("area").asDouble(), line.area(), 0);
                assertEquals(tm.get("delta_points").get(0).asDouble(), line.delta()[0], 0);
                assertEquals(tm.has("minus_ipg"), line.minus() != null);
                if (tm.has("minus_ipg")) {
                    assertEquals(tm.at("/minus_ipg/0/upper").asDouble(), line.minusUpper()[0], 0);
                    assertEquals(tm.at("/area_minus_ipg/lower").asDouble(), line.areaLower(), 0);
                }
            }
        }
        assertEquals(text.get("verdict").size(), v.verdict().size());
        // the record holds every key of the file: written back, it is the same JSON text
        var record = dev.ipg.core.run.RunFiles.read(file, dev.ipg.core.run.ProtocolFiles.File.class, "the earlier protocol");
        assertEquals(text.toString(), dev.ipg.core.run.RunFiles.tree(record).toString());
    }
}
