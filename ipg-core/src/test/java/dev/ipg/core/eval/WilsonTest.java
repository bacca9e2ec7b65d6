package dev.ipg.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Reference values worked out from the closed form with z = 1.959964 (z^2 = 3.841459):
 * <ul>
 *   <li>0 of 10: upper = z^2 / (n + z^2) = 3.841459 / 13.841459 = 0.277533;
 *   <li>5 of 10: center 0.5, half-width z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2))
 *       = 1.416010 * sqrt(0.025 + 0.009604) = 1.416010 * 0.186021 = 0.263407;
 *   <li>82 of 100: center (0.82 + 0.019207) / 1.038415 = 0.808162, half-width 0.074836,
 *       i.e. [0.7333, 0.8830] as in published tables.
 * </ul>
 */
class WilsonTest {

    @Test
    void zeroOfTen() {
        var w = Wilson.of(0, 10);
        assertEquals(0.0, w.lower());
        assertEquals(0.277533, w.upper(), 1e-6);
        assertEquals(0.0, w.proportion());
    }

    @Test
    void fiveOfTen() {
        var w = Wilson.of(5, 10);
        assertEquals(0.236593, w.lower(), 1e-6);
        assertEquals(0.763407, w.upper(), 1e-6);
        assertEquals(0.5, w.proportion());
    }

    @Test
    void eightyTwoOfHundred() {
        var w = Wilson.of(82, 100);
        assertEquals(0.733326, w.lower(), 1e-6);
        assertEquals(0.882998, w.upper(), 1e-6);
    }

    @Test
    void allSuccessesMirrorNoSuccesses() {
        var w = Wilson.of(10, 10);
        assertEquals(1 - 0.277533, w.lower(), 1e-6);
        assertEquals(1.0, w.upper());
    }

    @Test
    void noTrialsTellNothing() {
        var w = Wilson.of(0, 0);
        assertEquals(0.0, w.lower());
        assertEquals(1.0, w.upper());
    }

    @Test
    void impossibleCountsAreBugs() {
        assertThrows(IllegalArgumentException.class, () -> Wilson.of(11, 10));
        assertThrows(IllegalArgumentException.class, () -> Wilson.of(-1, 10));
    }
}
