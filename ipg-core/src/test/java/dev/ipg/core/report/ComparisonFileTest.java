package dev.ipg.core.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.JsonKeys;
import dev.ipg.core.compare.Comparison;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.ModelFingerprint;
import dev.ipg.core.report.ReportData.Arm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report reads what {@code ipg compare} writes: every figure of a real comparison, and malformed files refused. */
class ComparisonFileTest {

    @TempDir
    Path tmp;

    static ComparisonFixture fx;
    static ReportData.Comparison read;

    @BeforeAll
    static void compare() throws IOException {
        fx = ComparisonFixture.shared();
        read = ComparisonFile.read(fx.out);
    }

    /** The arm's figures are the evaluation's. */
    static void assertSame(Comparison.Row row, Arm arm, double originalAccuracy) {
        EvalRun.Summary s = row.summary();
        String what = row.method() + " " + row.condition() + " " + row.setting();
        assertEquals(s.accuracy(), arm.accuracy(), 0, what);
        assertEquals(s.interval().lower(), arm.lower(), 0, what);
        assertEquals(s.interval().upper(), arm.upper(), 0, what);
        assertEquals(s.correct(), arm.correct(), what);
        assertEquals(s.problems(), arm.n(), what);
        assertEquals(s.meanGeneratedTokens(), arm.meanTokens(), 0, what);
        assertEquals(s.accuracy() - originalAccuracy, arm.delta(), 1e-15, what);
        assertEquals(row.seedAccuracies(), arm.seedAccuracies(), what);
        assertEquals(row.steering(), arm.intervention(), what);
    }

    @Test
    void everyFigureOfARealComparisonIsRead() {
        Comparison.Result r = fx.result;
        double orig = r.original().accuracy();
        assertSame(r.original(), read.original(), orig);
        assertNull(read.original().gamma());
        assertNull(read.original().strength());
        // the original is what the evaluation set was built to give
        assertEquals(ComparisonFixture.MATCHING, read.original().correct());
        assertEquals(ComparisonFixture.EVAL_PROBLEMS, read.original().n());

        assertEquals(List.of("ipg", "random", "control-vector"), read.methods().stream().map(ReportData.MethodResult::method).toList());
        assertEquals(5, r.rows().size());
        for (Comparison.Row row : r.rows()) {
            var m = read.methods().stream().filter(x -> x.method().equals(row.method())).findFirst().orElseThrow();
            Arm arm = row.condition().equals("enhance") ? m.enhance() : m.suppress();
            assertNotNull(arm, row.method() + " " + row.condition());
            assertSame(row, arm, orig);
            if (row.additive()) {
                assertEquals(row.setting(), arm.strength());
                assertNull(arm.gamma());
            } else {
                assertEquals(row.setting(), arm.gamma());
                assertNull(arm.strength());
            }
        }
        var random = read.methods().get(1);
        assertEquals(2, random.enhance().seedAccuracies().size());
        assertEquals(2 * ComparisonFixture.EVAL_PROBLEMS, random.enhance().n(), "random pools the problems of both seeds");
        var cv = read.methods().get(2);
        assertNull(cv.suppress(), "an added control vector has no suppress row");
        assertEquals(1.0, cv.enhance().strength());
        // the rows are told apart by their figures
        long distinct = r.rows().stream().map(Comparison.Row::accuracy).distinct().count();
        assertTrue(distinct >= 3, "accuracies of the rows: " + r.rows().stream().map(Comparison.Row::accuracy).toList());

        assertEquals(3, read.gammaSweep().size());
        for (int i = 0; i < 3; i++) {
            assertEquals("ipg", read.gammaSweep().get(i).method());
            assertEquals(List.of(0.0, 1.0, 3.0).get(i), read.gammaSweep().get(i).gamma());
            assertSame(r.sweep().get(i), read.gammaSweep().get(i).arm(), orig);
        }

        assertEquals("eval.jsonl", read.evalDataset());
        assertEquals(ComparisonFixture.EVAL_PROBLEMS, read.evalProblems());
        assertEquals("support.jsonl", read.supportDataset());
        assertEquals(2, read.supportProblems());
        assertEquals("blocks.0.mlp.hook_post", read.site());
        assertEquals("top 25% by signed score", read.selection());
        assertEquals("greedy, " + ComparisonFixture.EVAL_TOKENS + " tokens", read.decoding());
        assertEquals("Qwen3ForCausalLM", read.architecture());
        assertEquals(ModelFingerprint.of(fx.model, List.of(fx.model.resolve("model.safetensors"))), read.fingerprint());
        assertEquals("compare", read.source());
    }

    @Test
    void aSampledEvaluationIsDescribedWithItsSettings() {
        ObjectNode d = Json.object().put("greedy", false).put("temperature", 0.6).put("top_p", 0.95).put("top_k", 0).put("seed", 1)
                .put("batch_size", 8).put("max_new_tokens", 512);
        assertEquals("T=0.6 top-p=0.95 top-k=0 seed=1, 512 tokens", ComparisonFile.decoding(d));
    }

    /** A copy of the real comparison with {@code edit} applied. */
    private Path edited(java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectNode j = Json.readObject(fx.out.resolve("comparison.json"));
        edit.accept(j);
        Path dir = Files.createDirectories(tmp.resolve("edited"));
        Json.write(dir.resolve("comparison.json"), j);
        return dir;
    }

    @Test
    void malformedOrMissingComparisonsAreClearErrors() throws IOException {
        var e = assertThrows(IpgException.class, () -> ComparisonFile.read(tmp));
        assertTrue(e.getMessage().contains("comparison.json"), e.getMessage());

        Path dir = edited(j -> ((ObjectNode) j.get("rows").get(0)).remove("correct"));
        e = assertThrows(IpgException.class, () -> ComparisonFile.read(dir));
        assertTrue(e.getMessage().contains("ipg enhance has no integer 'correct'"), e.getMessage());
        assertTrue(e.getMessage().contains(dir.resolve("comparison.json").toString()), e.getMessage());

        edited(j -> ((ObjectNode) j.get("rows").get(1)).put("condition", "enhance"));
        e = assertThrows(IpgException.class, () -> ComparisonFile.read(dir));
        assertTrue(e.getMessage().contains("two enhance rows for ipg"), e.getMessage());

        edited(j -> ((ObjectNode) j.get("gamma_sweep").get(0)).put("condition", "sideways"));
        assertEquals(3, ComparisonFile.read(dir).gammaSweep().size(), "a sweep row's condition is not needed");
        edited(j -> ((ObjectNode) j.get("rows").get(0)).put("condition", "sideways"));
        e = assertThrows(IpgException.class, () -> ComparisonFile.read(dir));
        assertTrue(e.getMessage().contains("condition 'sideways'"), e.getMessage());

        edited(j -> ((ObjectNode) j.get("rows").get(0)).put("strength", 3));
        e = assertThrows(IpgException.class, () -> ComparisonFile.read(dir));
        assertTrue(e.getMessage().contains("exactly one of 'gamma' and 'strength'"), e.getMessage());

        Files.writeString(dir.resolve("comparison.json"), "{\"dataset\": \"x\", \"methods\": []}");
        e = assertThrows(IpgException.class, () -> ComparisonFile.read(dir));
        assertTrue(e.getMessage().contains("not a comparison written by ipg compare"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void theReportSaysWhenTheComparisonIsOfAnotherModelOrSite() throws IOException {
        ReportFixture run = ReportFixture.shared();
        ReportData.Header h = RunReader.read(run.run).header();
        // the comparison's model is not the run's
        var s = Report.comparisonSection(read, h);
        assertNotNull(s.note());
        assertTrue(s.note().contains("different checkpoint (fingerprint " + read.fingerprint().substring(0, 12) + "...)"), s.note());
        assertTrue(s.note().contains(h.fingerprint().substring(0, 12)), s.note());
        assertFalse(s.note().contains("site"), s.note());
        // the same model and a site the run scored: nothing to say
        Path same = edited(j -> ((ObjectNode) j.at("/config/model")).put("fingerprint", h.fingerprint()));
        var data = Report.gather(run.run, same, null, null, "not needed", Report.Options.defaults());
        assertNull(data.comparison().note());
        assertEquals(read.methods(), data.comparison().value().methods());
        // a site the run did not score
        edited(j -> {
            ((ObjectNode) j.at("/config/model")).put("fingerprint", h.fingerprint());
            ((ObjectNode) j.get("config")).put("site", "blocks.1.hook_resid_post");
        });
        var other = Report.comparisonSection(ComparisonFile.read(same), h);
        assertEquals("It selects components at blocks.1.hook_resid_post, a site the attribution run did not score.", other.note());
    }

    @Test
    void aComparisonWrittenByAnEarlierIpgIsReadAndItsShapeIsTheOneWrittenNow() throws IOException {
        // comparison.json of this fixture as an earlier ipg wrote it (its temporary paths made relative)
        Path dir = Files.createDirectories(tmp.resolve("earlier"));
        try (var in = ComparisonFileTest.class.getResourceAsStream("comparison-earlier.json")) {
            Files.write(dir.resolve(ComparisonFile.JSON), in.readAllBytes());
        }
        var text = Json.read(dir.resolve(ComparisonFile.JSON));
        ReportData.Comparison old = ComparisonFile.read(dir);
        // every figure is the text's
        assertEquals(text.at("/original/correct").asInt(), old.original().correct());
        assertEquals(text.at("/original/accuracy").asDouble(), old.original().accuracy(), 0);
        for (int i = 0; i < text.get("rows").size(); i++) {
            var r = text.get("rows").get(i);
            var m = old.methods().stream().filter(x -> x.method().equals(r.get("method").asText())).findFirst().orElseThrow();
            Arm a = r.get("condition").asText().equals("enhance") ? m.enhance() : m.suppress();
            assertEquals(r.get("problems").asInt(), a.n());
            assertEquals(r.get("correct").asInt(), a.correct());
            assertEquals(r.at("/wilson95/lower").asDouble(), a.lower(), 0);
            assertEquals(r.at("/wilson95/upper").asDouble(), a.upper(), 0);
            assertEquals(r.get("mean_generated_tokens").asDouble(), a.meanTokens(), 0);
            assertEquals(r.get("delta_vs_original").asDouble(), a.delta(), 0);
            assertEquals(r.get("intervention").asText(), a.intervention());
            assertEquals(r.get("seed_accuracies").size(), a.seedAccuracies().size());
        }
        assertEquals(text.get("gamma_sweep").size(), old.gammaSweep().size());
        assertEquals(text.get("verdict").size(), old.verdict().size());
        assertEquals(text.at("/config/model/fingerprint").asText(), old.fingerprint());
        // the record holds every key of the file: written back, it is the same JSON text
        var record = dev.ipg.core.run.RunFiles.convert(text, dev.ipg.core.run.ComparisonFiles.File.class, "the earlier comparison");
        assertEquals(text.toString(), dev.ipg.core.run.RunFiles.tree(record).toString());
        // and the comparison written now has the same keys
        assertEquals(JsonKeys.of(text), JsonKeys.of(Json.read(fx.out.resolve(ComparisonFile.JSON))));
    }
}
