package dev.ipg.core.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The protocol's statistics on cases whose values are known exactly (or from scipy). */
class StatisticsTest {

    @Test
    void bootstrapOfTwoProblemsHasTheEnumerableInterval() {
        // resampled means of {0, 1} are 0, 1/2, 1 with probabilities 1/4, 1/2, 1/4: the 2.5 % and
        // 97.5 % quantiles are 0 and 1
        var i = PairedBootstrap.of(new double[] {0, 1}, 4000, 3, 0.95);
        assertEquals(0.5, i.mean(), 0);
        assertEquals(0, i.lower(), 0);
        assertEquals(1, i.upper(), 0);
        assertTrue(!i.above() && !i.below());
    }

    @Test
    void bootstrapIntervalOfAConstantDifferenceIsThatConstant() {
        var i = PairedBootstrap.of(new double[] {-0.25, -0.25, -0.25}, 500, 1, 0.9);
        assertEquals(-0.25, i.lower(), 0);
        assertEquals(-0.25, i.upper(), 0);
        assertTrue(i.below());
    }

    @Test
    void bootstrapIntervalHasTheNormalWidthForManyProblemsAndIsSeeded() {
        // 2000 paired differences in {-1, 0, 1}: the 95 % interval is mean +- 1.96 sd / sqrt(n) to a few percent
        SplittableRandom r = new SplittableRandom(11);
        double[] d = new double[2000];
        for (int i = 0; i < d.length; i++) {
            d[i] = r.nextInt(3) - 1 + (i % 5 == 0 ? 1 : 0);
        }
        double mean = 0;
        for (double x : d) {
            mean += x / d.length;
        }
        double var = 0;
        for (double x : d) {
            var += (x - mean) * (x - mean) / (d.length - 1);
        }
        double half = 1.959964 * Math.sqrt(var / d.length);
        var i = PairedBootstrap.of(d, 4000, 5, 0.95);
        assertEquals(mean, i.mean(), 1e-12);
        assertEquals(mean - half, i.lower(), 0.08 * half);
        assertEquals(mean + half, i.upper(), 0.08 * half);
        assertEquals(i, PairedBootstrap.of(d, 4000, 5, 0.95));
        assertNotEquals(i.lower(), PairedBootstrap.of(d, 4000, 6, 0.95).lower());
    }

    @Test
    void mcNemarIsTheExactBinomialTestOfTheDiscordantPairs() {
        // b = 1, c = 9: 2 (C(10,0) + C(10,1)) / 2^10 = 0.021484375 (scipy.stats.binomtest(1, 10).pvalue)
        boolean[] a = new boolean[14];
        boolean[] b = new boolean[14];
        a[0] = true;
        for (int i = 1; i < 10; i++) {
            b[i] = true;
        }
        a[12] = b[12] = true; // concordant pairs do not count
        var r = McNemar.of(a, b);
        assertEquals(1, r.firstOnly());
        assertEquals(9, r.secondOnly());
        assertEquals(0.021484375, r.p(), 1e-15);
        assertEquals(0.005222879350185394, McNemar.exactP(23, 7), 1e-15); // 2 sum_{i<=7} C(30, i) / 2^30
        assertEquals(1, McNemar.exactP(5, 5), 0);
        assertEquals(1, McNemar.exactP(0, 0), 0);
    }

    @Test
    void diceCountsSharedComponentsOverBothSizes() {
        assertEquals(2.0 / 3, Dice.of(new int[] {1, 2, 3}, new int[] {2, 3, 4}), 1e-15);
        assertEquals(1, Dice.of(new int[] {5, 1}, new int[] {1, 5}), 0);
        assertEquals(0, Dice.of(new int[] {0}, new int[] {1}), 0);
    }

    @Test
    void spearmanAveragesTiedRanksLikeScipy() {
        // scipy.stats.spearmanr([1,2,3,4,5], [5,6,7,8,7]).correlation
        assertEquals(0.8207826816681233, Spearman.of(new double[] {1, 2, 3, 4, 5}, new double[] {5, 6, 7, 8, 7}), 1e-12);
        assertEquals(-1, Spearman.of(new double[] {1, 2, 3}, new double[] {30, 20, 10}), 1e-15);
        assertArrayEquals(new double[] {2.5, 1, 2.5, 4}, Spearman.ranks(new double[] {3, 1, 3, 9}));
        assertTrue(Double.isNaN(Spearman.of(new double[] {1, 1}, new double[] {1, 2})));
    }

    @Test
    void precisionAtKCountsTheTopKOfTheTruthAmongTheMethodsTopK() {
        double[] truth = {0.9, 0.1, 0.5, 0.8, 0.0};   // top 2: {0, 3}; top 3: {0, 3, 2}
        double[] method = {0.2, 0.7, 0.1, 0.9, 0.3};  // top 2: {3, 1}; top 3: {3, 1, 4}
        assertEquals(0.5, PrecisionAtK.of(method, truth, 2), 0);
        assertEquals(1.0 / 3, PrecisionAtK.of(method, truth, 3), 1e-15);
        assertEquals(1, PrecisionAtK.of(truth, truth, 4), 0);
        assertArrayEquals(new int[] {1, 2, 0}, PrecisionAtK.top(new double[] {1, 2, 2}, 3));
        assertThrows(IllegalArgumentException.class, () -> PrecisionAtK.of(method, truth, 0));
    }

    @Test
    void curveAreaIsTheTrapezoidOnALog2AxisOverItsSpan() {
        // k = 1, 2, 4 -> log2 k = 0, 1, 2: ((0 - 2) / 2 + (-2 - 4) / 2) / 2 = -2
        assertEquals(-2, CurveArea.of(new int[] {1, 2, 4}, new double[] {0, -2, -4}), 1e-15);
        // uneven spacing: k = 1, 4, 8 -> 0, 2, 3: ((1 + 3) / 2 * 2 + (3 + 5) / 2 * 1) / 3 = 8 / 3
        assertEquals(8.0 / 3, CurveArea.of(new int[] {1, 4, 8}, new double[] {1, 3, 5}), 1e-15);
        assertEquals(7, CurveArea.of(new int[] {6}, new double[] {7}), 0);
        double[] w = CurveArea.weights(new int[] {1, 2, 4, 8});
        assertEquals(1, w[0] + w[1] + w[2] + w[3], 1e-15);
        assertThrows(IllegalArgumentException.class, () -> CurveArea.weights(new int[] {2, 2}));
    }

    @Test
    void aDifferenceThatCancelsOnlyUpToRoundingIsZeroNotAWin() {
        double residue = 0.1 + 0.2 - 0.3; // 5.55e-17: zero in real arithmetic
        assertTrue(residue > 0);
        // two of three problems differ by "zero": a quarter of the resamples hold only those, so the lower end is that residue
        var i = PairedBootstrap.of(new double[] {residue, residue, 1.0}, 2000, 0, 0.95);
        assertEquals(0.0, i.lower(), 0.0);
        assertTrue(!i.above(), "an interval starting at rounding error does not exclude zero");
        assertEquals(1.0 / 3, i.mean(), 1e-15);
        assertEquals(1.0, i.upper(), 0.0);
        // a real difference of the same data's scale is kept
        var j = PairedBootstrap.of(new double[] {1e-6, 1e-6, 1.0}, 2000, 0, 0.95);
        assertEquals(1e-6, j.lower(), 1e-18);
        assertTrue(j.above());
    }
}
