package dev.ipg.core.nn;

import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Matrix;

/** {@code y = (x - mean) / sqrt(var + eps) * w + b}, row by row (biased variance, as torch). */
public final class LayerNorm {

    private LayerNorm() {
    }

    /** x and y are (rows, n); stores each row's reciprocal standard deviation in inv when non-null. */
    public static void forward(Kernels k, float[] x, int rows, int n, Matrix w, Matrix b, float eps, float[] y, float[] inv) {
        for (int r = 0; r < rows; r++) {
            float ir = k.layernorm(x, r * n, w, b, eps, y, r * n, n);
            if (inv != null) {
                inv[r] = ir;
            }
        }
    }

    /**
     * With xhat = (x - mean) * r and g = dy * w: dx += r * (g - mean(g) - xhat * mean(g * xhat));
     * dw += dy * xhat; db += dy.
     */
    public static void backward(float[] dy, float[] x, int rows, int n, Matrix w, float[] inv, float[] dx,
                                float[] dw, float[] db) {
        float[] wv = new float[n];
        w.copyRow(0, wv, 0);
        float[] xhat = new float[n];
        for (int row = 0; row < rows; row++) {
            int o = row * n;
            float r = inv[row];
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += x[o + i];
            }
            float mean = (float) (sum / n);
            double mg = 0;
            double mgx = 0;
            for (int i = 0; i < n; i++) {
                xhat[i] = (x[o + i] - mean) * r;
                float g = dy[o + i] * wv[i];
                mg += g;
                mgx += g * xhat[i];
            }
            float meanG = (float) (mg / n);
            float meanGx = (float) (mgx / n);
            for (int i = 0; i < n; i++) {
                dx[o + i] += r * (dy[o + i] * wv[i] - meanG - xhat[i] * meanGx);
            }
            if (dw != null) {
                for (int i = 0; i < n; i++) {
                    dw[i] += dy[o + i] * xhat[i];
                }
            }
            if (db != null) {
                for (int i = 0; i < n; i++) {
                    db[i] += dy[o + i];
                }
            }
        }
    }
}
