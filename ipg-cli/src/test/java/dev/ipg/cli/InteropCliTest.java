package dev.ipg.cli;

import static dev.ipg.cli.CliTest.assertOneLineError;
import static dev.ipg.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.cli.CliTest.Run;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.model.Site;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.testutil.PyTorchReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ipg's files as a Python user meets them, checked with numpy alone (ipg-cli/src/test/python/interop.py,
 * run with Debian's python3-numpy): score tables for pandas, repeng GGUF control vectors, vectors and
 * scores written by numpy without ipg's metadata, and hook_z as [T, heads, head_dim].
 */
class InteropCliTest {

    @TempDir
    static Path tmp;

    static Path model;
    static Path run;
    static final String SITE = "blocks.0.hook_resid_post";
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void setUp() {
        model = tmp.resolve("qwen3");
        Run r = run("random-model", "--out", model.toString(), "--family", "qwen3", "--hidden", "32", "--heads", "4", "--kv-heads", "2",
                "--layers", "1", "--context", "64", "--tokenizer", CliTest.shared().resolve("fixtures/tokenizers/qwen3").toString());
        assertEquals(0, r.code(), r.err());
        run = tmp.resolve("rand");
        Run b = run("baseline", "--method", "random", "--model", model.toString(), "--site", SITE, "--out", run.toString(), "--seed", "7");
        assertEquals(0, b.code(), b.err());
    }

    /** Runs interop.py with a Python that has numpy; fails (never skips) when there is none. */
    static JsonNode python(String... args) throws IOException, InterruptedException {
        String py = System.getenv().getOrDefault("IPG_PYTHON", "/usr/bin/python3");
        Path script = PyTorchReference.repositoryRoot().resolve("ipg-cli/src/test/python/interop.py");
        List<String> cmd = new ArrayList<>(List.of(py, script.toString()));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile(tmp, "py", ".err");
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "interop.py timed out");
        String err = Files.readString(log);
        if (p.exitValue() != 0) {
            throw new AssertionError("interop.py failed (needs python3 with numpy: apt-get install python3-numpy; or set IPG_PYTHON): "
                    + String.join(" ", cmd) + "\n" + err);
        }
        return JSON.readTree(new String(out, StandardCharsets.UTF_8));
    }

    static float[] scores() {
        return ScoresFile.load(run, Site.parse(SITE)).scores();
    }

    @Test
    void jsonAndCsvTablesListEveryComponentBestFirstWithExactScores() throws Exception {
        Path json = tmp.resolve("scores.json");
        Path csv = tmp.resolve("scores.csv");
        assertEquals(0, run("export", "--scores", run.toString(), "--format", "json", "--out", json.toString()).code());
        assertEquals(0, run("export", "--scores", run.toString(), "--format", "csv", "--out", csv.toString()).code());
        JsonNode order = python("top-direction", run.resolve("scores.safetensors").toString(), SITE + "/scores", "1").get("order");
        float[] s = scores();
        for (Path f : List.of(json, csv)) {
            JsonNode t = python(f.toString().endsWith(".json") ? "read-json" : "read-csv", f.toString());
            assertEquals("[\"site\",\"rank\",\"component\",\"score\",\"method\"]", t.get("columns").toString(), f.toString());
            assertEquals(32, t.get("rows").asInt());
            for (int r = 0; r < 32; r++) {
                int c = order.get(r).asInt();
                assertEquals(c, t.get("data").get("component").get(r).asInt(), f + " row " + r);
                assertEquals(r + 1, t.get("data").get("rank").get(r).asInt());
                assertEquals(s[c], (float) t.get("data").get("score").get(r).asDouble(), 0f, f + " score of " + c);
                assertEquals(SITE, t.get("data").get("site").get(r).asText());
                assertEquals("random", t.get("data").get("method").get(r).asText());
            }
        }
        Path top = tmp.resolve("top.csv");
        assertEquals(0, run("export", "--scores", run.toString(), "--top-count", "5", "--format", "csv", "--out", top.toString()).code());
        JsonNode t = python("read-csv", top.toString());
        assertEquals(5, t.get("rows").asInt());
        assertEquals(order.get(4).asInt(), t.get("data").get("component").get(4).asInt());
        Run pct = run("export", "--scores", run.toString(), "--top-percent", "25", "--format", "json", "--out", tmp.resolve("p.json").toString());
        assertEquals(0, pct.code(), pct.err());
        assertEquals(8, python("read-json", tmp.resolve("p.json").toString()).get("rows").asInt());
    }

    @Test
    void selectionExportsAsARepengControlVectorNumpyReads() throws Exception {
        Path gguf = tmp.resolve("ipg.gguf");
        Run e = run("export", "--scores", run.toString(), "--top-count", "4", "--format", "repeng-gguf", "--model", model.toString(),
                "--out", gguf.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.err().contains("model hint qwen3"), e.err());
        JsonNode g = python("read-gguf", gguf.toString());
        assertEquals("controlvector", g.get("kv").get("general.architecture").asText());
        assertEquals("qwen3", g.get("kv").get("controlvector.model_hint").asText());
        assertEquals(1, g.get("kv").get("controlvector.layer_count").asInt());
        JsonNode dir = g.get("tensors").get("direction.0");
        assertEquals("[32]", dir.get("shape").toString());
        JsonNode want = python("top-direction", run.resolve("scores.safetensors").toString(), SITE + "/scores", "4").get("direction");
        int nonZero = 0;
        double norm = 0;
        for (int i = 0; i < 32; i++) {
            double v = dir.get("values").get(i).asDouble();
            assertEquals(want.get(i).asDouble(), v, 1e-6, "component " + i);
            nonZero += v != 0 ? 1 : 0;
            norm += v * v;
        }
        assertEquals(4, nonZero);
        assertEquals(1.0, norm, 1e-6);

        // a steering vector file exports as it is, and a site that repeng cannot steer is refused
        Path vec = tmp.resolve("np-vec.safetensors");
        python("write-safetensors", vec.toString(), "{\"v\": {\"shape\": [32], \"values\": " + ramp(32, 0.25) + "}}");
        Path g2 = tmp.resolve("vec.gguf");
        Run v = run("export", "--vector", vec.toString(), "--site", SITE, "--format", "repeng-gguf", "--model-hint", "llama",
                "--out", g2.toString());
        assertEquals(0, v.code(), v.err());
        JsonNode gv = python("read-gguf", g2.toString());
        assertEquals("llama", gv.get("kv").get("controlvector.model_hint").asText());
        assertEquals(0.25 * 31, gv.get("tensors").get("direction.0").get("values").get(31).asDouble(), 1e-6);
        assertOneLineError(run("export", "--vector", vec.toString(), "--site", "blocks.0.mlp.hook_post", "--format", "repeng-gguf",
                "--model-hint", "llama", "--out", tmp.resolve("x.gguf").toString()), "hook_resid_post");
        assertFalse(Files.exists(tmp.resolve("x.gguf")));
        assertOneLineError(run("export", "--scores", run.toString(), "--format", "repeng-gguf", "--model", model.toString(),
                "--out", tmp.resolve("y.gguf").toString()), "--top-count");
        assertOneLineError(run("export", "--scores", run.toString(), "--format", "parquet", "--out", tmp.resolve("z").toString()),
                "--format", "parquet");
    }

    static String ramp(int n, double step) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ",").append(step * i);
        }
        return b.append(']').toString();
    }

    @Test
    void numpyWrittenVectorAndScoresWithoutMetadataAreAcceptedWithSite() throws Exception {
        Path vec = tmp.resolve("plain-vector.safetensors");
        python("write-safetensors", vec.toString(), "{\"direction\": {\"shape\": [32], \"values\": " + ramp(32, 0.5) + "}}");
        Run plain = run("generate", "--model", model.toString(), "--prompt", "Hello", "--temperature", "0", "--max-new-tokens", "6");
        Run zero = run("steer", "--model", model.toString(), "--prompt", "Hello", "--vector", vec.toString(), "--site", SITE,
                "--strength", "0", "--max-new-tokens", "6");
        assertEquals(0, zero.code(), zero.err());
        assertEquals(plain.out(), zero.out());
        Run strong = run("steer", "--model", model.toString(), "--prompt", "Hello", "--vector", vec.toString(), "--site", SITE,
                "--strength", "40", "--max-new-tokens", "6");
        assertEquals(0, strong.code(), strong.err());
        assertTrue(strong.err().contains("vector of norm"), strong.err());
        assertOneLineError(run("steer", "--model", model.toString(), "--prompt", "Hello", "--vector", vec.toString(), "--strength", "1"),
                "does not name its site", "--site");

        // scores written by numpy: a plain 'scores' tensor, read once the site is given
        float[] s = scores();
        StringBuilder vals = new StringBuilder("[");
        for (int i = 0; i < s.length; i++) {
            vals.append(i == 0 ? "" : ",").append(-s[i]);
        }
        Path np = tmp.resolve("np-scores.safetensors");
        python("write-safetensors", np.toString(), "{\"scores\": {\"shape\": [32], \"values\": " + vals + "]}}");
        assertOneLineError(run("export", "--scores", np.toString(), "--format", "json", "--out", tmp.resolve("n.json").toString()), "--site");
        Run ok = run("export", "--scores", np.toString(), "--site", SITE, "--format", "json", "--out", tmp.resolve("n.json").toString());
        assertEquals(0, ok.code(), ok.err());
        JsonNode t = python("read-json", tmp.resolve("n.json").toString());
        JsonNode order = python("top-direction", run.resolve("scores.safetensors").toString(), SITE + "/scores", "1").get("order");
        // negated scores: the best component of the numpy file is the worst of the run (no ties among random scores)
        assertEquals(order.get(31).asInt(), t.get("data").get("component").get(0).asInt());
        assertEquals("unknown", t.get("data").get("method").get(0).asText());
    }

    @Test
    void ipgScoresAndVectorsAreReadByNumpyExactly() throws Exception {
        JsonNode f = python("read-safetensors", run.resolve("scores.safetensors").toString());
        float[] s = scores();
        JsonNode t = f.get("tensors").get(SITE + "/scores");
        assertEquals("[32]", t.get("shape").toString());
        for (int i = 0; i < 32; i++) {
            assertEquals(s[i], (float) t.get("values").get(i).asDouble(), 0f);
        }
        assertTrue(f.get("metadata").get("ipg.config").asText().contains("\"method\":\"random\""));
    }

    @Test
    void hookZIsWrittenAsPositionsHeadsHeadDim() throws Exception {
        Path out = tmp.resolve("z.safetensors");
        Run r = run("logits", "--model", model.toString(), "--token-ids", "3,14,15,9,2", "--cache", "blocks.0.attn.hook_z,blocks.0.mlp.hook_post",
                "--grad-site", "blocks.0.attn.hook_z", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode f = python("read-safetensors", out.toString()).get("tensors");
        JsonNode config = JSON.readTree(model.resolve("config.json").toFile());
        int heads = config.get("num_attention_heads").asInt();
        int headDim = config.has("head_dim") ? config.get("head_dim").asInt() : 32 / heads;
        assertEquals("[5," + heads + "," + headDim + "]", f.get("blocks.0.attn.hook_z").get("shape").toString());
        assertEquals("[5," + heads + "," + headDim + "]", f.get("grad").get("shape").toString());
        assertEquals(2, f.get("blocks.0.mlp.hook_post").get("shape").size());
        // the values: the independent PyTorch reference's hook_z [T, heads * head_dim], head-major
        Path ref = PyTorchReference.forModel(model).tokens(3, 14, 15, 9, 2).sites("blocks.0.attn.hook_z").run(tmp.resolve("ref.safetensors"));
        try (SafetensorsFile rf = SafetensorsFile.open(ref)) {
            Matrix m = rf.matrix("blocks.0.attn.hook_z");
            JsonNode z = f.get("blocks.0.attn.hook_z").get("values");
            assertEquals(m.rows() * m.cols(), z.size());
            float[] row = new float[m.cols()];
            for (int p = 0; p < m.rows(); p++) {
                m.copyRow(p, row, 0);
                for (int j = 0; j < m.cols(); j++) {
                    assertEquals(row[j], z.get(p * m.cols() + j).asDouble(), 1e-4, "position " + p + ", head " + j / headDim + ", dim " + j % headDim);
                }
            }
        }
        assertArrayEquals(new long[] {5, heads, headDim}, shape(out, "blocks.0.attn.hook_z"));
    }

    static long[] shape(Path file, String name) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return f.info(name).shape();
        }
    }
}
