package dev.ipg.cli;

import static dev.ipg.cli.CliTest.assertOneLineError;
import static dev.ipg.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bounded sizes, refused option combinations, early input checks and protected outputs, through the command line. */
class RobustRunsCliTest {

    @TempDir
    static Path tmp;

    static Path model;
    static Path data;

    @BeforeAll
    static void setUp() throws IOException {
        model = tmp.resolve("qwen3");
        var r = run("random-model", "--out", model.toString(), "--family", "qwen3", "--hidden", "32", "--heads", "2",
                "--kv-heads", "1", "--context", "64", "--tokenizer", CliTest.shared().resolve("fixtures/tokenizers/qwen3").toString());
        assertEquals(0, r.code(), r.err());
        data = Files.writeString(tmp.resolve("support.jsonl"), """
                {"question": "What is 2 + 3?", "answer": "#### 5"}
                {"question": "What is 7 - 4?", "answer": "#### 3"}
                """);
    }

    static String m() {
        return model.toString();
    }

    @Test
    void threadCountsAreBounded() {
        int max = ModelOptions.THREADS_PER_PROCESSOR * Runtime.getRuntime().availableProcessors();
        assertOneLineError(run("inspect", "--model", m(), "--threads", "-4"), "--threads: must be between 1 and " + max, "got -4");
        assertOneLineError(run("generate", "--model", m(), "--prompt", "Hi", "--threads", "1000000"),
                "--threads: must be between 1 and " + max, "got 1000000");
        assertOneLineError(run("report", tmp.toString(), "--model", m(), "--threads", "1000000"), "--threads: must be between 1");
    }

    @Test
    void aSampleCountThatCannotFitIsRefusedBeforeAllocating() {
        var r = run("generate", "--model", m(), "--prompt", "Hi", "--num-samples", "100000000", "--max-new-tokens", "8");
        assertOneLineError(r, "--num-samples: 100000000 sequences", "more than the Java heap");
    }

    @Test
    void negativeLimitsAndTemplateWithChatAreRefused() {
        Path out = tmp.resolve("neg");
        assertOneLineError(run("attribute", "--model", m(), "--dataset", data.toString(), "--site", "blocks.0.mlp.hook_post",
                "--signal", "length", "--out", out.toString(), "--limit", "-1"), "--limit must be >= 0", "got -1");
        assertOneLineError(run("baseline", "--method", "activation", "--model", m(), "--dataset", data.toString(), "--site",
                "blocks.0.mlp.hook_post", "--out", out.toString(), "--limit", "-1"), "--limit must be >= 0");
        assertOneLineError(run("eval", "--model", m(), "--dataset", data.toString(), "--out", out.toString(), "--chat",
                "--template", "Q: {question}"), "--template and --chat exclude each other");
        assertFalse(Files.exists(out), "nothing written for refused input");
    }

    @Test
    void aPromptTooLongIsTheOnlyLinePrintedAndNamesFileLineAndId() throws IOException {
        Path late = Files.writeString(tmp.resolve("late.jsonl"), """
                {"question": "What is 2 + 3?", "answer": "#### 5"}
                {"question": "%s", "answer": "#### 1"}
                """.formatted("word ".repeat(100)));
        Path out = tmp.resolve("late-run");
        // one line only: no "[IPG on ...]" or "[evaluating ...]" banner before the error
        assertOneLineError(run("attribute", "--model", m(), "--dataset", late.toString(), "--site", "blocks.0.mlp.hook_post",
                "--signal", "length", "--out", out.toString(), "--steps", "1", "--samples", "2", "--max-new-tokens", "2"),
                late + ": line 2 (id late-1): the prompt is", "context of 64 positions");
        assertOneLineError(run("eval", "--model", m(), "--dataset", late.toString(), "--out", out.toString(), "--max-new-tokens", "2"),
                late + ": line 2 (id late-1): the prompt is");
        assertFalse(Files.exists(out), "nothing written before the check");
    }

    @Test
    void logitsRefuseAFifoTarget() throws Exception {
        Path fifo = tmp.resolve("out.safetensors");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertTrue(mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo failed");
        assertOneLineError(run("logits", "--model", m(), "--prompt", "Hi", "--out", fifo.toString()),
                fifo + ": exists and is a FIFO, not a regular file");
        assertFalse(Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS), "the FIFO was replaced");
    }

    @Test
    void aRunDirectoryUnderAFileGivesTheReason() throws IOException {
        Path file = Files.writeString(tmp.resolve("plain.txt"), "x");
        assertOneLineError(run("eval", "--model", m(), "--dataset", data.toString(), "--out", file.resolve("run").toString(),
                "--max-new-tokens", "2"), file.resolve("run") + ": cannot create run directory: ", "not a directory");
    }

    @Test
    void reportRefusesACheckpointWithOtherWeightsOfTheSameShape() throws IOException {
        Path own = tmp.resolve("own");
        Files.createDirectories(own);
        try (var s = Files.list(model)) {
            for (Path p : s.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                Files.copy(p, own.resolve(p.getFileName()));
            }
        }
        Path run = tmp.resolve("report-run");
        var r = run("attribute", "--model", own.toString(), "--dataset", data.toString(), "--site", "blocks.0.mlp.hook_post",
                "--signal", "length", "--out", run.toString(), "--steps", "1", "--samples", "2", "--max-new-tokens", "2", "--limit", "1");
        assertEquals(0, r.code(), r.err());
        Path other = tmp.resolve("other");
        var o = run("random-model", "--out", other.toString(), "--family", "qwen3", "--hidden", "32", "--heads", "2",
                "--kv-heads", "1", "--context", "64", "--seed", "99", "--tokenizer",
                CliTest.shared().resolve("fixtures/tokenizers/qwen3").toString());
        assertEquals(0, o.code(), o.err());
        Files.move(other.resolve("model.safetensors"), own.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
        assertOneLineError(run("report", run.toString(), "--model", own.toString(), "--out", tmp.resolve("r.html").toString()),
                own + ": not the model the run in " + run + " was made with: differs in the weights (model.safetensors)");
        assertFalse(Files.exists(tmp.resolve("r.html")));
    }
}
