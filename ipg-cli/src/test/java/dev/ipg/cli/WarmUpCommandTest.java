package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.tensor.Matrix;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ipg warm-up}, the launcher's start-up-cache workload: every step runs and writes what it should. */
class WarmUpCommandTest {

    @TempDir
    Path tmp;

    @Test
    void runsEveryStepOnBothWeightTypesAndTheDemoModel() throws Exception {
        Path work = tmp.resolve("work");
        String[] r = TrainDemoCommandTest.run("warm-up", "--work", work.toString(), "--demo", DemoCommandTest.bundled().toString(),
                "--threads", "2");
        assertEquals("0", r[0], r[2]);
        for (String d : new String[] {"F32", "BF16"}) {
            assertTrue(r[2].contains("ipg warm-up: logits"), r[2]);
            try (SafetensorsFile f = SafetensorsFile.open(work.resolve("logits-" + d + ".safetensors"))) {
                Matrix logits = f.matrix("logits");
                assertEquals(128, logits.rows());
                assertEquals(4096, logits.cols());
                float[] row = new float[logits.cols()];
                logits.copyRow(127, row, 0);
                for (float x : row) {
                    assertTrue(Float.isFinite(x));
                }
                assertEquals(128, f.matrix("grad").rows());
            }
            assertTrue(Files.isRegularFile(work.resolve("wide-" + d.toLowerCase() + "/model.safetensors")));
        }
        assertTrue(Files.isRegularFile(work.resolve("attribution/scores.safetensors")));
    }

    @Test
    void refusesAMissingDemoModelInOneLine() {
        String[] r = TrainDemoCommandTest.run("warm-up", "--demo", tmp.resolve("nothing").toString(), "--quiet");
        assertEquals("1", r[0], r[2]);
        assertEquals(1, r[2].strip().lines().count(), r[2]);
        assertTrue(r[2].contains("demo model is missing"), r[2]);
    }
}
