package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end: outputs, exit codes and one-line errors. */
class CliTest {

    @TempDir
    static Path tmp;

    static Path model;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static Path shared() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("mvnw"))) {
            dir = dir.getParent();
        }
        Path s = dir == null ? null : dir.resolveSibling("shared");
        if (s == null || !Files.isDirectory(s.resolve("fixtures/tokenizers/qwen3"))) {
            throw new AssertionError("../shared/fixtures/tokenizers/qwen3 is missing next to the repository");
        }
        return s;
    }

    @BeforeAll
    static void makeModel() {
        model = tmp.resolve("qwen3");
        Run r = run("random-model", "--out", model.toString(), "--family", "qwen3", "--hidden", "32", "--heads", "2",
                "--kv-heads", "1", "--context", "64", "--tokenizer", shared().resolve("fixtures/tokenizers/qwen3").toString());
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void inspectDescribesTheModel() {
        Run r = run("inspect", "--model", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Qwen3ForCausalLM"), r.out());
        assertTrue(r.out().contains("blocks.L.mlp.hook_post    width 96"), r.out());
        assertTrue(r.out().contains("heads         2 query, 1 key/value, head_dim 16"), r.out());
    }

    @Test
    void logitsFileHoldsTheForwardPassAndTheCachedSites() throws IOException {
        Path out = tmp.resolve("l.safetensors");
        Run r = run("logits", "--model", model.toString(), "--token-ids", "5,17,9,200", "--out", out.toString(),
                "--cache", "blocks.1.hook_resid_post,blocks.0.attn.hook_z");
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(out); Parallel p = Parallel.serial();
             Transformer m = Transformer.load(model, KernelsProvider.lookup(), p)) {
            assertEquals(4, f.matrix("logits").rows());
            assertEquals(m.config().vocabSize(), f.matrix("logits").cols());
            assertEquals(32, f.matrix("blocks.1.hook_resid_post").cols());
            assertEquals("5,17,9,200", f.metadata().get("ipg.token_ids"));
            float[] l = m.forward(Batch.ofSequence(0, 0, new int[] {5, 17, 9, 200}), m.newCache(1, 4), Hooks.none(), new int[] {3});
            for (int i = 0; i < l.length; i += 997) {
                assertEquals(l[i], f.matrix("logits").get(3, i), 1e-6f);
            }
        }
    }

    @Test
    void logitsWithAGradientSiteWritesGradAndScaleGrad() throws IOException {
        Path out = tmp.resolve("g.safetensors");
        Run r = run("logits", "--model", model.toString(), "--token-ids", "5,17,9,200,31,7", "--out", out.toString(),
                "--cache", "blocks.0.mlp.hook_post", "--grad-site", "blocks.0.mlp.hook_post", "--from", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("planned working set"), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            var g = f.matrix("grad");
            var h = f.matrix("blocks.0.mlp.hook_post");
            var sg = f.matrix("scale_grad");
            assertEquals(6, g.rows());
            assertEquals(96, g.cols());
            assertEquals(96, sg.cols());
            for (int i = 0; i < 96; i++) {
                double sum = 0;
                for (int t = 0; t < 6; t++) {
                    sum += (double) h.get(t, i) * g.get(t, i);
                }
                assertEquals(sum, sg.getFlat(i), 1e-5 * Math.max(1, Math.abs(sum)), "component " + i);
            }
            // positions 0 and 1 are prompt: the last position's gradient is zero (nothing after it is scored)
            float last = 0;
            for (int i = 0; i < 96; i++) {
                last += Math.abs(g.get(5, i));
            }
            assertEquals(0f, last, 0f);
        }
        Run bad = run("logits", "--model", model.toString(), "--token-ids", "5,17", "--out", tmp.resolve("b.safetensors").toString(),
                "--grad-site", "blocks.0.hook_resid_post", "--max-memory", "1k");
        assertOneLineError(bad, "more than the budget");
        assertFalse(Files.exists(tmp.resolve("b.safetensors")));
    }

    @Test
    void generateIsSeededAndStreams() {
        Run a = run("generate", "--model", model.toString(), "--prompt", "Hi", "--temperature", "1", "--seed", "3",
                "--max-new-tokens", "8");
        Run b = run("generate", "--model", model.toString(), "--prompt", "Hi", "--temperature", "1", "--seed", "3",
                "--max-new-tokens", "8", "--no-stream");
        assertEquals(0, a.code(), a.err());
        assertEquals(a.out().strip(), b.out().strip());
        assertTrue(a.err().contains("8 generated"), a.err());
        Run chat = run("generate", "--model", model.toString(), "--prompt", "Hi", "--chat", "--system", "Be brief.",
                "--max-new-tokens", "3");
        assertEquals(0, chat.code(), chat.err());
    }

    static void assertOneLineError(Run r, String... phrases) {
        assertEquals(1, r.code(), "exit code; stderr: " + r.err());
        String e = r.err().strip();
        assertFalse(e.contains("\n"), "one line expected: " + e);
        assertTrue(e.startsWith("ipg: "), e);
        for (String p : phrases) {
            assertTrue(e.contains(p), "'" + p + "' not in: " + e);
        }
    }

    @Test
    void truncatedWeightsAreOneLineErrors() throws IOException {
        Path dir = copyModel("trunc");
        Path f = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length / 2));
        assertOneLineError(run("inspect", "--model", dir.toString()), "model.safetensors", "truncated");
    }

    @Test
    void shapeDisagreeingWithConfigIsAOneLineError() throws IOException {
        Path dir = copyModel("shape");
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"intermediate_size\" : 96", "\"intermediate_size\" : 128"));
        assertOneLineError(run("inspect", "--model", dir.toString()), "mlp.gate_proj.weight", "config.json implies");
    }

    @Test
    void unsupportedArchitectureIsAOneLineError() throws IOException {
        Path dir = copyModel("arch");
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("Qwen3ForCausalLM", "MambaForCausalLM"));
        assertOneLineError(run("inspect", "--model", dir.toString()), "unsupported architecture 'MambaForCausalLM'");
    }

    @Test
    void missingTensorAndMissingTokenizerAreOneLineErrors() throws IOException {
        Path dir = tmp.resolve("gpt2");
        RandomCheckpoint.write(dir, RandomCheckpoint.Spec.tiny(Family.LLAMA), 1);
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"num_hidden_layers\" : 2", "\"num_hidden_layers\" : 3"));
        assertOneLineError(run("inspect", "--model", dir.toString()), "model.layers.2.");
        assertOneLineError(run("generate", "--model", model.getParent().resolve("gpt2").toString(), "--prompt", "x"));
        Path noTok = tmp.resolve("notok");
        RandomCheckpoint.write(noTok, RandomCheckpoint.Spec.tiny(Family.QWEN2), 1);
        assertOneLineError(run("generate", "--model", noTok.toString(), "--prompt", "x"), "tokenizer.json");
    }

    @Test
    void promptLongerThanTheContextIsAOneLineError() {
        String longPrompt = "word ".repeat(100);
        assertOneLineError(run("generate", "--model", model.toString(), "--prompt", longPrompt), "context of 64");
        assertOneLineError(run("logits", "--model", model.toString(), "--prompt", longPrompt, "--out",
                tmp.resolve("x.safetensors").toString()), "context of 64");
        assertFalse(Files.exists(tmp.resolve("x.safetensors")), "no output on failure");
    }

    @Test
    void aRewardModelIsInspectedAsWhatItIsAndRefusedForGeneration() throws IOException {
        Path rm = copyModel("reward");
        Files.writeString(rm.resolve("config.json"), Files.readString(rm.resolve("config.json"))
                .replace("Qwen3ForCausalLM", "Qwen3ForSequenceClassification").replace("\"model_type\"", "\"num_labels\": 1, \"model_type\""));
        var w = new dev.ipg.core.io.SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            for (String n : f.names()) {
                var m = f.matrix(n);
                float[] v = new float[(int) m.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = m.getFlat(i);
                }
                w.add(n, v, f.info(n).shape(), dev.ipg.core.tensor.DType.F32);
            }
        }
        w.add("score.weight", new float[32], new long[] {1, 32}, dev.ipg.core.tensor.DType.F32);
        w.write(rm.resolve("model.safetensors"));
        Run r = run("inspect", "--model", rm.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("architecture  Qwen3ForSequenceClassification (qwen3)"), r.out());
        assertFalse(r.out().contains("ForCausalLM"), r.out());
        assertTrue(r.out().contains("1 label(s): a reward model"), r.out());
        for (String[] full : new String[][] {{"generate", "--model", rm.toString(), "-p", "Hi"},
                {"logits", "--model", rm.toString(), "--token-ids", "1,2", "--out", tmp.resolve("rm.st").toString()}}) {
            assertOneLineError(run(full), "Qwen3ForSequenceClassification is a sequence-classification (reward) model, not a causal "
                    + "language model; it cannot generate (use it as --signal reward-model:");
        }
    }

    @Test
    void noThinkingIsRefusedWhereItWouldChangeNothing() {
        Run on = run("generate", "--model", model.toString(), "--chat", "--no-thinking", "-p", "Hi", "--max-new-tokens", "2");
        assertEquals(0, on.code(), on.err());
        assertOneLineError(run("generate", "--model", model.toString(), "--no-thinking", "-p", "Hi", "--max-new-tokens", "2"),
                "--no-thinking needs --chat");
        Path demo = DemoCommandTest.bundled();
        assertTrue(Files.isRegularFile(demo.resolve("tokenizer_config.json")), demo.toString());
        assertOneLineError(run("generate", "--model", demo.toString(), "--chat", "--no-thinking", "-p", "Hi", "--max-new-tokens", "2"),
                "--no-thinking: the model's chat template has no enable_thinking switch");
        assertOneLineError(run("eval", "--model", demo.toString(), "--dataset", demo.resolve("eval.jsonl").toString(), "--limit", "1",
                "--no-thinking", "--out", tmp.resolve("nt").toString()), "--no-thinking needs --chat");
    }

    @Test
    void usageErrorsExitWithTwo() {
        Run r = run("logits", "--model", model.toString(), "--out", "x.safetensors");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("ipg: "), r.err());
        Run h = run("generate", "--help");
        assertEquals(0, h.code());
        assertTrue(h.out().contains("--max-new-tokens"), h.out());
    }

    static Path copyModel(String name) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        try (var s = Files.list(model)) {
            for (Path p : s.toList()) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        return dir;
    }

}
