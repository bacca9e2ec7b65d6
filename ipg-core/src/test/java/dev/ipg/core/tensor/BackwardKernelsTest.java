package dev.ipg.core.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The vector backward products of matmul against the scalar reference (the interface defaults
 * that ScalarKernels inherits), and against a double-precision sum, on odd shapes with tails in
 * every dimension, all dtypes; and bitwise identical for any thread count. Tolerance: both sum K
 * (or m) products in float in different orders; the error is bounded by ~depth * 2^-24 * sum|a b|,
 * checked against 4x that bound.
 */
class BackwardKernelsTest {

    static final Kernels SCALAR = new ScalarKernels();
    static final Kernels VECTOR = KernelsProvider.lookup();

    @Test
    void vectorImplementationIsActive() {
        assertTrue(VECTOR.name().startsWith("vector"), VECTOR.name());
    }

    @Test
    void inputGradMatchesScalarAndDouble() {
        SplittableRandom r = new SplittableRandom(1);
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {4, 17, 64}, {7, 33, 65}, {9, 100, 130}, {13, 64, 200}, {6, 600, 70}};
        for (DType dt : DType.values()) {
            for (int[] s : shapes) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                float[] wv = TensorFixtures.uniform(r, n * k);
                Matrix w = TensorFixtures.matrix(wv, n, k, dt, null);
                float[] dy = TensorFixtures.uniform(r, m * n);
                float[] init = TensorFixtures.uniform(r, m * k);
                float[] a = init.clone();
                float[] b = init.clone();
                try (Parallel p = Parallel.of(2)) {
                    SCALAR.matmulInputGrad(p, dy, 0, m, w, a, 0);
                    VECTOR.matmulInputGrad(p, dy, 0, m, w, b, 0);
                }
                for (int i = 0; i < m; i++) {
                    for (int c = 0; c < k; c++) {
                        double exact = init[i * k + c];
                        double mag = Math.abs(exact);
                        for (int j = 0; j < n; j++) {
                            exact += (double) dy[i * n + j] * wv[j * k + c];
                            mag += Math.abs((double) dy[i * n + j] * wv[j * k + c]);
                        }
                        double bound = 4 * (n + 1) * TensorFixtures.U * mag + 1e-30;
                        assertEquals(exact, b[i * k + c], bound, dt + " " + java.util.Arrays.toString(s) + " at " + i + "," + c);
                        assertEquals(a[i * k + c], b[i * k + c], 2 * bound);
                    }
                }
            }
        }
    }

    @Test
    void weightGradMatchesScalarAndDouble() {
        SplittableRandom r = new SplittableRandom(2);
        int[][] shapes = {{1, 1, 1}, {5, 3, 7}, {17, 4, 64}, {33, 7, 65}, {100, 9, 130}, {64, 13, 200}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            float[] dy = TensorFixtures.uniform(r, m * n);
            float[] x = TensorFixtures.uniform(r, m * k);
            float[] init = TensorFixtures.uniform(r, n * k);
            float[] a = init.clone();
            float[] b = init.clone();
            try (Parallel p = Parallel.of(2)) {
                SCALAR.matmulWeightGrad(p, dy, m, n, x, k, a);
                VECTOR.matmulWeightGrad(p, dy, m, n, x, k, b);
            }
            for (int j = 0; j < n; j++) {
                for (int c = 0; c < k; c++) {
                    double exact = init[j * k + c];
                    double mag = Math.abs(exact);
                    for (int i = 0; i < m; i++) {
                        exact += (double) dy[i * n + j] * x[i * k + c];
                        mag += Math.abs((double) dy[i * n + j] * x[i * k + c]);
                    }
                    double bound = 4 * (m + 1) * TensorFixtures.U * mag + 1e-30;
                    assertEquals(exact, b[j * k + c], bound, java.util.Arrays.toString(s) + " at " + j + "," + c);
                    assertEquals(a[j * k + c], b[j * k + c], 2 * bound);
                }
            }
        }
    }

    @Test
    void bitwiseIdenticalForAnyThreadCount() {
        SplittableRandom r = new SplittableRandom(3);
        int m = 37;
        int n = 45;
        int k = 150;
        Matrix w = TensorFixtures.matrix(TensorFixtures.uniform(r, n * k), n, k, DType.BF16, null);
        float[] dy = TensorFixtures.uniform(r, m * n);
        float[] x = TensorFixtures.uniform(r, m * k);
        float[] refDx = null;
        float[] refDw = null;
        for (int t : new int[] {1, 2, 3}) {
            float[] dx = new float[m * k];
            float[] dw = new float[n * k];
            try (Parallel p = Parallel.of(t)) {
                VECTOR.matmulInputGrad(p, dy, 0, m, w, dx, 0);
                VECTOR.matmulWeightGrad(p, dy, m, n, x, k, dw);
            }
            if (refDx == null) {
                refDx = dx;
                refDw = dw;
            } else {
                assertArrayEquals(refDx, dx);
                assertArrayEquals(refDw, dw);
            }
        }
    }
}
