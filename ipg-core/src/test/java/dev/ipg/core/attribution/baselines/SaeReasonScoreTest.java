package dev.ipg.core.attribution.baselines;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ipg.core.IpgException;
import org.junit.jupiter.api.Test;

/** ReasonScore (Galichin et al. 2025, their compute_score.py) on latents small enough to compute by hand. */
class SaeReasonScoreTest {

    private static final boolean T = true;
    private static final boolean F = false;

    /** -sum p log p / log n over the given probabilities. */
    private static double h(double n, double... p) {
        double s = 0;
        for (double x : p) {
            s -= x > 0 ? x * Math.log(x) : 0;
        }
        return s / Math.log(n);
    }

    @Test
    void reasonScoreIsTheEntropyWeightedReasoningShareMinusTheShareElsewhere() {
        // 5 positions, 2 latents; word 0 near positions 0-1, word 1 near 1-2 (position 1 is in both)
        float[] lat = {
            2, 0,
            4, 1,
            0, 3,
            1, 0,
            1, 2};
        boolean[][] near = {{T, T, F, F, F}, {F, T, T, F, F}};
        // D_R = {0, 1, 2}: means (2, 4/3), shares 0.6 and 0.4; D_~R = {3, 4}: means (1, 1), shares 0.5 and 0.5
        // D_0 = {0, 1}: means (3, 0.5); D_1 = {1, 2}: means (2, 2)
        // latent 0: p = (3/5, 2/5); latent 1: p = (0.5/2.5, 2/2.5) = (0.2, 0.8)
        float[] s = SaeReasonScore.score(lat, near, 2, 0.7);
        assertEquals(0.6 * Math.pow(h(2, 0.6, 0.4), 0.7) - 0.5, s[0], 1e-6);
        assertEquals(0.4 * Math.pow(h(2, 0.2, 0.8), 0.7) - 0.5, s[1], 1e-6);
        // alpha = 0: the entropy term drops out, only the share difference is left
        float[] flat = SaeReasonScore.score(lat, near, 2, 0.0);
        assertEquals(0.1, flat[0], 1e-6);
        assertEquals(-0.1, flat[1], 1e-6);
    }

    @Test
    void theEntropyIsNormalizedByTheWholeVocabularyAndAbsentWordsCountAsZero() {
        float[] lat = {
            2, 0,
            4, 1,
            0, 3,
            1, 0,
            1, 2};
        // a third word that never occurs: p has a 0 entry and the entropy is divided by log 3
        boolean[][] near = {{T, T, F, F, F}, {F, T, T, F, F}, {F, F, F, F, F}};
        float[] s = SaeReasonScore.score(lat, near, 2, 1.0);
        assertEquals(0.6 * h(3, 0.6, 0.4) - 0.5, s[0], 1e-6);
        assertEquals(0.4 * h(3, 0.2, 0.8) - 0.5, s[1], 1e-6);
        // one word in the vocabulary: H = 1; D_R = {0, 1}: means (3, 0.5), shares 6/7 and 1/7; D_~R = {2, 3, 4}: (2/3, 5/3)
        float[] one = SaeReasonScore.score(lat, new boolean[][] {{T, T, F, F, F}}, 2, 0.7);
        assertEquals(6.0 / 7 - 2.0 / 7, one[0], 1e-6);
        assertEquals(1.0 / 7 - 5.0 / 7, one[1], 1e-6);
        // a latent fired by one of two words only has H = 0: its score is minus its share elsewhere
        float[] tied = SaeReasonScore.score(new float[] {1, 1, 0, 1, 1, 1}, new boolean[][] {{T, F, F}, {F, T, F}}, 2, 0.7);
        assertEquals(2.0 / 3 - 0.5, tied[1], 1e-6, "latent 1 fires equally on both words: H = 1");
        assertEquals(-0.5, tied[0], 1e-6, "latent 0 fires on word 0 only: H = 0");
    }

    @Test
    void windowsCoverBeforeAndAfterEveryMatchedToken() {
        boolean[][] at = {{F, F, T, F, F, F, F}, {T, F, F, F, F, F, T}};
        boolean[][] near = SaeReasonScore.windows(at, 1, 2);
        assertArrayEquals(new boolean[] {F, T, T, T, T, F, F}, near[0]);
        assertArrayEquals(new boolean[] {T, T, T, F, F, T, T}, near[1]);
        assertThrows(IpgException.class, () -> SaeReasonScore.windows(at, -1, 2));
    }

    @Test
    void positionsAllOnOneSideAreRefused() {
        IpgException e = assertThrows(IpgException.class,
                () -> SaeReasonScore.score(new float[] {1, 2}, new boolean[][] {{F, F}}, 1, 0.7));
        assertEquals("sae-r: no generated position is near a reasoning word; use more problems, a longer budget or other --words",
                e.getMessage());
    }
}
