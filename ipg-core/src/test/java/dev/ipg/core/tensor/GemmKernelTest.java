package dev.ipg.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Kernels#gemm}: the vector implementation equals the scalar specification bit for bit
 * (both accumulate fma in the same order), and both are within rounding of a double-precision sum;
 * on shapes with tails in every dimension, offsets, padded strides and a transposed {@code a}.
 */
class GemmKernelTest {

    static final Kernels SCALAR = new ScalarKernels();
    static final Kernels VECTOR = KernelsProvider.lookup();

    @Test
    void vectorEqualsScalarBitwiseAndDoubleWithinRounding() {
        SplittableRandom r = new SplittableRandom(7);
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {4, 64, 64}, {5, 65, 3}, {9, 130, 33}, {33, 17, 64}, {64, 200, 1}, {2, 31, 129}};
        for (int[] sh : shapes) {
            for (boolean transposed : new boolean[] {false, true}) {
                int m = sh[0];
                int n = sh[1];
                int depth = sh[2];
                int ao = 3;
                int ars = transposed ? 1 : depth + 2;
                int acs = transposed ? m + 1 : 1;
                float[] a = TensorFixtures.uniform(r, ao + (m - 1) * ars + (depth - 1) * acs + 1 + 5);
                int bo = 2;
                int ldb = n + 3;
                float[] b = TensorFixtures.uniform(r, bo + depth * ldb);
                int co = 1;
                int ldc = n + 5;
                float[] init = TensorFixtures.uniform(r, co + m * ldc);
                float[] cs = init.clone();
                float[] cv = init.clone();
                SCALAR.gemm(m, n, depth, a, ao, ars, acs, b, bo, ldb, cs, co, ldc);
                VECTOR.gemm(m, n, depth, a, ao, ars, acs, b, bo, ldb, cv, co, ldc);
                String what = java.util.Arrays.toString(sh) + (transposed ? " transposed" : "");
                for (int idx = 0; idx < init.length; idx++) {
                    assertEquals(Float.floatToRawIntBits(cs[idx]), Float.floatToRawIntBits(cv[idx]), what + " at " + idx);
                }
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double exact = 0;
                        double mag = 0;
                        for (int s = 0; s < depth; s++) {
                            double p = (double) a[ao + i * ars + s * acs] * b[bo + s * ldb + j];
                            exact += p;
                            mag += Math.abs(p);
                        }
                        double got = cs[co + i * ldc + j] - (double) init[co + i * ldc + j];
                        double bound = 4 * (depth + 2) * TensorFixtures.U * (mag + Math.abs(init[co + i * ldc + j])) + 1e-30;
                        assertEquals(exact, got, bound, what + " at " + i + "," + j);
                    }
                }
                // elements outside the m x n block are untouched (padding columns and rows)
                for (int i = 0; i < m; i++) {
                    for (int j = n; j < ldc && co + i * ldc + j < init.length; j++) {
                        assertEquals(init[co + i * ldc + j], cs[co + i * ldc + j]);
                    }
                }
                assertEquals(init[0], cv[0]);
            }
        }
    }
}
