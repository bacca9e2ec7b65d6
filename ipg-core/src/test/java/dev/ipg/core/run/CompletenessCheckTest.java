package dev.ipg.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.testutil.PyTorchReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The completeness check against numpy, and when the identity is expected to hold. */
class CompletenessCheckTest {

    @TempDir
    Path tmp;

    @Test
    void figuresMatchNumpy() throws IOException {
        float[] scores = {0.25f, -0.125f, 0.5f};
        double[] delta = {0.7, 0.5, 0.9, 0.2};
        double[] sums = {0.6, 0.65, 0.8, 0.4};
        double[] first = {0.1, 0.0, 0.3, -0.1};
        Path script = tmp.resolve("check.py");
        Files.writeString(script, String.join("\n",
                "import numpy as np",
                "s = np.array([0.25, -0.125, 0.5], dtype=np.float32).astype(np.float64).sum()",
                "d = np.array([0.7, 0.5, 0.9, 0.2]); g = np.array([0.6, 0.65, 0.8, 0.4]) - d; f = np.array([0.1, 0.0, 0.3, -0.1])",
                "se = lambda x: x.std(ddof=1) / np.sqrt(len(x))",
                "print(repr(s), repr(d.mean()), repr(se(d)), repr(s - d.mean()), repr(se(g)), repr(f.mean()))", ""));
        String[] out = PyTorchReference.runScript(script, List.of()).strip().split(" ");
        CompletenessCheck c = CompletenessCheck.of(scores, delta, sums, first);
        double[] got = {c.sumScores(), c.meanDelta(), c.deltaStdErr(), c.gap(), c.gapStdErr(), c.meanFirstStep()};
        for (int k = 0; k < got.length; k++) {
            assertEquals(Double.parseDouble(out[k]), got[k], 1e-12, "figure " + k);
        }
        CompletenessCheck one = CompletenessCheck.of(scores, new double[] {0.5}, null, null);
        assertTrue(Double.isNaN(one.deltaStdErr()) && Double.isNaN(one.gapStdErr()) && Double.isNaN(one.meanFirstStep()));
    }

    @Test
    void onlyRlooWithSeveralPointsAndAGradientThatSeesTheChangeIsExpectedToHold() {
        assertTrue(CompletenessCheck.expected("rloo", "tempered", true, 8));
        assertTrue(CompletenessCheck.expected("RLOO", "truncated", false, 8));
        assertFalse(CompletenessCheck.expected("grpo", "tempered", false, 8));
        assertFalse(CompletenessCheck.expected("rloo", "truncated", true, 8));
        assertEquals(CompletenessCheck.Reason.ONE_POINT, CompletenessCheck.why("grpo", "truncated", true, 1));
        assertEquals(CompletenessCheck.Reason.ADVANTAGE, CompletenessCheck.why("grpo", "truncated", true, 2));
        assertEquals(CompletenessCheck.Reason.TRUNCATED_GRADIENT, CompletenessCheck.why("rloo", "truncated", true, 2));
    }
}
