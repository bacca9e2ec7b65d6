package dev.ipg.core.attribution;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Advantages under importance weights: uniform weights give the plain ones, and a weight counts a sample as repeated. */
class WeightedAdvantageTest {

    private static final double[] R = {1.0, 0.0, 0.5, 2.0};

    @Test
    void uniformWeightsGiveThePlainAdvantages() {
        double[] w = {0.25, 0.25, 0.25, 0.25};
        for (Advantage a : Advantage.values()) {
            assertArrayEquals(a.of(R), a.of(R, w), 1e-12, a.name());
        }
    }

    @Test
    void weightedLeaveOneOutSubtractsTheWeightedMeanOfTheOthers() {
        double[] r = {3.0, 1.0, 2.0};
        double[] w = {0.5, 0.25, 0.25};
        double[] a = Advantage.RLOO.of(r, w);
        // by hand: 3 - (1 + 2) / 2, 1 - (0.5 * 3 + 0.25 * 2) / 0.75, 2 - (0.5 * 3 + 0.25 * 1) / 0.75
        assertArrayEquals(new double[] {1.5, 1 - 2.0 / 0.75, 2 - 1.75 / 0.75}, a, 1e-12);
        // all the weight on one sample: it has no others, its advantage is 0
        assertEquals(0, Advantage.RLOO.of(r, new double[] {1, 0, 0})[0]);
    }

    @Test
    void weightedGrpoUsesTheWeightedMeanAndSpread() {
        double[] r = {3.0, 1.0, 2.0};
        double[] w = {0.5, 0.25, 0.25};
        double mean = 2.25; // 1.5 + 0.25 + 0.5
        double var = 0.5 * 0.5625 + 0.25 * 1.5625 + 0.25 * 0.0625; // = 0.6875
        double std = Math.sqrt(var * 3 / 2.0);
        double[] a = Advantage.GRPO.of(r, w);
        for (int i = 0; i < 3; i++) {
            assertEquals((r[i] - mean) / (std + 1e-4), a[i], 1e-12);
        }
        assertArrayEquals(new double[3], Advantage.GRPO.of(new double[] {1, 1, 1}, w), "equal rewards carry no signal");
    }
}
