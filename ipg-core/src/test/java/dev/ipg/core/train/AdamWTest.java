package dev.ipg.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AdamWTest {

    @Test
    void firstStepMatchesTheFormulaByHand() {
        float[] p = {1.0f, -2.0f, 0.3f};
        float[] q = {0.5f, -0.25f};
        AdamW opt = new AdamW(params(p, q), Set.of("p"), new AdamW.Hyper(0.9, 0.95, 1e-8, 0.1));
        opt.step(grads(new float[] {0.5f, -0.1f, 0f}, new float[] {2f, -3f}), 0.01);
        // t = 1: m_hat = g, v_hat = g^2, so the Adam step is lr * g / (|g| + eps); decay multiplies p by 1 - lr * wd
        assertEquals(1.0 * (1 - 0.01 * 0.1) - 0.01 * 0.5 / (0.5 + 1e-8), p[0], 1e-7);
        assertEquals(-2.0 * (1 - 0.01 * 0.1) + 0.01 * 0.1 / (0.1 + 1e-8), p[1], 1e-7);
        assertEquals(0.3 * (1 - 0.01 * 0.1), p[2], 1e-7); // zero gradient: only the decay
        assertEquals(0.5 - 0.01 * 2 / (2 + 1e-8), q[0], 1e-7); // q is not decayed
        assertEquals(-0.25 + 0.01 * 3 / (3 + 1e-8), q[1], 1e-7);
        assertEquals(1, opt.steps());
    }

    @Test
    void twoStepsMatchTorchAdamW() {
        // expected values: torch.optim.AdamW (float64), param groups {p: weight_decay 0.1}, {q: 0},
        // lr 0.01 then 0.005, betas (0.9, 0.95), eps 1e-8, the same gradients
        float[] p = {1.0f, -2.0f, 0.3f};
        float[] q = {0.5f, -0.25f};
        AdamW opt = new AdamW(params(p, q), Set.of("p"), new AdamW.Hyper(0.9, 0.95, 1e-8, 0.1));
        opt.step(grads(new float[] {0.5f, -0.1f, 0f}, new float[] {2f, -3f}), 0.01);
        opt.step(grads(new float[] {-0.2f, 0.4f, 1e-3f}, new float[] {1f, 0.5f}), 0.005);
        assertEquals(0.9867615173392685, p[0], 2e-7);
        assertEquals(-1.9897730097775568, p[1], 2e-7);
        assertEquals(0.2958754013035547, p[2], 2e-7);
        assertEquals(0.48530353473846716, q[0], 2e-7);
        assertEquals(-0.23727469541758228, q[1], 2e-7);
    }

    private static Map<String, float[]> params(float[] p, float[] q) {
        Map<String, float[]> m = new LinkedHashMap<>();
        m.put("p", p);
        m.put("q", q);
        return m;
    }

    private static Map<String, float[]> grads(float[] gp, float[] gq) {
        return params(gp, gq);
    }
}
