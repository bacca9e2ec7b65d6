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
    void anSaeThatDoesNotFitIsAOneLineError() {
        Path wrong = tmp.resolve("wrong");
        SaeLensFormat.write(randomSae(Site.parse("blocks.1.hook_resid_post"), 16, 32, 4, 5), wrong, "random");
        CliTest.assertOneLineError(CliTest.run("logits", "--model", model.toString(), "--token-ids", "5,17", "--out",
                tmp.resolve("x.safetensors").toString(), "--sae", wrong.toString(), "--cache", "blocks.1.hook_resid_post.hook_sae_acts_post"),
                "cfg.json", "d_in 16 does not match the width 32");
        CliTest.assertOneLineError(CliTest.run("logits", "--model", model.toString(), "--token-ids", "5,17", "--out",
                tmp.resolve("x.safetensors").toString(), "--cache", "blocks.1.hook_resid_post.hook_sae_acts_post"), "--sae");
    }
}
