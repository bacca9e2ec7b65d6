package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeLensFormat;
import dev.ipg.core.tensor.Matrix;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --sae} on the command line: cached latents, latent gradients, one-line errors. */
class SaeCliTest {

    @TempDir
    static Path tmp;

    static Path model;
    static Sae sae;
    static Path saeDir;

    static float[] normal(SplittableRandom r, int n, double s) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (s * (r.nextDouble() * 2 - 1) * Math.sqrt(3));
        }
        return a;
    }

    static Sae randomSae(Site site, int d, int n, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return new Sae("test", site.toString(), site, d, n, Sae.Activation.TOPK, k, true, Sae.Normalization.NONE,
                normal(r, n * d, 1 / Math.sqrt(d)), normal(r, n, 0.1), normal(r, n * d, 1 / Math.sqrt(k)), normal(r, d, 0.1), null);
    }

    @BeforeAll
    static void setUp() {
        model = tmp.resolve("qwen3");
        var r = CliTest.run("random-model", "--out", model.toString(), "--family", "qwen3", "--hidden", "32", "--heads", "2",
                "--kv-heads", "1", "--context", "64", "--tokenizer", CliTest.shared().resolve("fixtures/tokenizers/qwen3").toString());
        assertEquals(0, r.code(), r.err());
        sae = randomSae(Site.parse("blocks.1.hook_resid_post"), 32, 96, 8, 4);
        saeDir = tmp.resolve("sae");
        SaeLensFormat.write(sae, saeDir, "random");
    }

    static float[] read(SafetensorsFile f, String name) {
        Matrix m = f.matrix(name);
        float[] v = new float[m.rows() * m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            m.copyRow(r, v, r * m.cols());
        }
        return v;
    }

    @Test
    void logitsCachesTheLatentsAndLeavesTheModelUnchanged() {
        Path plain = tmp.resolve("plain.safetensors");
        Path out = tmp.resolve("sae.safetensors");
        var r = CliTest.run("logits", "--model", model.toString(), "--token-ids", "5,17,9,200,31", "--out", plain.toString(),
                "--cache", "blocks.1.hook_resid_post");
        assertEquals(0, r.code(), r.err());
        r = CliTest.run("logits", "--model", model.toString(), "--token-ids", "5,17,9,200,31", "--out", out.toString(),
                "--sae", saeDir.toString(), "--cache", "blocks.1.hook_resid_post.hook_sae_acts_post,blocks.1.hook_resid_post.hook_sae_error");
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile a = SafetensorsFile.open(plain); SafetensorsFile b = SafetensorsFile.open(out)) {
            float[] z = read(a, "blocks.1.hook_resid_post");
            float[] f = read(b, "blocks.1.hook_resid_post.hook_sae_acts_post");
            assertEquals(5, b.matrix("blocks.1.hook_resid_post.hook_sae_acts_post").rows());
            assertEquals(96, b.matrix("blocks.1.hook_resid_post.hook_sae_acts_post").cols());
            float[] want = sae.latents(z, 5);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], f[i], 0f);
            }
            float[] la = read(a, "logits");
            float[] lb = read(b, "logits");
            for (int i = 0; i < la.length; i++) {
                assertEquals(la[i], lb[i], 0f, "the spliced model's logits are the model's");
            }
        }
    }

    @Test
    void gradSiteAtTheLatentsGivesScaleGradAsLatentTimesGradient() {
        Path out = tmp.resolve("g.safetensors");
        var r = CliTest.run("logits", "--model", model.toString(), "--token-ids", "5,17,9,200,31,7", "--out", out.toString(),
                "--sae", saeDir.toString(), "--cache", "blocks.1.hook_resid_post.hook_sae_acts_post",
                "--grad-site", "blocks.1.hook_resid_post.hook_sae_acts_post", "--from", "2");
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            float[] lat = read(f, "blocks.1.hook_resid_post.hook_sae_acts_post");
            float[] g = read(f, "grad");
            float[] s = read(f, "scale_grad");
            assertEquals(96, s.length);
            double norm = 0;
            for (int i = 0; i < 96; i++) {
                double want = 0;
                for (int t = 0; t < 6; t++) {
                    want += (double) lat[t * 96 + i] * g[t * 96 + i];
                }
                assertEquals(want, s[i], 1e-4 * Math.max(1, Math.abs(want)), "latent " + i);
                norm += Math.abs(s[i]);
            }
            assertTrue(norm > 0);
        }
    }

    @Test
    void attributeWithAnSaeScoresLatentsAndSteerAppliesThemThroughTheSae() throws java.io.IOException {
        Path data = tmp.resolve("support.jsonl");
        java.nio.file.Files.writeString(data, """
                {"question": "What is 2 + 3?", "answer": "#### 5"}
                {"question": "What is 7 - 4?", "answer": "#### 3"}
                """);
        Path run = tmp.resolve("ipg-sae");
        var r = CliTest.run("attribute", "--model", model.toString(), "--dataset", data.toString(), "--site", "blocks.1.hook_resid_post",
                "--sae", saeDir.toString(), "--signal", "regex:[aeiou]", "--steps", "2", "--samples", "4", "--max-new-tokens", "3",
                "--advantage", "rloo", "--out", run.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("blocks.1.hook_resid_post.hook_sae_acts_post: sum of scores"), r.out());
        try (SafetensorsFile f = SafetensorsFile.open(run.resolve("scores.safetensors"))) {
            float[] s = read(f, "blocks.1.hook_resid_post.hook_sae_acts_post/scores");
            assertEquals(96, s.length);
            double abs = 0;
            for (float v : s) {
                abs += Math.abs(v);
            }
            assertTrue(abs > 0, "some latent has a non-zero score");
            assertTrue(f.metadata().get("ipg.config").contains("weights_sha256"), "the run records the SAE");
        }
        var plain = CliTest.run("generate", "--model", model.toString(), "--prompt", "Hello", "--temperature", "0", "--max-new-tokens", "6");
        var one = CliTest.run("steer", "--model", model.toString(), "--prompt", "Hello", "--scores", run.toString(), "--sae", saeDir.toString(),
                "--top-count", "8", "--gamma", "1", "--max-new-tokens", "6");
        assertEquals(0, one.code(), one.err());
        assertEquals(plain.out(), one.out(), "gamma 1 on latents is the plain model");
        assertTrue(one.err().contains("scale 8 of 96 latents of the SAE at blocks.1.hook_resid_post"), one.err());
        var spec = CliTest.run("steer", "--model", model.toString(), "--prompt", "Hello", "--sae", saeDir.toString(),
                "--intervention", "scale:" + run + ":top-count=8:gamma=1", "--max-new-tokens", "6");
        assertEquals(plain.out(), spec.out(), spec.err());
        CliTest.assertOneLineError(CliTest.run("steer", "--model", model.toString(), "--prompt", "Hello", "--scores", run.toString(),
                "--top-count", "8", "--gamma", "0"), "scores the latents of an SAE", "--sae");
        Path ev = tmp.resolve("eval-sae");
        var e = CliTest.run("eval", "--model", model.toString(), "--dataset", data.toString(), "--out", ev.toString(), "--max-new-tokens", "4",
                "--sae", saeDir.toString(), "--intervention", "scale:" + run + ":top-percent=100:gamma=0");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.err().contains("latents of the SAE"), e.err());
        assertTrue(java.nio.file.Files.readString(ev.resolve("summary.json")).contains("hook_sae_acts_post"));
    }

    @Test
    void aLosslessSaeHasFvuZeroAndLeavesTheModelAsItIsEvenWithoutItsErrorTerm() throws java.io.IOException {
        // latents relu(z_j) and relu(-z_j), decoded by +e_j and -e_j: the reconstruction is z itself
        Site site = Site.parse("blocks.1.hook_resid_post");
        int d = 32;
        float[] w = new float[2 * d * d];
        for (int j = 0; j < d; j++) {
            w[j * d + j] = 1f;
            w[(d + j) * d + j] = -1f;
        }
        Sae exact = new Sae("exact", site.toString(), site, d, 2 * d, Sae.Activation.TOPK, 2 * d, true, Sae.Normalization.NONE,
                w.clone(), new float[2 * d], w.clone(), new float[d], null);
        Path dir = tmp.resolve("exact-sae");
        SaeLensFormat.write(exact, dir, "random");
        Path data = tmp.resolve("exact.jsonl");
        java.nio.file.Files.writeString(data, """
                {"question": "What is 2 + 3?", "answer": "#### 5"}
                {"question": "What is 7 - 4?", "answer": "#### 3"}
                """);
        var r = CliTest.run("sae", "eval", "--model", model.toString(), "--sae", dir.toString(), "--dataset", data.toString(),
                "--max-new-tokens", "4");
        assertEquals(0, r.code(), r.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "(\\d+) rows: FVU ([0-9.]+), L0 ([0-9.]+), dead ([0-9.]+)% \\(\\d+ of 64 latents never fire\\), loss ([0-9.]+) -> ([0-9.]+) nats/token")
                .matcher(r.out());
        assertTrue(m.find(), r.out());
        assertEquals(0.0, Double.parseDouble(m.group(2)), 1e-4, "FVU");
        assertEquals(32.0, Double.parseDouble(m.group(3)), 1e-9, "one of relu(z_j), relu(-z_j) is non-zero per dimension");
        assertEquals(Double.parseDouble(m.group(5)), Double.parseDouble(m.group(6)), 1e-4, "the loss is unchanged");
        // the reconstruction in place of the site: the same completions as the plain model
        Path a = tmp.resolve("eval-plain");
        Path b = tmp.resolve("eval-recon");
        assertEquals(0, CliTest.run("eval", "--model", model.toString(), "--dataset", data.toString(), "--out", a.toString(),
                "--max-new-tokens", "6").code());
        var e = CliTest.run("eval", "--model", model.toString(), "--dataset", data.toString(), "--out", b.toString(), "--max-new-tokens", "6",
                "--sae", dir.toString(), "--intervention", "reconstruction");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.err().contains("(no error term)"), e.err());
        assertEquals(completions(a), completions(b));
        // a lossy SAE changes them
        Path c = tmp.resolve("eval-recon-lossy");
        assertEquals(0, CliTest.run("eval", "--model", model.toString(), "--dataset", data.toString(), "--out", c.toString(),
                "--max-new-tokens", "6", "--sae", saeDir.toString(), "--intervention", "reconstruction").code());
        assertTrue(!completions(a).equals(completions(c)), "the random SAE's reconstruction changes the model");
        CliTest.assertOneLineError(CliTest.run("eval", "--model", model.toString(), "--dataset", data.toString(), "--out",
                tmp.resolve("eval-bad").toString(), "--intervention", "reconstruction"), "reconstruction needs the SAE", "--sae");
    }

    static java.util.List<String> completions(Path evalDir) throws java.io.IOException {
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        java.util.List<String> out = new java.util.ArrayList<>();
        for (String l : java.nio.file.Files.readAllLines(evalDir.resolve("completions.jsonl"))) {
            if (!l.isBlank()) {
                out.add(mapper.readTree(l).path("tokens").toString());
            }
        }
        return out;
    }

    @Test
    void saeTrainWritesALoadableSaeWithItsReportAndResumes() throws java.io.IOException {
        Path data = tmp.resolve("train.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            sb.append("{\"question\": \"What is ").append(i).append(" + 3?\", \"answer\": \"#### ").append(i + 3).append("\"}\n");
        }
        java.nio.file.Files.writeString(data, sb.toString());
        Path out = tmp.resolve("trained");
        String[] args = {"sae", "train", "--model", model.toString(), "--dataset", data.toString(), "--site", "blocks.0.hook_resid_post",
                "--expansion", "2", "--k", "4", "--tokens", "600", "--batch-size", "50", "--buffer", "100", "--max-new-tokens", "6",
                "--eval-prompts", "3", "--out", out.toString()};
        var r = CliTest.run(args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("FVU"), r.out());
        Sae sae = dev.ipg.core.sae.SaeFiles.load(out, null);
        assertEquals(64, sae.dSae());
        assertEquals(4, sae.k());
        assertEquals(Site.parse("blocks.0.hook_resid_post"), sae.site());
        var report = dev.ipg.core.io.Json.readObject(out.resolve("training.json"));
        double fvu = report.get("fvu").asDouble();
        assertTrue(fvu > 0 && fvu < 1.5, "FVU " + fvu);
        assertEquals(12, report.get("steps").asInt(), "600 rows in batches of 50");
        assertTrue(report.get("loss_spliced").asDouble() > 0);
        var again = CliTest.run(args);
        assertEquals(0, again.code(), again.err());
        Sae same = dev.ipg.core.sae.SaeFiles.load(out, null);
        org.junit.jupiter.api.Assertions.assertArrayEquals(sae.wDec(), same.wDec(), "a rerun resumes the finished state");
        args[args.length - 3] = "4";
        CliTest.assertOneLineError(CliTest.run(args), "different configuration", "eval_prompts");
    }

    @Test
    void anSaeThatDoesNotFitIsAOneLineError() {
        Path wrong = tmp.resolve("wrong");
        SaeLensFormat.write(randomSae(Site.parse("blocks.1.hook_resid_post"), 16, 32, 4, 5), wrong, "random");
        CliTest.assertOneLineError(CliTest.run("logits", "--model", model.toString(), "--token-ids", "5,17", "--out",
                tmp.resolve("x.safetensors").toString(), "--sae", wrong.toString(), "--cache", "blocks.1.hook_resid_post.hook_sae_acts_post"),
                "cfg.json", "d_in 16 does not match the width 32");
        CliTest.assertOneLineError(CliTest.run("logits", "--model", model.toString(), "--token-ids", "5,17", "--out",
                tmp.resolve("x.safetensors").toString(), "--cache", "blocks.1.hook_resid_post.hook_sae_acts_post"), "--sae");
        CliTest.assertOneLineError(CliTest.run("baseline", "--model", model.toString(), "--method", "sae-r", "--site",
                "blocks.1.hook_resid_post", "--dataset", tmp.resolve("none.jsonl").toString(), "--out", tmp.resolve("sr").toString()),
                "sae-r needs the SAE (--sae DIR)");
    }
}
