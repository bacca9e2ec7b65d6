package dev.ipg.core.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.report.ReportData.Completeness;
import dev.ipg.core.report.ReportData.Curve;
import dev.ipg.core.report.ReportData.SiteScores;
import dev.ipg.core.report.ReportData.TopRow;
import dev.ipg.core.report.ReportData.Verdict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a run directory: scores and their spread, intervals, curves, completeness verdicts. */
class RunReaderTest {

    @TempDir
    static Path tmp;

    static ReportFixture fx;
    static RunReader.Run run;

    @BeforeAll
    static void setUp() throws IOException {
        fx = ReportFixture.shared();
        run = RunReader.read(fx.run);
    }

    static float[] tensor(String name) {
        try (SafetensorsFile f = SafetensorsFile.open(fx.run.resolve("scores.safetensors"))) {
            var m = f.matrix(name);
            float[] v = new float[(int) m.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = m.getFlat(i);
            }
            return v;
        }
    }

    @Test
    void scoresAndTheirSpreadComeFromThePerPromptRows() {
        assertEquals(2, run.sites().size());
        for (SiteScores s : run.sites()) {
            float[] written = tensor(s.site() + "/scores"); // the run's own mean
            float[] pp = tensor(s.site() + "/per_prompt");
            int m = 3;
            int d = s.width();
            assertEquals(32, d);
            assertEquals(m, s.prompts());
            assertArrayEquals(written, s.scores(), 1e-6f);
            for (int c = 0; c < d; c++) {
                double a = pp[c];
                double b = pp[d + c];
                double e = pp[2 * d + c];
                double mu = (a + b + e) / 3;
                double sd = Math.sqrt(((a - mu) * (a - mu) + (b - mu) * (b - mu) + (e - mu) * (e - mu)) / 2);
                assertEquals(sd / Math.sqrt(3), s.stdErr()[c], 1e-6);
                assertEquals((a > 0 ? 1 : 0) + (b > 0 ? 1 : 0) + (e > 0 ? 1 : 0), s.positivePrompts()[c]);
            }
        }
        double total = 0;
        for (SiteScores s : run.sites()) {
            for (float v : s.scores()) {
                total += Math.abs(v);
            }
        }
        assertTrue(total > 0, "the fixture's signal should vary and give non-zero scores");
    }

    @Test
    void topRowsAreOrderedByMagnitudeWithStudentTIntervals() {
        List<TopRow> rows = RunReader.topRows(run.sites(), 15, Set.of(RunReader.key("blocks.1.mlp.hook_post", 3)));
        assertEquals(15, rows.size());
        for (int r = 1; r < rows.size(); r++) {
            assertTrue(Math.abs(rows.get(r - 1).score()) >= Math.abs(rows.get(r).score()));
        }
        for (TopRow r : rows) {
            SiteScores s = run.scoresOf(r.site());
            assertEquals(s.scores()[r.component()], r.score(), 1e-7);
            double half = 4.303 * s.stdErr()[r.component()]; // t(0.975, 2 degrees of freedom)
            assertEquals(r.score() - half, r.lower(), 1e-6);
            assertEquals(r.score() + half, r.upper(), 1e-6);
            assertEquals((int) Math.signum(r.score()), r.sign());
            assertEquals(r.site().equals("blocks.1.mlp.hook_post") && r.component() == 3, r.selected());
        }
        // the largest |score| of all 64 components comes first
        double max = 0;
        for (SiteScores s : run.sites()) {
            for (float v : s.scores()) {
                max = Math.max(max, Math.abs(v));
            }
        }
        assertEquals(max, Math.abs(rows.getFirst().score()), 1e-7);
    }

    @Test
    void selectionTakesTheLargestSignedScores() {
        var top = RunReader.selectTop(run.sites(), 5);
        assertEquals(5, top.size());
        double fifth = top.get(4).score();
        int above = 0;
        for (SiteScores s : run.sites()) {
            for (float v : s.scores()) {
                above += v > fifth ? 1 : 0;
            }
        }
        assertTrue(above <= 4, above + " components score above the fifth selected one");
        for (var c : top) {
            assertEquals(run.scoresOf(c.site().toString()).scores()[c.index()], c.score(), 1e-7);
        }
    }

    @Test
    void curvesStartAtAlphaZeroWithJbar0AndTheMeanAveragesThem() throws IOException {
        for (SiteScores s : run.sites()) {
            List<Curve> mine = run.curves().stream().filter(c -> c.site().equals(s.site())).toList();
            assertEquals(3, mine.size());
            for (Curve c : mine) {
                JsonNode site = Json.read(fx.run.resolve(String.format("prompts/%05d.json", c.prompt()))).path("sites").path(s.site());
                // riemann-right with 2 steps: nodes 0.5 and 1, plus alpha = 0
                assertArrayEquals(new double[] {0, 0.5, 1}, c.alpha(), 1e-12);
                assertEquals(site.at("/completeness/jbar0").asDouble(), c.jbar()[0], 1e-12);
                assertEquals(site.at("/curve/0/jbar").asDouble(), c.jbar()[1], 1e-12);
                assertEquals(site.at("/completeness/jbar1").asDouble(), c.jbar()[2], 1e-12);
            }
            Curve mean = run.meanCurves().stream().filter(c -> c.site().equals(s.site())).findFirst().orElseThrow();
            for (int k = 0; k < 3; k++) {
                final int kk = k;
                assertEquals(mine.stream().mapToDouble(c -> c.jbar()[kk]).average().orElseThrow(), mean.jbar()[k], 1e-12);
            }
        }
    }

    @Test
    void headerRecordsTheModelDirectoryAndEveryHyperparameter() {
        var h = run.header();
        assertEquals(fx.model.toAbsolutePath().normalize().toString(), h.modelDir());
        assertEquals(fx.model.toAbsolutePath().normalize(), run.modelDir());
        assertEquals("model", h.modelName());
        assertEquals("2", h.hyperparameters().get("steps"));
        assertEquals("3", h.hyperparameters().get("samples"));
        assertEquals("rloo", h.hyperparameters().get("advantage"));
        assertEquals("riemann-right", h.hyperparameters().get("quadrature"));
        assertEquals("151645", h.hyperparameters().get("eos_token_ids"));
        assertEquals(3, h.supportSize());
        assertEquals(ReportFixture.SIGNAL, h.signal());
        assertEquals(64, h.fingerprint().length());
        assertEquals(ReportFixture.QUESTION_MARKUP, run.prompts().getFirst().question());
        assertEquals("5", run.prompts().getFirst().gold());
        assertTrue(run.prompts().getFirst().completions().getFirst().items().getFirst().text().contains(ReportFixture.COMPLETION_MARKUP));
    }

    @Test
    void completenessComparesTheSumOfScoresWithTheMeanChangeInReward() throws IOException {
        for (Completeness c : run.completeness()) {
            double sum = 0;
            for (float v : run.scoresOf(c.site()).scores()) {
                sum += v;
            }
            assertEquals(sum, c.sumScores(), 1e-6);
            double delta = 0;
            for (int i = 0; i < 3; i++) {
                delta += Json.read(fx.run.resolve(String.format("prompts/%05d.json", i))).path("sites").path(c.site())
                        .at("/completeness/jbar1_minus_jbar0").asDouble() / 3;
            }
            assertEquals(delta, c.meanDelta(), 1e-12);
            assertEquals(c.sumScores() - c.meanDelta(), c.gap(), 1e-12);
            assertFalse(c.explanation().isBlank());
        }
    }

    @Test
    void verdictsSayWhatTheNumbersMean() {
        // gap within two standard errors
        assertEquals(Verdict.HOLDS, RunReader.verdict("s", 0.30, 0.25, 0.05, 0.04, 0, true, "rloo").verdict());
        // nothing varied: trivially zero
        assertEquals(Verdict.TRIVIAL, RunReader.verdict("s", 0, 0, 0, 0, 0, false, "rloo").verdict());
        // grpo rescales groups: a real gap is expected
        assertEquals(Verdict.NOT_EXPECTED, RunReader.verdict("s", 2.0, 0.25, 1.75, 0.1, 0, true, "grpo").verdict());
        // the gap is (minus) the first step Jbar(alpha_1) - Jbar(0)
        assertEquals(Verdict.FIRST_STEP, RunReader.verdict("s", 0.05, -0.20, 0.25, 0.02, -0.24, true, "rloo").verdict());
        // a gap that is not the first step
        assertEquals(Verdict.GAP, RunReader.verdict("s", 0.60, 0.20, 0.40, 0.05, 0.0, true, "rloo").verdict());
        // one prompt: no spread to judge by
        assertEquals(Verdict.UNDETERMINED, RunReader.verdict("s", 0.6, 0.2, 0.4, Double.NaN, 0, true, "rloo").verdict());
        assertTrue(RunReader.verdict("s", 0.30, 0.25, 0.05, 0.04, 0, true, "rloo").explanation().contains("0.05"));
        // under grpo a small gap is a coincidence of its scaling: never "holds"
        var grpo = RunReader.verdict("s", 0.80, 0.82, -0.02, 0.04, 0, true, "grpo");
        assertEquals(Verdict.NOT_EXPECTED, grpo.verdict());
        assertTrue(grpo.explanation().startsWith("Not expected to hold under the grpo advantage"), grpo.explanation());
        assertEquals("grpo, tempered gradient", grpo.estimator());
        // the truncated policy's gradient under a truncating sampler is not expected to hold either
        var trunc = RunReader.verdict("s", 0.80, 0.82, -0.02, 0.04, 0, true,
                new RunReader.Estimator("rloo", "truncated", true, 10), List.of("w"));
        assertEquals(Verdict.NOT_EXPECTED, trunc.verdict());
        assertEquals(List.of("w"), trunc.warnings());
        // the tempered gradient under truncation: checked, and said to be approximate
        var temp = RunReader.verdict("s", 0.80, 0.82, -0.02, 0.04, 0, true, new RunReader.Estimator("rloo", "tempered", true, 10), List.of());
        assertEquals(Verdict.HOLDS, temp.verdict());
        assertTrue(temp.explanation().contains("approximate"), temp.explanation());
    }

    @Test
    void studentTQuantilesMatchTables() {
        assertEquals(12.706, RunReader.t975(1), 1e-3);
        assertEquals(2.042, RunReader.t975(30), 1e-3);
        assertEquals(2.021, RunReader.t975(40), 2e-3);
        assertEquals(1.984, RunReader.t975(100), 2e-3);
    }

    @Test
    void numbersAreFormattedForPeople() {
        assertEquals("0.08", RunReader.fmt(0.08000001));
        assertEquals("-0.195", RunReader.fmt(-0.19498));
        assertEquals("1.5", RunReader.fmt(1.5));
        assertEquals("0", RunReader.fmt(-1.7e-17));
        assertEquals("1.235e-05", RunReader.fmt(1.2345e-5));
        assertEquals("n/a", RunReader.fmt(Double.NaN));
    }

    @Test
    void aDirectoryWithoutRunJsonIsAClearError() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        var e = assertThrows(IpgException.class, () -> RunReader.read(empty));
        assertTrue(e.getMessage().contains("run.json"), e.getMessage());
    }
}
