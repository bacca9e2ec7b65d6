package dev.ipg.core.attribution.baselines;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** ReasonScore on latents small enough to compute by hand. */
class SaeReasonScoreTest {

    @Test
    void reasonScoreIsTheShareDifferenceTimesTheWordEntropy() {
        // positions: near word 0, near word 1, elsewhere, elsewhere; latents (2 per position)
        float[] lat = {2, 1, 2, 0, 0, 1, 0, 1};
        int[] words = {0, 1, -1, -1};
        // latent 0: share 4/2 / 2.5 = 0.8 near words, 0 elsewhere, equal on both words (H = 1)
        // latent 1: share 0.2 near words, 1 elsewhere, only on word 0 (H = 0)
        float[] s = SaeReasonScore.score(lat, words, 2, 2, 0.7);
        assertEquals(0.8, s[0], 1e-6);
        assertEquals(0.0, s[1], 1e-6);
        float[] flat = SaeReasonScore.score(lat, words, 2, 2, 0.0);
        assertEquals(-0.8, flat[1], 1e-6, "without the entropy term: 0.2 - 1");
        // one word present: H = 1
        float[] one = SaeReasonScore.score(lat, new int[] {0, 0, -1, -1}, 2, 2, 0.7);
        assertEquals(-0.8, one[1], 1e-6);
    }
}
