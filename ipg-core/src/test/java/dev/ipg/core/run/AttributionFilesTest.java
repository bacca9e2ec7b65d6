package dev.ipg.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import dev.ipg.core.run.AttributionFiles.Completion;
import dev.ipg.core.run.AttributionFiles.CurvePoint;
import dev.ipg.core.run.AttributionFiles.PromptCompleteness;
import dev.ipg.core.run.AttributionFiles.PromptFile;
import dev.ipg.core.run.AttributionFiles.PromptTimings;
import dev.ipg.core.run.AttributionFiles.RunFile;
import dev.ipg.core.run.AttributionFiles.SiteResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The records of an attribution run's files: their keys, a round trip, files of earlier versions and damaged ones. */
class AttributionFilesTest {

    @TempDir
    Path tmp;

    private static SiteResult site() {
        return new SiteResult(new PromptCompleteness(0, 0.5, 0.4, Double.NaN, 0.1, 0.5),
                List.of(new CurvePoint(0.5, 0.5, 0.3, 0.2, new double[] {1, 0}, new double[] {0.5, -0.5}, null),
                        new CurvePoint(1, 0.5, 0.5, 0.3, new double[] {1, 1}, new double[] {0, 0}, null)),
                new double[] {0, 0}, new double[] {1, 1}, new PromptTimings(1.5, 2.5), 12, List.of(new Completion("5", 2, 1)));
    }

    @Test
    void promptFileHasTheSnakeCaseKeysAndRoundTrips() throws IOException {
        Path file = tmp.resolve("00000.json");
        PromptFile p = new PromptFile(0, "q0", "What is 2 + 3?", "5", 7, Map.of("blocks.0.hook_resid_post", site()));
        RunFiles.write(file, p);
        JsonNode j = Json.read(file);
        List<String> keys = new ArrayList<>();
        j.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("index", "id", "question", "gold", "prompt_tokens", "sites"), keys);
        JsonNode s = j.at("/sites/blocks.0.hook_resid_post");
        List<String> siteKeys = new ArrayList<>();
        s.fieldNames().forEachRemaining(siteKeys::add);
        assertEquals(List.of("completeness", "curve", "rewards_alpha0", "rewards_alpha1", "timings", "generated_tokens",
                "completions_last_point"), siteKeys);
        assertEquals(0.4, s.at("/completeness/jbar1_minus_jbar0").asDouble());
        assertEquals(2.5, s.at("/timings/backward_s").asDouble());
        assertTrue(s.at("/curve/0").has("advantages"));
        assertTrue(!s.at("/curve/0").has("importance_weights"), "absent unless reweighted");

        PromptFile back = RunFiles.read(file, PromptFile.class, "an attribution prompt file");
        SiteResult r = back.at("blocks.0.hook_resid_post");
        assertTrue(Double.isNaN(r.completeness().firstStep()), "NaN survives the round trip");
        assertEquals(0.3, r.curve().get(1).contribution());
        assertEquals(12, r.generatedTokens());
        assertEquals("5", r.completionsLastPoint().getFirst().text());
        assertTrue(r.rewardsVary());
        // run.json keeps the slim curve: no weights or advantages
        JsonNode slim = RunFiles.tree(r.summary());
        assertTrue(!slim.at("/curve/0").has("weight") && !slim.at("/curve/0").has("advantages"));
        assertEquals(0.2, slim.at("/curve/0/contribution").asDouble());
    }

    @Test
    void filesOfEarlierVersionsLoadWithTheirMissingParts() throws IOException {
        // before per-point contributions and threads/kernels were recorded
        Path prompt = tmp.resolve("old.json");
        Files.writeString(prompt, """
                {"index": 0, "id": "a", "question": "q", "gold": null, "prompt_tokens": 3, "extra_key": 1,
                 "sites": {"blocks.0.hook_resid_post": {
                   "completeness": {"sum_ipg": 0.1, "jbar1_minus_jbar0": 0.2, "jbar_alpha1_minus_jbar0": 0.0, "jbar0": 0, "jbar1": 0.2},
                   "curve": [{"alpha": 1.0, "jbar": 0.2, "rewards": [0, 1]}],
                   "timings": {"sampling_s": 1, "backward_s": 2}, "generated_tokens": 4}}}
                """);
        PromptFile p = RunFiles.read(prompt, PromptFile.class, "an attribution prompt file");
        assertNull(p.gold());
        assertEquals(0, p.at("blocks.0.hook_resid_post").curve().getFirst().contribution());
        assertEquals(List.of(), p.at("blocks.0.hook_resid_post").completionsLastPoint());
        Path run = tmp.resolve("run.json");
        Files.writeString(run, """
                {"ipg_version": "0.1", "config": {"sites": ["blocks.0.hook_resid_post"]},
                 "timings": {"sampling_s": 1, "backward_s": 2, "generated_tokens": 4}}
                """);
        RunFile r = RunFiles.read(run, RunFile.class, "the run.json of an attribution run");
        assertNull(r.timings().threads());
        assertNull(r.timings().wallSeconds());
        assertNull(r.modelDir());
        assertEquals(Map.of(), r.completeness());
    }

    @Test
    void aFileNotOfTheFormatIsRefusedInOneLineNamingIt() throws IOException {
        Path prompt = tmp.resolve("bad.json");
        Files.writeString(prompt, "{\"index\": 0, \"id\": \"a\"}");
        IpgException e = assertThrows(IpgException.class, () -> RunFiles.read(prompt, PromptFile.class, "an attribution prompt file"));
        assertTrue(e.getMessage().startsWith(prompt + " is not an attribution prompt file of the format"), e.getMessage());
        assertTrue(e.getMessage().contains("no 'sites'"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        Files.writeString(prompt, "{\"index\": \"zero\", \"sites\": {}}");
        IpgException e2 = assertThrows(IpgException.class, () -> RunFiles.read(prompt, PromptFile.class, "an attribution prompt file"));
        assertTrue(e2.getMessage().contains("older version"), e2.getMessage());
    }
}
