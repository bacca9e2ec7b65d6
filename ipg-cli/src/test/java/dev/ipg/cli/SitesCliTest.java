package dev.ipg.cli;

import static dev.ipg.cli.CliTest.assertOneLineError;
import static dev.ipg.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.cli.CliTest.Run;
import dev.ipg.core.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hook sites from the command line: inspect and logits --help list them, logits --cache writes
 * each in its TransformerLens shape, and whole heads are attributed, selected and ablated.
 */
class SitesCliTest {

    @TempDir
    static Path tmp;

    static Path model;

    @BeforeAll
    static void setUp() {
        model = tmp.resolve("qwen3");
        Run r = run("random-model", "--out", model.toString(), "--family", "qwen3", "--hidden", "32", "--heads", "4", "--kv-heads", "2",
                "--layers", "2", "--context", "64", "--tokenizer", CliTest.shared().resolve("fixtures/tokenizers/qwen3").toString());
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void inspectAndLogitsHelpListTheSites() {
        Run i = run("inspect", "--model", model.toString());
        assertEquals(0, i.code(), i.err());
        for (String s : new String[] {"hook_embed", "blocks.L.attn.hook_q", "blocks.L.attn.hook_pattern", "blocks.L.attn.hook_z.heads",
                "blocks.L.hook_attn_out", "blocks.L.hook_mlp_out", "ln_final.hook_normalized"}) {
            assertTrue(i.out().contains(s), s + " not in: " + i.out());
        }
        assertTrue(!i.out().contains("hook_pos_embed"), "a rotary model has no hook_pos_embed: " + i.out());
        Run h = run("logits", "--help");
        assertEquals(0, h.code(), h.err());
        for (String s : new String[] {"hook_embed", "hook_pos_embed", "blocks.L.attn.hook_k", "blocks.L.attn.hook_z.heads",
                "ln_final.hook_normalized"}) {
            assertTrue(h.out().replaceAll("\\s+", " ").contains(s), s + " not in: " + h.out());
        }
    }

    @Test
    void logitsCacheWritesTransformerLensShapes() {
        Path out = tmp.resolve("cache.safetensors");
        Run r = run("logits", "--model", model.toString(), "--token-ids", "1,2,3,4,5", "--out", out.toString(), "--cache",
                "hook_embed,blocks.1.attn.hook_q,blocks.1.attn.hook_k,blocks.0.attn.hook_pattern,blocks.0.attn.hook_z,"
                        + "blocks.0.attn.hook_z.heads,blocks.1.hook_mlp_out,ln_final.hook_normalized",
                "--grad-site", "blocks.0.attn.hook_z.heads");
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            int hd = 32 / 4;
            assertArrayEquals(new long[] {5, 32}, f.info("hook_embed").shape());
            assertArrayEquals(new long[] {5, 4, hd}, f.info("blocks.1.attn.hook_q").shape());
            assertArrayEquals(new long[] {5, 2, hd}, f.info("blocks.1.attn.hook_k").shape());
            assertArrayEquals(new long[] {4, 5, 5}, f.info("blocks.0.attn.hook_pattern").shape());
            assertArrayEquals(new long[] {5, 4, hd}, f.info("blocks.0.attn.hook_z").shape());
            assertArrayEquals(new long[] {5, 32}, f.info("ln_final.hook_normalized").shape());
            assertArrayEquals(new long[] {5, 4, hd}, f.info("grad").shape());
            assertArrayEquals(new long[] {4}, f.info("scale_grad").shape());
            // each query position's probabilities sum to one; nothing above the diagonal
            var p = f.matrix("blocks.0.attn.hook_pattern");
            for (int h = 0; h < 4; h++) {
                for (int q = 0; q < 5; q++) {
                    double sum = 0;
                    for (int k = 0; k < 5; k++) {
                        float v = p.getFlat((h * 5L + q) * 5 + k);
                        sum += v;
                        if (k > q) {
                            assertEquals(0f, v);
                        }
                    }
                    assertEquals(1.0, sum, 1e-5);
                }
            }
        }
        assertOneLineError(run("logits", "--model", model.toString(), "--token-ids", "1,2", "--out", tmp.resolve("x").toString(),
                "--cache", "hook_pos_embed"), "rotary position embeddings");
        assertOneLineError(run("logits", "--model", model.toString(), "--token-ids", "1,2,3", "--out", tmp.resolve("y").toString(),
                "--grad-site", "blocks.0.attn.hook_pattern"), "blocks.0.attn.hook_pattern is read only", "differentiate");
        assertOneLineError(run("logits", "--model", model.toString(), "--token-ids", "1,2", "--out", tmp.resolve("z").toString(),
                "--cache", "blocks.0.attn.hook_w"), "unknown site 'blocks.0.attn.hook_w'", "blocks.L.attn.hook_z.heads");
    }

    @Test
    void wholeHeadsAreAttributedSelectedAndAblated() throws IOException {
        Path data = tmp.resolve("support.jsonl");
        Files.writeString(data, """
                {"question": "What is 2 + 3?", "answer": "#### 5"}
                {"question": "What is 7 - 4?", "answer": "#### 3"}
                """);
        Path runDir = tmp.resolve("heads-run");
        String site = "blocks.1.attn.hook_z.heads";
        Run a = run("attribute", "--model", model.toString(), "--dataset", data.toString(), "--site", site,
                "--signal", "regex:[A-Z]", "--steps", "2", "--samples", "3", "--max-new-tokens", "5", "--temperature", "1.5",
                "--out", runDir.toString(), "--threads", "2");
        assertEquals(0, a.code(), a.err());
        try (SafetensorsFile f = SafetensorsFile.open(runDir.resolve("scores.safetensors"))) {
            String name = f.names().stream().filter(n -> n.contains(site)).findFirst().orElseThrow(() -> new AssertionError(f.names()));
            assertEquals(4, f.matrix(name).size(), name + ": one score per head");
        }
        Run s = run("steer", "--model", model.toString(), "--prompt", "Hello", "--scores", runDir.toString(), "--top-count", "2",
                "--gamma", "0", "--max-new-tokens", "4");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.err().contains("scale 2 of 4 components of " + site), s.err());
    }
}
