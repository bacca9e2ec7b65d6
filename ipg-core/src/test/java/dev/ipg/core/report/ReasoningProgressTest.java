package dev.ipg.core.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Steps, normalized progress and bins of the process-level analysis, on texts worked out by hand. */
class ReasoningProgressTest {

    @Test
    void blankLinesSplitStepsAndEachStepGetsAnEqualShareOfProgress() {
        // "Step one.\n\nStep two\n\nAnswer": steps {Step one.}, {Step two}, {Answer}
        String[] pieces = {"Step one", ".\n\n", "Step", " two", "\n\n", "Answer"};
        assertArrayEquals(new int[] {0, 0, 1, 1, 1, 2}, ReasoningProgress.steps(pieces));
        assertEquals(3, ReasoningProgress.stepCount(pieces));
        double[] p = ReasoningProgress.progress(pieces);
        // step s of 3 covers [s/3, (s+1)/3); its n tokens sit at (s + (j + 0.5)/n) / 3
        double[] expected = {0.25 / 3, 0.75 / 3, (1 + 1.0 / 6) / 3, (1 + 0.5) / 3, (1 + 5.0 / 6) / 3, 2.5 / 3};
        assertArrayEquals(expected, p, 1e-12);
        int[] bins = new int[p.length];
        for (int k = 0; k < p.length; k++) {
            bins[k] = ReasoningProgress.bin(p[k], 8);
        }
        // 8 * progress = 0.67, 2.0, 3.11, 4.0, 4.89, 6.67
        assertArrayEquals(new int[] {0, 2, 3, 4, 4, 6}, bins);
    }

    @Test
    void aTextWithoutBlankLinesIsOneStepAndProgressIsTokenPosition() {
        String[] pieces = {"a", " b", "\n", "c", " d"};
        assertArrayEquals(new int[] {0, 0, 0, 0, 0}, ReasoningProgress.steps(pieces));
        assertArrayEquals(new double[] {0.1, 0.3, 0.5, 0.7, 0.9}, ReasoningProgress.progress(pieces), 1e-12);
    }

    @Test
    void blankLinesWithSpacesCountAndWhitespaceOnlyStepsJoinTheNextStep() {
        // a leading blank line makes an empty step before "x"; "\n \t\n" separates x from y
        String[] pieces = {"\n\n", "x", "\n", " \t", "\n", "y", "\n\n", "\n\n"};
        int[] steps = ReasoningProgress.steps(pieces);
        // the leading separator joins step "x"; the "\n \t\n" tokens stay with x; the trailing blank lines join "y"
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 1, 1, 1}, steps);
    }

    @Test
    void aCharacterSplitOverTokensDoesNotShiftOffsets() {
        // "é" decoded only at its second token (the first gives ""): offsets still add up
        String[] pieces = {"caf", "", "é.\n\n", "Done"};
        assertArrayEquals(new int[] {0, 0, 0, 1}, ReasoningProgress.steps(pieces));
    }

    @Test
    void binsClampTheEnds() {
        assertEquals(0, ReasoningProgress.bin(0.0, 8));
        assertEquals(7, ReasoningProgress.bin(1.0, 8));
        assertEquals(3, ReasoningProgress.bin(0.49, 8));
        assertEquals(4, ReasoningProgress.bin(0.5, 8));
    }

    @Test
    void frequencyCountsTokensAboveTheThresholdPerBin() {
        List<float[]> acts = List.of(new float[] {0.1f, -3f, 2f, 0f}, new float[] {5f, 0.2f});
        List<int[]> bins = List.of(new int[] {0, 0, 1, 3}, new int[] {1, 3});
        double[] f = ReasoningProgress.frequency(acts, bins, 4, 1.0);
        // bin 0: {0.1, -3} -> 1 of 2; bin 1: {2, 5} -> 2 of 2; bin 2: empty; bin 3: {0, 0.2} -> 0 of 2
        assertEquals(0.5, f[0]);
        assertEquals(1.0, f[1]);
        assertTrue(Double.isNaN(f[2]));
        assertEquals(0.0, f[3]);
    }

    @Test
    void absQuantileInterpolatesBetweenOrderStatistics() {
        // |x| sorted: 0, 1, 2, 3, 4 -> the 0.9 quantile sits at position 3.6: 3 + 0.6 * (4 - 3)
        List<float[]> v = List.of(new float[] {-4f, 1f}, new float[] {0f, -2f, 3f});
        assertEquals(3.6, ReasoningProgress.absQuantile(v, 0.9), 1e-12);
        assertEquals(2.0, ReasoningProgress.absQuantile(v, 0.5), 1e-12);
    }
}
