package dev.ipg.core.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.KernelsProvider;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * SiLU and the tanh GELU have one definition, the kernels': the activations of the MLP are
 * exactly the kernels' values (whatever the implementation), and config names map to them.
 */
class ActivationTest {

    private static float[] rand(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 24 - 12);
        }
        return x;
    }

    @Test
    void mlpEvaluatesTheKernels() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 37;
        for (Kernels k : new Kernels[] {KernelsProvider.scalar(), KernelsProvider.lookup()}) {
            float[] g = rand(r, n);
            float[] u = rand(r, n);
            float[] silu = g.clone();
            k.silu(silu, 0, n);
            float[] gelu = g.clone();
            k.geluTanh(gelu, 0, n);
            assertArrayEquals(silu, Mlp.plainForward(k, Activation.SILU, g, n), k.name());
            assertArrayEquals(gelu, Mlp.plainForward(k, Activation.GELU_TANH, g, n), k.name());
            float[] gated = new float[n];
            k.siluMul(g, 0, u, 0, gated, 0, n);
            assertArrayEquals(gated, Mlp.gatedForward(k, Activation.SILU, g, u, n), k.name());
            float[] geglu = Mlp.gatedForward(k, Activation.GELU_TANH, g, u, n);
            for (int i = 0; i < n; i++) {
                assertEquals(gelu[i] * u[i], geglu[i], k.name());
            }
            float[] dSilu = new float[n];
            k.siluGrad(g, 0, dSilu, 0, n);
            float[] dGelu = new float[n];
            k.geluTanhGrad(g, 0, dGelu, 0, n);
            float[] dm = rand(r, n);
            float[] da = new float[n];
            Mlp.plainBackward(k, Activation.SILU, dm, g, n, da);
            float[] db = new float[n];
            Mlp.plainBackward(k, Activation.GELU_TANH, dm, g, n, db);
            float[] dg = new float[n];
            float[] du = new float[n];
            Mlp.gatedBackward(k, Activation.SILU, dm, g, u, n, dg, du);
            for (int i = 0; i < n; i++) {
                // the backward accumulates into zeros: 0 + (-0) is +0
                assertEquals(0f + dm[i] * dSilu[i], da[i], k.name());
                assertEquals(0f + dm[i] * dGelu[i], db[i], k.name());
                assertEquals(0f + dm[i] * u[i] * dSilu[i], dg[i], k.name());
                assertEquals(0f + dm[i] * silu[i], du[i], k.name());
            }
        }
    }

    @Test
    void configNamesMapToTheKernels() {
        assertEquals(Activation.SILU, Activation.fromHf("silu"));
        assertEquals(Activation.SILU, Activation.fromHf("swish"));
        for (String s : new String[] {"gelu_new", "gelu_pytorch_tanh", "gelu_fast"}) {
            assertEquals(Activation.GELU_TANH, Activation.fromHf(s));
        }
        assertEquals(Activation.GELU, Activation.fromHf("gelu"));
        assertEquals(Activation.RELU, Activation.fromHf("relu"));
    }
}
