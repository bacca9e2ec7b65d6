package dev.ipg.core.tensor;

import static dev.ipg.core.tensor.TensorFixtures.U;
import static dev.ipg.core.tensor.TensorFixtures.matrix;
import static dev.ipg.core.tensor.TensorFixtures.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every Vector API kernel against its scalar twin, on sizes around the vector length and the
 * blocking of the matmul, for every weight dtype in heap and native memory.
 *
 * <p>Tolerances. The two implementations add the same terms in different orders (lane-parallel
 * partial sums, KC-deep blocks, FMA instead of multiply-then-add). Each is within the forward-error
 * bound of float32 summation of the exact value, {@code |fl(sum) - sum| <= n u sum|term|} with
 * {@code u = 2^-24}, so they are within twice that of each other. We assert exactly that bound,
 * computed from the actual terms, and nothing looser. Element-wise kernels that round the same
 * operations in the same order (axpy, scale) must agree bit for bit.
 */
class VectorKernelsTest {

    private static final int[] SIZES = {1, 7, 15, 16, 17, 31, 33, 100, 257, 1000, 4099};

    private static Parallel pool;
    private static Arena arena;
    private final Kernels vec = new VectorKernels();
    private final Kernels ref = new ScalarKernels();
    private final SplittableRandom rnd = new SplittableRandom(42);

    @BeforeAll
    static void open() {
        pool = Parallel.of(3);
        arena = Arena.ofShared();
    }

    @AfterAll
    static void close() {
        pool.close();
        arena.close();
    }

    @Test
    void nameReportsVectorWidth() {
        assertEquals("vector-" + FloatVector.SPECIES_PREFERRED.vectorBitSize(), vec.name());
    }

    // ------------------------------------------------------------------------------ matmul

    /** Checks {@code got} against {@code want} (both {@code x wᵀ}) within the summation bound. */
    private static void assertMatmulClose(float[] x, int xo, int m, float[] w, int n, int k, float[] want,
            float[] got, int oo, String what) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double mag = 0;
                for (int c = 0; c < k; c++) {
                    mag += Math.abs((double) x[xo + i * k + c] * w[j * k + c]);
                }
                float a = want[oo + i * n + j];
                float b = got[oo + i * n + j];
                if (!(Math.abs(a - b) <= 2 * (k + 1) * U * mag)) {
                    fail(what + " out[" + i + "," + j + "]: scalar " + a + " vector " + b + " bound "
                            + 2 * (k + 1) * U * mag);
                }
            }
        }
    }

    private void checkMatmul(int m, int n, int k, DType dt, boolean nativeMemory) {
        float[] wv = uniform(rnd, n * k);
        Matrix w = matrix(wv, n, k, dt, nativeMemory ? arena : null);
        int xo = 3;
        int oo = 5;
        float[] x = uniform(rnd, xo + m * k + 2);
        float[] want = new float[oo + m * n + 4];
        float[] got = new float[want.length];
        java.util.Arrays.fill(want, 7f);
        java.util.Arrays.fill(got, 7f);
        ref.matmul(pool, x, xo, m, w, want, oo);
        vec.matmul(pool, x, xo, m, w, got, oo);
        String what = "m=" + m + " n=" + n + " k=" + k + " " + dt + (nativeMemory ? " native" : " heap");
        assertMatmulClose(x, xo, m, wv, n, k, want, got, oo, what);
        for (int i = 0; i < oo; i++) {
            assertEquals(7f, got[i], what + ": wrote before out");
        }
        for (int i = oo + m * n; i < got.length; i++) {
            assertEquals(7f, got[i], what + ": wrote past out");
        }
    }

    @Test
    void matmulMatchesScalarOnDecodeSizes() {
        // m <= 8 streams weight rows; odd n exercises the row tail, odd k the masked column tail
        int[][] nk = {{1, 1}, {5, 7}, {17, 16}, {33, 17}, {64, 100}, {7, 1000}, {130, 33}};
        for (DType dt : DType.values()) {
            for (boolean nat : new boolean[] {false, true}) {
                for (int m = 1; m <= 8; m++) {
                    for (int[] s : nk) {
                        checkMatmul(m, s[0], s[1], dt, nat);
                    }
                }
            }
        }
    }

    @Test
    void matmulMatchesScalarOnPrefillSizes() {
        // m > 8 runs the packed GEMM: row tails (m % 8), column panels (n % 32), k tails and
        // several KC blocks (k > 256), 16 x 16 transposes (n >= 16, k >= 16)
        int[][] mnk = {{9, 1, 1}, {13, 5, 7}, {16, 32, 16}, {17, 33, 17}, {23, 64, 100}, {33, 47, 300},
                {40, 16, 513}, {70, 161, 517}, {64, 100, 64}};
        for (DType dt : DType.values()) {
            for (boolean nat : new boolean[] {false, true}) {
                for (int[] s : mnk) {
                    checkMatmul(s[0], s[1], s[2], dt, nat);
                }
            }
        }
    }

    @Test
    void matmulMatchesScalarAcrossNcAndMcBlocks() {
        // n > NC (1024 weight rows per packed block) and m > MC (256 input rows per block)
        checkMatmul(9, 1100, 40, DType.BF16, true);
        checkMatmul(300, 40, 33, DType.F32, false);
    }

    @Test
    void matmulIsBitwiseIdenticalForAnyThreadCount() {
        int[][] mnk = {{1, 1000, 300}, {3, 333, 130}, {8, 1024, 64}, {9, 130, 300}, {70, 1100, 40}, {33, 200, 517}};
        for (DType dt : DType.values()) {
            for (int[] s : mnk) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                Matrix w = matrix(uniform(rnd, n * k), n, k, dt, arena);
                float[] x = uniform(rnd, m * k);
                float[][] outs = new float[3][m * n];
                for (int t = 1; t <= 3; t++) {
                    try (Parallel p = Parallel.of(t)) {
                        vec.matmul(p, x, 0, m, w, outs[t - 1], 0);
                    }
                }
                String what = dt + " m=" + m + " n=" + n + " k=" + k;
                assertArrayEquals(outs[0], outs[1], what + " 1 vs 2 threads");
                assertArrayEquals(outs[0], outs[2], what + " 1 vs 3 threads");
            }
        }
    }

    /** Batch-1 decode (one row after the other) sums each output as the decode of a batch does. */
    @Test
    void oneInputRowGivesTheBitsOfThatRowInABatch() {
        int[][] nk = {{1003, 300}, {130, 517}, {64, 64}, {7, 33}};
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int[] s : nk) {
                int n = s[0];
                int k = s[1];
                Matrix w = matrix(uniform(rnd, n * k), n, k, dt, arena);
                for (int m : new int[] {2, 5, 8}) {
                    float[] x = uniform(rnd, m * k);
                    float[] batch = new float[m * n];
                    vec.matmul(pool, x, 0, m, w, batch, 0);
                    for (int i = 0; i < m; i++) {
                        float[] one = new float[n];
                        vec.matmul(pool, x, i * k, 1, w, one, 0);
                        assertArrayEquals(java.util.Arrays.copyOfRange(batch, i * n, (i + 1) * n), one,
                                dt + " n=" + n + " k=" + k + " row " + i + " of " + m);
                    }
                }
            }
        }
    }

    @Test
    void matmulRejectsArraysTooSmall() {
        Matrix w = Matrix.of(new float[12], 3, 4);
        assertThrows(IndexOutOfBoundsException.class, () -> vec.matmul(pool, new float[7], 0, 2, w, new float[6], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> vec.matmul(pool, new float[8], 0, 2, w, new float[5], 0));
    }

    // ------------------------------------------------------------------------- element-wise

    @Test
    void dotMatchesScalarWithinSummationBound() {
        for (int n : SIZES) {
            float[] a = uniform(rnd, n + 1);
            float[] b = uniform(rnd, n + 2);
            double mag = 0;
            for (int i = 0; i < n; i++) {
                mag += Math.abs((double) a[1 + i] * b[2 + i]);
            }
            assertEquals(ref.dot(a, 1, b, 2, n), vec.dot(a, 1, b, 2, n), 2 * (n + 1) * U * mag, "n=" + n);
        }
        assertEquals(0f, vec.dot(new float[0], 0, new float[0], 0, 0));
    }

    @Test
    void axpyAndScaleAreBitwiseIdenticalToScalar() {
        for (int n : SIZES) {
            float[] x = uniform(rnd, n + 3);
            float[] y = uniform(rnd, n + 4);
            float[] y1 = y.clone();
            float[] y2 = y.clone();
            ref.axpy(-1.7f, x, 3, y1, 4, n);
            vec.axpy(-1.7f, x, 3, y2, 4, n);
            assertArrayEquals(y1, y2, "axpy n=" + n);
            float[] s1 = x.clone();
            float[] s2 = x.clone();
            ref.scale(s1, 2, n, 0.3f);
            vec.scale(s2, 2, n, 0.3f);
            assertArrayEquals(s1, s2, "scale n=" + n);
        }
    }

    @Test
    void rmsnormMatchesScalarForEveryWeightStorage() {
        for (DType dt : DType.values()) {
            for (boolean nat : new boolean[] {false, true}) {
                for (int n : SIZES) {
                    float[] x = uniform(rnd, n + 1);
                    Matrix w = matrix(uniform(rnd, n), 1, n, dt, nat ? arena : null);
                    float[] o1 = new float[n + 2];
                    float[] o2 = new float[n + 2];
                    float inv1 = ref.rmsnorm(x, 1, w, 1f, 1e-6f, o1, 2, n);
                    float inv2 = vec.rmsnorm(x, 1, w, 1f, 1e-6f, o2, 2, n);
                    // the sums of squares differ by at most 2 n u relative; inv and out inherit half
                    // of that through the square root, plus a few roundings of their own
                    double tol = (n + 8) * U;
                    String what = dt + " n=" + n + (nat ? " native" : " heap");
                    assertEquals(inv1, inv2, tol * inv1, what);
                    for (int i = 0; i < n; i++) {
                        assertEquals(o1[2 + i], o2[2 + i], tol * Math.abs(o1[2 + i]) + 1e-30, what + " i=" + i);
                    }
                    // in place (out == x)
                    float[] xi = x.clone();
                    assertEquals(inv2, vec.rmsnorm(xi, 1, w, 1f, 1e-6f, xi, 1, n), what + " in place");
                    for (int i = 0; i < n; i++) {
                        assertEquals(o2[2 + i], xi[1 + i], what + " in place i=" + i);
                    }
                }
            }
        }
    }

    @Test
    void layernormMatchesScalarWithAndWithoutBias() {
        for (DType dt : DType.values()) {
            for (int n : SIZES) {
                float[] x = uniform(rnd, n);
                for (int i = 0; i < n; i++) {
                    x[i] = 2 * x[i] + 0.25f;
                }
                Matrix w = matrix(uniform(rnd, n), 1, n, dt, arena);
                Matrix b = matrix(uniform(rnd, n), 1, n, dt, null);
                double absMean = 0;
                for (float v : x) {
                    absMean += Math.abs(v) / n;
                }
                for (Matrix bias : new Matrix[] {b, null}) {
                    float[] o1 = new float[n];
                    float[] o2 = new float[n];
                    float inv1 = ref.layernorm(x, 0, w, bias, 1e-5f, o1, 0, n);
                    float inv2 = vec.layernorm(x, 0, w, bias, 1e-5f, o2, 0, n);
                    String what = dt + " n=" + n + (bias == null ? " no bias" : " bias");
                    // mean and variance are sums of n terms: within 2 n u of each other relative to
                    // the magnitudes summed; each output scales those errors by inv |w|
                    assertEquals(inv1, inv2, 4 * (n + 8) * U * inv1, what);
                    for (int i = 0; i < n; i++) {
                        double scale = (Math.abs(x[i]) + absMean) * inv1 * Math.abs(w.getFlat(i))
                                + (bias == null ? 0 : Math.abs(bias.getFlat(i)));
                        assertEquals(o1[i], o2[i], 4 * (n + 8) * U * scale + 1e-30, what + " i=" + i);
                    }
                }
            }
        }
    }

    @Test
    void softmaxMatchesScalarAndSumsToOne() {
        for (int n : SIZES) {
            float[] x = uniform(rnd, n + 2);
            for (int i = 0; i < x.length; i++) {
                x[i] *= 30;
            }
            if (n > 3) {
                x[3] = Float.NEGATIVE_INFINITY;
            }
            float[] a = x.clone();
            float[] b = x.clone();
            ref.softmax(a, 1, n);
            vec.softmax(b, 1, n);
            double total = 0;
            for (int i = 1; i <= n; i++) {
                // exp within 2 ulp of Math.exp, then the normalizing sum of n terms
                assertEquals(a[i], b[i], (2 * n + 8) * U * a[i] + 1e-37, "n=" + n + " i=" + i);
                total += b[i];
            }
            assertEquals(1.0, total, (2 * n + 8) * U, "n=" + n);
            assertEquals(x[0], b[0]);
            assertEquals(x[n + 1], b[n + 1]);
            if (n > 3) {
                assertEquals(0f, b[3]);
            }
        }
    }

    @Test
    void logSoftmaxRowMatchesScalarWithinItsBounds() {
        int[] sizes = java.util.stream.IntStream.concat(java.util.Arrays.stream(SIZES), java.util.stream.IntStream.of(50021)).toArray();
        for (double scale : new double[] {1.0, 1 / 0.7}) {
            for (int n : sizes) {
                float[] x = uniform(rnd, n + 2);
                for (int i = 0; i < x.length; i++) {
                    x[i] *= 30;
                }
                if (n > 4) {
                    x[3] = Float.NEGATIVE_INFINITY;
                    x[4] = -1e4f;   // exp underflows: written as 0
                }
                float alpha = -0.37f;
                float[] a = x.clone();
                float[] b = x.clone();
                double lseRef = ref.logSoftmaxRow(a, 1, n, scale, alpha, true);
                double lseVec = vec.logSoftmaxRow(b, 1, n, scale, alpha, true);
                double lseOnly = vec.logSoftmaxRow(x.clone(), 1, n, scale, alpha, false);
                assertEquals(lseVec, lseOnly, "n=" + n + ": lse must not depend on writing the row");
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 1; i <= n; i++) {
                    max = Math.max(max, x[i]);
                }
                // each exponential: 2 ulp, plus the rounding of its F32 argument s (l - max); the sum: n/L F32 lane sums
                double maxArg = 0;
                for (int i = 1; i <= n; i++) {
                    if (x[i] > -1e3f) {
                        maxArg = Math.max(maxArg, Math.abs(scale * (x[i] - max)));
                    }
                }
                double lseBound = (4 + 4 * maxArg + 16 + n) * U;
                assertEquals(lseRef, lseVec, lseBound, "n=" + n + " scale=" + scale + " lse");
                double total = 0;
                for (int i = 1; i <= n; i++) {
                    double arg = x[i] > -1e3f ? Math.abs(scale * (x[i] - max)) : 0;
                    double bound = (lseBound + (8 + 4 * arg) * U) * Math.abs(a[i]) + 1e-37;
                    assertEquals(a[i], b[i], bound, "n=" + n + " scale=" + scale + " i=" + i);
                    total += b[i];
                }
                assertEquals(alpha, total, Math.abs(alpha) * (lseBound + (8 + 4 * maxArg) * U + n * U), "n=" + n + ": sum of p");
                assertEquals(x[0], b[0]);
                assertEquals(x[n + 1], b[n + 1]);
                if (n > 4) {
                    assertEquals(0f, b[3]);
                    assertEquals(0f, b[4]);
                    assertEquals(0f, a[4]);
                }
            }
        }
    }

    @Test
    void siluMulMatchesScalar() {
        for (int n : SIZES) {
            float[] g = uniform(rnd, n + 1);
            float[] u = uniform(rnd, n + 2);
            for (int i = 0; i < g.length; i++) {
                g[i] *= 12;
            }
            if (n > 2) {
                g[1] = 95f;   // e^-g underflows
                g[2] = -95f;  // e^-g saturates
            }
            float[] o1 = new float[n + 3];
            float[] o2 = new float[n + 3];
            ref.siluMul(g, 1, u, 2, o1, 3, n);
            vec.siluMul(g, 1, u, 2, o2, 3, n);
            for (int i = 3; i < n + 3; i++) {
                // exp within 2 ulp, then 1 + e, g / (1 + e) and the product: 12 u relative covers both
                assertEquals(o1[i], o2[i], 12 * U * Math.abs(o1[i]) + 1e-37, "n=" + n + " i=" + i);
            }
            // in place on the gate
            float[] gi = g.clone();
            vec.siluMul(gi, 1, u, 2, gi, 1, n);
            for (int i = 0; i < n; i++) {
                assertEquals(o2[3 + i], gi[1 + i], "in place n=" + n);
            }
        }
    }

    @Test
    void geluTanhMatchesScalar() {
        for (int n : SIZES) {
            float[] x = uniform(rnd, n + 2);
            for (int i = 0; i < x.length; i++) {
                x[i] *= 8;
            }
            float[] a = x.clone();
            float[] b = x.clone();
            ref.geluTanh(a, 1, n);
            vec.geluTanh(b, 1, n);
            for (int i = 1; i <= n; i++) {
                // tanh through 1 - 2 / (e^{2y} + 1) has an absolute error of ~10 u; the output scales it
                // by |x| / 2, the scalar side adds a few u relative
                assertEquals(a[i], b[i], 16 * U * Math.abs(x[i]) + 1e-37, "n=" + n + " i=" + i);
            }
            assertEquals(x[0], b[0]);
            assertEquals(x[n + 1], b[n + 1]);
        }
    }

    @Test
    void expIsWithinTwoUlpOfMathExp() {
        float[] v = new float[16];
        int worst = 0;
        for (float t = -87.336f; t <= 88.72f; t += 0.00731f) {
            v[0] = t;
            float e = VectorKernels.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, v, 0)).lane(0);
            float want = (float) Math.exp(t);
            int ulps = Math.abs(Float.floatToIntBits(e) - Float.floatToIntBits(want));
            worst = Math.max(worst, ulps);
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulp");
        v[0] = Float.NEGATIVE_INFINITY;
        v[1] = -100f;
        v[2] = 0f;
        v[3] = 88.73f;
        v[4] = Float.POSITIVE_INFINITY;
        v[5] = Float.NaN;
        FloatVector e = VectorKernels.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, v, 0));
        assertEquals(0f, e.lane(0));
        assertEquals(0f, e.lane(1));
        assertEquals(1f, e.lane(2));
        assertEquals(Float.POSITIVE_INFINITY, e.lane(3));
        assertEquals(Float.POSITIVE_INFINITY, e.lane(4));
        assertTrue(Float.isNaN(e.lane(5)));
    }

    @Test
    void laneSumIsExactOnIntegers() {
        float[] v = new float[FloatVector.SPECIES_PREFERRED.length()];
        double want = 0;
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 3 - 7;
            want += v[i];
        }
        assertEquals(want, VectorKernels.sum(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, v, 0)));
    }
}
