package dev.ipg.core.attribution;

import dev.ipg.core.run.Seeds;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import java.util.List;
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

    @Test
    void aPathOverAlphaMinToOneMapsTheRuleAffinely() {
        // riemann-right on [0.5, 1] with 4 points: 0.625, 0.75, 0.875, 1 with weights 0.125
        var r = Quadrature.RIEMANN_RIGHT.rule(4, 0.5);
        assertArrayEquals(new double[] {0.625, 0.75, 0.875, 1.0}, r.nodes(), 1e-15);
        assertArrayEquals(new double[] {0.125, 0.125, 0.125, 0.125}, r.weights(), 1e-15);
        // Gauss-Legendre on [0.2, 1] integrates x^5 exactly with 3 points: (1 - 0.2^6) / 6
        var g = Quadrature.GAUSS_LEGENDRE.rule(3, 0.2);
        double integral = 0;
        for (int i = 0; i < 3; i++) {
            integral += g.weights()[i] * Math.pow(g.nodes()[i], 5);
        }
        assertEquals((1 - Math.pow(0.2, 6)) / 6, integral, 1e-14);
        assertArrayEquals(Quadrature.MIDPOINT.rule(3).nodes(), Quadrature.MIDPOINT.rule(3, 0).nodes());
        assertThrows(IpgException.class, () -> Quadrature.MIDPOINT.rule(3, 1.0));
        assertThrows(IpgException.class, () -> new IpgOptions(2, 2, 1, 1, 0, 3, Advantage.RLOO, IpgOptions.BaselineKind.ZERO,
                IpgOptions.SamplingMode.ON_PATH, IpgOptions.Positions.ALL, Quadrature.MIDPOINT, 0, IpgOptions.PolicyGradient.TEMPERED,
                -0.1, Candidates.ALL, Seeds.IPG));
    }

    @Test
    void pathDiagnosticsOfTheMeasuredResidualCurve() {
        // the curve measured on the demo model at blocks.2.hook_resid_post (ipg-method.md §3), Jbar(0) = 0
        double[] alpha = new double[10];
        double[] w = new double[10];
        for (int k = 0; k < 10; k++) {
            alpha[k] = (k + 1) / 10.0;
            w[k] = 0.1;
        }
        double[] jbar = {0, 0, .02, .04, .14, .36, .62, .75, .87, .82};
        // contributions: most of the sum at alpha = 0.3 .. 0.6
        double[] c = {0, 0, .05, .10, .15, .15, .04, .01, 0, 0};
        var d = PathDiagnostics.of("s", 0, alpha, w, jbar, c, 0, 0.82, 0.82, 0.05, 0);
        assertEquals(0.87, d.range(), 1e-12);
        // far: |Jbar - 0.82| > 0.435, i.e. alpha 0.1 .. 0.6
        boolean[] far = new boolean[10];
        for (int k = 0; k < 10; k++) {
            far[k] = d.points().get(k).far();
        }
        assertArrayEquals(new boolean[] {true, true, true, true, true, true, false, false, false, false}, far);
        assertEquals(0.15 / 0.5, d.points().get(4).share(), 1e-12);
        assertEquals(1, d.warnings().size(), d.warnings().toString());
        assertTrue(d.warnings().getFirst().startsWith("s: 90% of the summed scores"), d.warnings().getFirst());
        // the same curve with the scores from the points near 1: no warning
        double[] late = {0, 0, 0, 0, 0, 0, .1, .2, .1, .1};
        assertEquals(List.of(), PathDiagnostics.of("s", 0, alpha, w, jbar, late, 0, 0.82, 0.82, 0.05, 0).warnings());
    }

    @Test
    void pathDiagnosticsWhenTheChangeLiesBeforeTheFirstPoint() {
        // Jbar flat on [0.1, 1], all of the change below alpha = 0.1, scores summing to 0
        double[] alpha = {0.25, 0.5, 0.75, 1};
        double[] w = {0.25, 0.25, 0.25, 0.25};
        double[] jbar = {0.9, 0.9, 0.91, 0.9};
        double[] c = {0.01, -0.02, 0.01, 0};
        var d = PathDiagnostics.of("s", 0, alpha, w, jbar, c, 0.05, 0.9, 0.85, 0.03, 0.85);
        assertEquals(1, d.warnings().size(), d.warnings().toString());
        assertTrue(d.warnings().getFirst().contains("the change lies before the first path point alpha_1 = 0.25"), d.warnings().getFirst());
        // within noise: no warning
        assertEquals(List.of(), PathDiagnostics.of("s", 0, alpha, w, jbar, c, 0.05, 0.9, 0.85, 0.5, 0.85).warnings());
        // a one-point path (raw policy gradient) is not an integral: no warning either
        assertEquals(List.of(), PathDiagnostics.of("s", 0, new double[] {1}, new double[] {1}, new double[] {0.9}, new double[] {0.001},
                0.05, 0.9, 0.85, 0.03, 0.85).warnings());
    }
}
