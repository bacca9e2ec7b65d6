package dev.ipg.core.attribution.baselines;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The two-stage ranking on hand-worked vectors: candidates first by the second stage, the rest by the first. */
class RefinedRankingTest {

    @Test
    void candidatesComeFirstInTheSecondStagesOrderThenTheRestInTheFirsts() {
        // first stage ranks 3 > 0 > 4 > 1 > 2 > 5; its top 3 {0, 3, 4} are refined: 4 (0.5) > 0 (0.2) > 3 (-0.1)
        float[] first = {0.8f, 0.3f, 0.1f, 0.9f, 0.5f, -1f};
        float[] second = {0.2f, 0f, 0f, -0.1f, 0.5f, 0f};
        // order 4, 0, 3, then 1, 2, 5: scores are the number of components ranked below
        assertArrayEquals(new float[] {4, 2, 1, 3, 5, 0}, RefinedRanking.scores(first, second, new int[] {0, 3, 4}));
        // a candidate with a negative second-stage score still ranks above every non-candidate, whatever its first score
        assertArrayEquals(new float[] {4, 5, 2, 3, 1, 0},
                RefinedRanking.scores(new float[] {9, 1, 7, 8, 6, 5}, new float[] {-2, -1, 0, 0, 0, 0}, new int[] {0, 1}));
        // ties by the lower index, in both parts
        assertArrayEquals(new float[] {3, 2, 1, 0}, RefinedRanking.scores(new float[] {0, 0, 1, 1}, new float[] {1, 1, 0, 0}, new int[] {0, 1}));
    }

    @Test
    void refusesMismatchedWidthsAndRepeatedCandidates() {
        assertThrows(IllegalArgumentException.class, () -> RefinedRanking.scores(new float[3], new float[2], new int[] {0}));
        assertThrows(IllegalArgumentException.class, () -> RefinedRanking.scores(new float[3], new float[3], new int[] {1, 1}));
    }
}
