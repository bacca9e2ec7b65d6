package dev.ipg.core.attribution;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ipg.core.IpgException;
import org.junit.jupiter.api.Test;

class AdvantageAndQuadratureTest {

    @Test
    void grpoStandardizesWithTheSampleStandardDeviation() {
        // r = 1, 0, 0, 1, 1: mean 0.6, sample std sqrt(0.3)
        double[] a = Advantage.GRPO.of(new double[] {1, 0, 0, 1, 1});
        double std = Math.sqrt(0.3);
        assertArrayEquals(new double[] {0.4 / (std + 1e-4), -0.6 / (std + 1e-4), -0.6 / (std + 1e-4), 0.4 / (std + 1e-4),
                0.4 / (std + 1e-4)}, a, 1e-12);
    }

    @Test
    void rlooSubtractsTheMeanOfTheOthers() {
        assertArrayEquals(new double[] {3 - 2.5, 1 - 3.5, 4 - 2}, Advantage.RLOO.of(new double[] {3, 1, 4}), 1e-12);
    }

    @Test
    void groupsWithEqualRewardsCarryNoSignal() {
        assertArrayEquals(new double[] {0, 0, 0}, Advantage.GRPO.of(new double[] {1, 1, 1}));
        assertArrayEquals(new double[] {0, 0, 0}, Advantage.RLOO.of(new double[] {0.5, 0.5, 0.5}));
    }

    @Test
    void quadratureRules() {
        var r = Quadrature.RIEMANN_RIGHT.rule(4);
        assertArrayEquals(new double[] {0.25, 0.5, 0.75, 1.0}, r.nodes(), 1e-15);
        assertArrayEquals(new double[] {0.25, 0.25, 0.25, 0.25}, r.weights(), 1e-15);
        assertArrayEquals(new double[] {0.125, 0.375, 0.625, 0.875}, Quadrature.MIDPOINT.rule(4).nodes(), 1e-15);
        var t = Quadrature.TRAPEZOID.rule(3);
        assertArrayEquals(new double[] {0, 0.5, 1}, t.nodes(), 1e-15);
        assertArrayEquals(new double[] {0.25, 0.5, 0.25}, t.weights(), 1e-15);
        // 3-point Gauss-Legendre on [0, 1]: nodes 1/2 -+ sqrt(3/5)/2, weights 5/18, 8/18, 5/18
        var g = Quadrature.GAUSS_LEGENDRE.rule(3);
        double s = Math.sqrt(0.6) / 2;
        assertArrayEquals(new double[] {0.5 - s, 0.5, 0.5 + s}, g.nodes(), 1e-14);
        assertArrayEquals(new double[] {5 / 18.0, 8 / 18.0, 5 / 18.0}, g.weights(), 1e-14);
        // an n-point rule integrates polynomials of degree 2n - 1 exactly: x^9 with 5 points
        var g5 = Quadrature.GAUSS_LEGENDRE.rule(5);
        double integral = 0;
        for (int i = 0; i < 5; i++) {
            integral += g5.weights()[i] * Math.pow(g5.nodes()[i], 9);
        }
        assertEquals(0.1, integral, 1e-14);
        assertThrows(IpgException.class, () -> Quadrature.TRAPEZOID.rule(1));
        assertEquals(Quadrature.GAUSS_LEGENDRE, Quadrature.parse("gauss-legendre"));
        assertThrows(IpgException.class, () -> Quadrature.parse("simpson"));
    }
}
