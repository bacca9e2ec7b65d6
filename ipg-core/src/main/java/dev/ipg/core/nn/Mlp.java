package dev.ipg.core.nn;

import dev.ipg.core.tensor.Kernels;
import java.util.Arrays;

/**
 * The MLP nonlinearity: gated {@code m = act(g) * u} (SwiGLU, GeGLU) or plain {@code m = act(a)},
 * with the activation evaluated by the kernels (see {@link Activation}).
 */
public final class Mlp {

    private Mlp() {
    }

    /** m = act(g) * u, elementwise over n values. */
    public static float[] gatedForward(Kernels k, Activation act, float[] g, float[] u, int n) {
        float[] m = new float[n];
        if (act == Activation.SILU) {
            k.siluMul(g, 0, u, 0, m, 0, n);   // the same roundings as silu, then the product
            return m;
        }
        System.arraycopy(g, 0, m, 0, n);
        act.apply(k, m, n);
        for (int i = 0; i < n; i++) {
            m[i] *= u[i];
        }
        return m;
    }

    /** dg += dm * u * act'(g); du += dm * act(g). */
    public static void gatedBackward(Kernels k, Activation act, float[] dm, float[] g, float[] u, int n, float[] dg,
                                     float[] du) {
        float[] a = Arrays.copyOf(g, n);
        act.apply(k, a, n);
        float[] d = new float[n];
        act.derivative(k, g, d, n);
        for (int i = 0; i < n; i++) {
            dg[i] += dm[i] * u[i] * d[i];
            du[i] += dm[i] * a[i];
        }
    }

    /** m = act(a), elementwise over n values. */
    public static float[] plainForward(Kernels k, Activation act, float[] a, int n) {
        float[] m = Arrays.copyOf(a, n);
        act.apply(k, m, n);
        return m;
    }

    /** da += dm * act'(a). */
    public static void plainBackward(Kernels k, Activation act, float[] dm, float[] a, int n, float[] da) {
        float[] d = new float[n];
        act.derivative(k, a, d, n);
        for (int i = 0; i < n; i++) {
            da[i] += dm[i] * d[i];
        }
    }
}
