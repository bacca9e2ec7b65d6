package dev.ipg.core.nn;

import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;

/** {@code y = x Wᵀ + b}, the {@code nn.Linear} of every projection. */
public final class Linear {

    private Linear() {
    }

    /** x is (rows, K), w is (N, K), b is (N) or null; returns y (rows, N). */
    public static float[] forward(Kernels k, Parallel pool, float[] x, int rows, Matrix w, Matrix b) {
        int n = w.rows();
        float[] y = new float[rows * n];
        k.matmul(pool, x, 0, rows, w, y, 0);
        if (b != null) {
            float[] bias = new float[n];
            b.copyRow(0, bias, 0);
            for (int r = 0; r < rows; r++) {
                k.axpy(1f, bias, 0, y, r * n, n);
            }
        }
        return y;
    }

    /**
     * dy is (rows, N). Accumulates dx (rows, K) += dy W when dx is non-null, dW (N, K) += dyᵀ x
     * and db (N) += sum over rows of dy when those are non-null.
     */
    public static void backward(Kernels k, Parallel pool, float[] dy, int rows, Matrix w, float[] x,
                                float[] dx, float[] dW, float[] db) {
        int n = w.rows();
        if (dx != null) {
            k.matmulInputGrad(pool, dy, 0, rows, w, dx, 0);
        }
        if (dW != null) {
            k.matmulWeightGrad(pool, dy, rows, n, x, w.cols(), dW);
        }
        if (db != null) {
            for (int r = 0; r < rows; r++) {
                k.axpy(1f, dy, r * n, db, 0, n);
            }
        }
    }
}
