package dev.ipg.core.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.tensor.Matrix;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SAELens and sparsify directories written by an independent numpy script
 * ({@code src/test/python/sae_reference.py}, safetensors written by hand) are read and give the
 * latents and reconstructions numpy computes on the same activations; ipg's own writers round-trip;
 * every malformed directory ends in one error naming the file and the field.
 */
class SaeFormatsTest {

    static final int D = 16;

    @TempDir
    static Path ref;

    @TempDir
    Path tmp;

    @BeforeAll
    static void runReference() throws IOException, InterruptedException {
        Path script = Path.of("src", "test", "python", "sae_reference.py");
        assertTrue(Files.isRegularFile(script), "reference script missing: " + script.toAbsolutePath());
        String env = System.getenv("IPG_PYTHON");
        String py = env == null || env.isBlank() ? "/usr/bin/python3" : env;
        if (py.contains("/") && !Files.isExecutable(Path.of(py))) {
            fail("no Python interpreter at " + py + ": install python3 with numpy or set IPG_PYTHON");
        }
        Process p = new ProcessBuilder(py, script.toString(), ref.toString(), Integer.toString(D)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "reference timed out");
        assertEquals(0, p.exitValue(), "the numpy reference failed (is python3-numpy installed?):\n" + out);
    }

    static float[] tensor(String name) {
        try (SafetensorsFile f = SafetensorsFile.open(ref.resolve("expected.safetensors"))) {
            Matrix m = f.matrix(name);
            float[] v = new float[m.rows() * m.cols()];
            for (int r = 0; r < m.rows(); r++) {
                m.copyRow(r, v, r * m.cols());
            }
            return v;
        }
    }

    static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol * (1 + Math.abs(want[i])), what + " [" + i + "]");
        }
    }

    /** Latents and z_hat of every row of z, as the engine computes them. */
    static float[][] run(Sae sae) {
        float[] z = tensor("z");
        int t = z.length / D;
        float[] f = new float[t * sae.dSae()];
        float[] zHat = new float[t * D];
        for (int r = 0; r < t; r++) {
            Sae.Code c = sae.encode(z, r * D);
            System.arraycopy(c.f, 0, f, r * sae.dSae(), sae.dSae());
            System.arraycopy(sae.decode(c.f, c), 0, zHat, r * D, D);
        }
        return new float[][] {f, zHat};
    }

    void check(Path dir, String name, Site site) {
        Sae sae = SaeFiles.load(dir, site);
        float[][] got = run(sae);
        float[] want = tensor(name + "/latents");
        assertClose(want, got[0], 1e-4, name + " latents");
        assertClose(tensor(name + "/z_hat"), got[1], 1e-4, name + " z_hat");
        int active = 0;
        for (float v : want) {
            active += v != 0 ? 1 : 0;
        }
        assertTrue(active > 0, name + ": the reference has active latents");
    }

    @Test
    void saeLensDirectoriesGiveNumpysLatents() {
        for (String n : new String[] {"saelens_topk", "saelens_jumprelu", "saelens_relu_pre6_layer_norm", "saelens_topk_pre6_norm_rescale"}) {
            check(ref.resolve(n), n, null);
        }
        Sae topk = SaeLensFormat.read(ref.resolve("saelens_topk"));
        assertEquals(Sae.Activation.TOPK, topk.activation());
        assertEquals(5, topk.k());
        assertEquals(Site.parse("blocks.1.hook_resid_post"), topk.site());
        assertEquals(Sae.Normalization.LAYER_NORM, SaeLensFormat.read(ref.resolve("saelens_relu_pre6_layer_norm")).normalization());
        assertEquals(5, SaeLensFormat.read(ref.resolve("saelens_topk_pre6_norm_rescale")).k());
    }

    @Test
    void sparsifyRunWithOneDirectoryPerHookPointGivesNumpysLatents() {
        Path run = ref.resolve("sparsify_run");
        check(run, "sparsify_layers.0", Site.parse("blocks.0.hook_resid_post"));
        check(run, "sparsify_layers.1", Site.parse("blocks.1.hook_resid_post"));
        check(run.resolve("layers.1"), "sparsify_layers.1", null);
        assertEquals(48, SaeFiles.load(run.resolve("layers.0"), null).dSae(), "num_latents 0: d_in * expansion_factor");
        var e = assertThrows(IpgException.class, () -> SaeFiles.load(run, null));
        assertTrue(e.getMessage().contains("2 hook points"), e.getMessage());
        e = assertThrows(IpgException.class, () -> SaeFiles.load(run, Site.parse("blocks.5.hook_resid_post")));
        assertTrue(e.getMessage().contains("no SAE for blocks.5.hook_resid_post"), e.getMessage());
    }

    @Test
    void writtenDirectoriesReadBackInBothFormats() {
        Sae a = SaeLensFormat.read(ref.resolve("saelens_jumprelu"));
        SaeLensFormat.write(a, tmp.resolve("lens"), "tiny");
        Sae b = SaeFiles.load(tmp.resolve("lens"), null);
        assertArrayEquals(run(a)[0], run(b)[0]);
        assertArrayEquals(a.threshold(), b.threshold());
        Sae s = SparsifyFormat.read(ref.resolve("sparsify_run").resolve("layers.1"));
        Path dir = SparsifyFormat.write(s, tmp.resolve("run"));
        assertEquals("layers.1", dir.getFileName().toString());
        Sae s2 = SaeFiles.load(tmp.resolve("run"), Site.parse("blocks.1.hook_resid_post"));
        assertArrayEquals(s.wEnc(), s2.wEnc());
        assertArrayEquals(s.wDec(), s2.wDec());
        assertArrayEquals(run(s)[0], run(s2)[0]);
        SaeLensFormat.write(s, tmp.resolve("lens2"), "tiny");
        assertArrayEquals(run(s)[0], run(SaeFiles.load(tmp.resolve("lens2"), null))[0], "sparsify -> SAELens keeps the latents");
    }

    static void expectError(Path dir, String... fragments) {
        var e = assertThrows(IpgException.class, () -> SaeFiles.load(dir, null));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    Path copyOf(String name) throws IOException {
        Path src = ref.resolve(name);
        Path dst = tmp.resolve(name + "-" + System.nanoTime());
        Files.createDirectories(dst);
        try (var s = Files.list(src)) {
            for (Path p : s.toList()) {
                Files.copy(p, dst.resolve(p.getFileName()));
            }
        }
        return dst;
    }

    void edit(Path dir, String from, String to) throws IOException {
        Path cfg = dir.resolve("cfg.json");
        String s = Files.readString(cfg);
        assertTrue(s.contains(from), s);
        Files.writeString(cfg, s.replace(from, to));
    }

    @Test
    void badDirectoriesEndInOneErrorNamingFileAndField() throws IOException {
        Path d = copyOf("saelens_topk");
        edit(d, "\"blocks.1.hook_resid_post\"", "\"blocks.1.hook_mlp_in\"");
        expectError(d, "cfg.json", "hook_name 'blocks.1.hook_mlp_in' is not an ipg site");
        d = copyOf("saelens_topk");
        edit(d, "\"topk\"", "\"gated\"");
        expectError(d, "cfg.json", "architecture 'gated'");
        d = copyOf("saelens_topk");
        edit(d, "\"normalize_activations\": \"none\"", "\"normalize_activations\": \"expected_average_only_in\"");
        expectError(d, "cfg.json", "normalize_activations 'expected_average_only_in'");
        d = copyOf("saelens_topk");
        edit(d, "\"d_sae\": 48", "\"d_sae\": 47");
        expectError(d, "sae_weights.safetensors", "W_enc", "[16, 48]");
        d = copyOf("saelens_jumprelu");
        edit(d, "\"jumprelu\"", "\"standard\"");
        Sae relu = SaeFiles.load(d, null);
        assertEquals(Sae.Activation.RELU, relu.activation(), "the unused threshold tensor is ignored, as SAELens does");
        Files.createDirectories(tmp.resolve("empty"));
        expectError(tmp.resolve("empty"), "no SAE here");

        Path run = tmp.resolve("run-" + System.nanoTime());
        Files.createDirectories(run);
        Path mlp = run.resolve("layers.1.mlp");
        Files.createDirectories(mlp);
        for (String f : new String[] {"cfg.json", "sae.safetensors"}) {
            Files.copy(ref.resolve("sparsify_run").resolve("layers.1").resolve(f), mlp.resolve(f));
        }
        expectError(mlp, "layers.1.mlp", "not a decoder block");
        Path tr = run.resolve("layers.2");
        Files.createDirectories(tr);
        Files.copy(mlp.resolve("sae.safetensors"), tr.resolve("sae.safetensors"));
        Files.writeString(tr.resolve("cfg.json"), Files.readString(mlp.resolve("cfg.json")).replace("\"transcode\": false", "\"transcode\": true"));
        expectError(tr, "cfg.json", "transcode");

        // d_in against the model's site width
        var spec = new RandomCheckpoint.Spec(Family.LLAMA, 24, 2, 2, 1, 0, 32, 11, 16, dev.ipg.core.tensor.DType.F32, false, false, false);
        ModelConfig cfg = ModelConfig.load(RandomCheckpoint.write(tmp.resolve("m"), spec, 3));
        Sae sae = SaeFiles.load(ref.resolve("saelens_topk"), null);
        var e = assertThrows(IpgException.class, () -> sae.checkIn(cfg));
        assertTrue(e.getMessage().contains("cfg.json") && e.getMessage().contains("d_in 16 does not match the width 24"), e.getMessage());
    }
}
