package dev.ipg.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The records of an evaluation's files: keys, round trips, lines and summaries of earlier versions, damaged files. */
class EvalFilesTest {

    @TempDir
    Path tmp;

    @Test
    void itemLineHasItsKeysAndRoundTrips() {
        var it = new EvalRun.Item(3, "p3", "5", "5", true, 9, "eos", 1, "<think>hm</think> 5", new int[] {1, 2, 3}, "closed", 4);
        JsonNode j = it.json();
        List<String> keys = new ArrayList<>();
        j.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("index", "id", "gold", "answer", "correct", "generated_tokens", "think", "thinking_tokens", "answer_tokens",
                "finish", "reflection_words", "completion", "tokens"), keys);
        assertEquals(5, j.get("answer_tokens").asInt());
        var back = EvalRun.Item.of(j);
        assertEquals(it.thinkingTokens(), back.thinkingTokens());
        assertEquals(it.think(), back.think());
        assertEquals(3, back.tokens()[2]);
    }

    @Test
    void aLineWrittenBeforeThinkBlocksHasItsBlockReadFromTheCompletion() {
        JsonNode old = Json.parse("{\"index\": 0, \"id\": \"a\", \"gold\": \"5\", \"answer\": null, \"correct\": false,"
                + " \"generated_tokens\": 3, \"finish\": \"max_tokens\", \"reflection_words\": 0, \"completion\": \"<think>still\","
                + " \"tokens\": [1, 2, 3]}", "line", false);
        var it = EvalRun.Item.of(old);
        assertEquals("unclosed", it.think());
        assertEquals(null, it.answer());
        IpgException e = assertThrows(IpgException.class, () -> EvalRun.Item.of(Json.parse("{\"index\": 0}", "line", false)));
        assertTrue(e.getMessage().contains("a key is missing"), e.getMessage());
    }

    @Test
    void summaryRoundTripsAndOmitsWhatWasNotMeasured() throws IOException {
        var s = new EvalRun.Summary(4, 3, Wilson.of(3, 4), 10.5, 0.25, 23.8, 4, Map.of("eos", 4));
        JsonNode j = s.json();
        assertFalse(j.has("think_blocks") || j.has("mean_thinking_tokens"), j.toString());
        assertEquals(Wilson.of(3, 4).lower(), j.at("/wilson95/lower").asDouble());
        assertEquals(s, EvalRun.Summary.of(j));
        var t = new EvalRun.Summary(4, 3, Wilson.of(3, 4), 10.5, 0.25, 23.8, 4, Map.of("eos", 4), Map.of("closed", 4, "none", 0,
                "unclosed", 0), 6.0, 4.5);
        assertEquals(6.0, t.json().get("mean_thinking_tokens").asDouble());
        assertEquals(t, EvalRun.Summary.of(t.json()));

        Files.writeString(tmp.resolve(EvalRun.SUMMARY), "{\"ipg_version\": \"0.1\", \"config\": {}}");
        IpgException e = assertThrows(IpgException.class, () -> EvalRun.readSummary(tmp));
        assertTrue(e.getMessage().startsWith(tmp.resolve(EvalRun.SUMMARY) + " is not the summary.json of an evaluation"), e.getMessage());
        assertTrue(e.getMessage().contains("no 'results'"), e.getMessage());
    }

    @Test
    void aSummaryWithoutTheFiguresEveryReaderNeedsIsRefused() throws IOException {
        var s = new EvalRun.Summary(4, 3, Wilson.of(3, 4), 10.5, 0.25, 23.8, 4, Map.of("eos", 4));
        var j = (com.fasterxml.jackson.databind.node.ObjectNode) s.json();
        j.remove("correct");
        IpgException e = assertThrows(IpgException.class, () -> EvalRun.Summary.of(j));
        assertTrue(e.getMessage().contains("no integer 'correct'"), e.getMessage());
        Files.writeString(tmp.resolve(EvalRun.SUMMARY), "{\"ipg_version\": \"0.1\", \"config\": {}, \"results\": " + j + "}");
        e = assertThrows(IpgException.class, () -> EvalRun.readSummary(tmp));
        assertTrue(e.getMessage().startsWith(tmp.resolve(EvalRun.SUMMARY) + " is not the summary.json of an evaluation"), e.getMessage());
        assertTrue(e.getMessage().contains("'results' has no integer 'correct'"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
