package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.tensor.Bf16Compute;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Matrix;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --bf16-compute}: java is the default path bit for bit; native is close to it, or says it cannot run and is java. */
class Bf16ComputeCliTest {

    @TempDir
    Path tmp;

    /** One {@code ipg logits} run: its stderr and the logits it wrote. */
    private record Logits(String err, float[] values) {
    }

    private Logits logits(Path model, String... extra) throws Exception {
        Path out = tmp.resolve("l" + System.nanoTime() + ".safetensors");
        String[] args = new String[8 + extra.length];
        System.arraycopy(new String[] {"logits", "--model", model.toString(), "--token-ids", "5,17,9,200,33,71,2,140", "--out",
                out.toString()}, 0, args, 0, 7);
        args[7] = "--threads=2";
        System.arraycopy(extra, 0, args, 8, extra.length);
        CliTest.Run r = CliTest.run(args);
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            Matrix m = f.matrix("logits");
            float[] all = new float[m.rows() * m.cols()];
            for (int i = 0; i < m.rows(); i++) {
                m.copyRow(i, all, i * m.cols());
            }
            return new Logits(r.err(), all);
        }
    }

    @Test
    void javaIsTheDefaultAndNativeIsCloseOrRefusedInOneLine() throws Exception {
        Path model = tmp.resolve("bf16");
        CliTest.Run made = CliTest.run("random-model", "--out", model.toString(), "--family", "qwen2", "--hidden", "96", "--heads", "4",
                "--kv-heads", "2", "--intermediate", "160", "--vocab", "256", "--dtype", "BF16", "--context", "64");
        assertEquals(0, made.code(), made.err());
        float[] byDefault = logits(model).values();
        assertArrayEquals(byDefault, logits(model, "--bf16-compute", "java").values());
        Logits n = logits(model, "--bf16-compute", "native");
        float[] nat = n.values();
        // whether the native path runs here (the fallback line is printed once per JVM, so it cannot tell)
        if (!KernelsProvider.lookup(Bf16Compute.NATIVE).name().contains("+bf16-")) {
            assertTrue(n.err().lines().filter(l -> l.startsWith("ipg: kernels:")).count() <= 1, n.err());
            assertArrayEquals(byDefault, nat);
        } else {
            double maxAbs = 0;
            double maxDiff = 0;
            for (int i = 0; i < nat.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(byDefault[i]));
                maxDiff = Math.max(maxDiff, Math.abs(nat[i] - byDefault[i]));
            }
            assertTrue(maxDiff > 0, "the native path rounds activations to bf16, so it cannot equal the exact path");
            assertTrue(maxDiff < 0.05 * maxAbs, "native differs by " + maxDiff + " with logits up to " + maxAbs);
        }
    }

    @Test
    void aBadSpellingIsOneLine() {
        CliTest.Run r = CliTest.run("logits", "--model", tmp.toString(), "--token-ids", "1", "--out", tmp.resolve("x").toString(),
                "--bf16-compute", "fast");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("native-amx"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }
}
