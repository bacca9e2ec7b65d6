package dev.ipg.core.nn;


/** The MLP nonlinearity: gated {@code m = act(g) * u} (SwiGLU) or plain {@code m = act(a)}. */
public final class Mlp {

    private Mlp() {
    }

    /** m = act(g) * u, elementwise over n values. */
    public static float[] gatedForward(Activation act, float[] g, float[] u, int n) {
        float[] m = new float[n];
        for (int i = 0; i < n; i++) {
            m[i] = act.apply(g[i]) * u[i];
        }
        return m;
    }

    /** dg += dm * u * act'(g); du += dm * act(g). */
    public static void gatedBackward(Activation act, float[] dm, float[] g, float[] u, int n, float[] dg, float[] du) {
        for (int i = 0; i < n; i++) {
            dg[i] += dm[i] * u[i] * act.derivative(g[i]);
            du[i] += dm[i] * act.apply(g[i]);
        }
    }

    /** m = act(a), elementwise over n values. */
    public static float[] plainForward(Activation act, float[] a, int n) {
        float[] m = new float[n];
        for (int i = 0; i < n; i++) {
            m[i] = act.apply(a[i]);
        }
        return m;
    }

    /** da += dm * act'(a). */
    public static void plainBackward(Activation act, float[] dm, float[] a, int n, float[] da) {
        for (int i = 0; i < n; i++) {
            da[i] += dm[i] * act.derivative(a[i]);
        }
    }
}
