package dev.ipg.core.nn;

import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Matrix;

/** {@code y = x / sqrt(mean(x²) + eps) * w}, row by row. */
public final class RmsNorm {

    private RmsNorm() {
    }

    /**
     * x and y are (rows, n) (y may be x); w is (n). Stores each row's reciprocal RMS r in
     * {@code inv[row]} when inv is non-null (the backward needs it).
     */
    public static void forward(Kernels k, float[] x, int rows, int n, Matrix w, float eps, float[] y, float[] inv) {
        for (int r = 0; r < rows; r++) {
            float ir = k.rmsnorm(x, r * n, w, 0f, eps, y, r * n, n);
            if (inv != null) {
                inv[r] = ir;
            }
        }
    }

    /**
     * With g = dy * w: dx = r * g - r³ / n * x * sum(g * x) (accumulated into dx), and
     * dw += dy * x * r.
     */
    public static void backward(float[] dy, float[] x, int rows, int n, Matrix w, float[] inv, float[] dx, float[] dw) {
        float[] wv = new float[n];
        w.copyRow(0, wv, 0);
        for (int row = 0; row < rows; row++) {
            int o = row * n;
            float r = inv[row];
            double dot = 0;
            for (int i = 0; i < n; i++) {
                dot += (double) dy[o + i] * wv[i] * x[o + i];
            }
            float c = (float) (dot * r * r * r / n);
            for (int i = 0; i < n; i++) {
                dx[o + i] += r * dy[o + i] * wv[i] - c * x[o + i];
            }
            if (dw != null) {
                for (int i = 0; i < n; i++) {
                    dw[i] += dy[o + i] * x[o + i] * r;
                }
            }
        }
    }
}
