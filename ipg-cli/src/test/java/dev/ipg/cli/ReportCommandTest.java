package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ipg report} end to end: from an attribution run to the HTML page and its data files. */
class ReportCommandTest {

    @TempDir
    static Path tmp;

    static Path model;
    static Path runDir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void attribute() throws IOException {
        model = tmp.resolve("model");
        Run r = run("random-model", "--out", model.toString(), "--family", "qwen3", "--hidden", "16", "--layers", "1", "--heads", "2",
                "--kv-heads", "1", "--context", "64", "--tokenizer", CliTest.shared().resolve("fixtures/tokenizers/qwen3").toString());
        assertEquals(0, r.code(), r.err());
        Path data = tmp.resolve("support.jsonl");
        Files.writeString(data, """
                {"question": "What is 2 + 3?", "answer": "#### 5"}
                {"question": "What is 7 - 4?", "answer": "#### 3"}
                """);
        runDir = tmp.resolve("run");
        r = run("attribute", "--model", model.toString(), "--dataset", data.toString(), "--site", "blocks.0.mlp.hook_post",
                "--signal", "regex:[A-Z]", "--steps", "2", "--samples", "3", "--max-new-tokens", "6", "--temperature", "1.5",
                "--top-p", "1", "--advantage", "rloo", "--out", runDir.toString(), "--threads", "2");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void writesThePageAndItsDataUsingTheModelRecordedInTheRun() throws IOException {
        Run r = run("report", runDir.toString(), "--examples", "1", "--trajectories", "4", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        Path html = runDir.resolve("report.html");
        assertTrue(r.out().contains("wrote " + html), r.out());
        String page = Files.readString(html);
        assertTrue(page.contains("id=\"chart-process\""), "process-level chart present");
        assertTrue(page.contains("id=\"example-list\""), "before/after examples present");
        assertFalse(page.contains("Needs the model"));
        for (String f : new String[] {"report-data.json", "report-top.csv", "report-scores.csv", "report-curves.csv",
            "report-completeness.csv", "report-process.csv", "report-tokens.csv"}) {
            assertTrue(Files.size(runDir.resolve(f)) > 0, f);
        }
        assertTrue(Files.readAllLines(runDir.resolve("report-tokens.csv")).size() > 1, "token rows");
    }

    @Test
    void withoutTheModelTheModelSectionsSayWhy() throws IOException {
        Path out = tmp.resolve("elsewhere/r.html");
        Run r = run("report", runDir.toString(), "--no-model", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        String page = Files.readString(out);
        assertTrue(page.contains("Needs the model: skipped with --no-model"));
        assertTrue(Files.exists(tmp.resolve("elsewhere/r-data.json")));
    }

    @Test
    void badInputsAreOneLineErrors() throws IOException {
        Run r = run("report", tmp.resolve("nope").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("ipg: ") && r.err().strip().lines().count() == 1, r.err());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        r = run("report", empty.toString(), "--no-model");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("run.json"), r.err());
        r = run("report", runDir.toString(), "--no-model", "--comparison", empty.toString(), "--out", tmp.resolve("x.html").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("comparison.json"), r.err());
        r = run("report", runDir.toString(), "--model", tmp.resolve("missing-model").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("missing-model"), r.err());
    }
}
