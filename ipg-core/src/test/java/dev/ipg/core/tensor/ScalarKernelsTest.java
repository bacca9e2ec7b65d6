package dev.ipg.core.tensor;

import static dev.ipg.core.tensor.TensorFixtures.U;
import static dev.ipg.core.tensor.TensorFixtures.matrix;
import static dev.ipg.core.tensor.TensorFixtures.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The scalar kernels (the specification) against the same formulas evaluated in double precision.
 *
 * <p>Tolerances are the textbook forward-error bounds of float32 recursive summation: a sum of n
 * terms is within {@code n u sum|term|} of the exact value ({@code u = 2^-24}); products, square
 * roots and the final scaling add a few more {@code u} relative.
 */
class ScalarKernelsTest {

    private final Kernels k = new ScalarKernels();
    private final SplittableRandom rnd = new SplittableRandom(7);

    @Test
    void dotIsWithinSummationBoundOfExactDot() {
        for (int n : new int[] {1, 7, 100, 1000, 4099}) {
            float[] a = uniform(rnd, n + 3);
            float[] b = uniform(rnd, n + 5);
            double exact = 0;
            double mag = 0;
            for (int i = 0; i < n; i++) {
                exact += (double) a[3 + i] * b[5 + i];
                mag += Math.abs((double) a[3 + i] * b[5 + i]);
            }
            assertEquals(exact, k.dot(a, 3, b, 5, n), (n + 1) * U * mag, "n=" + n);
        }
    }

    @Test
    void matmulIsWithinSummationBoundOfExactProduct() {
        int m = 5;
        int n = 11;
        int kk = 300;
        for (DType dt : DType.values()) {
            float[] wv = uniform(rnd, n * kk);
            Matrix w = matrix(wv, n, kk, dt, null);
            float[] x = uniform(rnd, 2 + m * kk);
            float[] out = new float[1 + m * n];
            try (Parallel pool = Parallel.of(2)) {
                k.matmul(pool, x, 2, m, w, out, 1);
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double exact = 0;
                    double mag = 0;
                    for (int c = 0; c < kk; c++) {
                        double t = (double) x[2 + i * kk + c] * wv[j * kk + c];
                        exact += t;
                        mag += Math.abs(t);
                    }
                    assertEquals(exact, out[1 + i * n + j], (kk + 1) * U * mag, dt + " [" + i + "," + j + "]");
                }
            }
            assertEquals(0f, out[0]);
        }
    }

    @Test
    void axpyAndScaleRoundEachElementOnce() {
        float[] x = uniform(rnd, 37);
        float[] y = uniform(rnd, 37);
        float[] y0 = y.clone();
        k.axpy(0.37f, x, 0, y, 0, 37);
        float[] s = x.clone();
        k.scale(s, 0, 37, -2.5f);
        for (int i = 0; i < 37; i++) {
            double e = y0[i] + 0.37 * x[i];
            assertEquals(e, y[i], 3 * U * (Math.abs(y0[i]) + Math.abs(0.37 * x[i])));
            assertEquals(-2.5 * x[i], s[i], U * Math.abs(2.5 * x[i]));
        }
    }

    @Test
    void rmsnormMatchesDoublePrecisionAndReturnsReciprocalRms() {
        int n = 1000;
        float[] x = uniform(rnd, n);
        float[] wv = uniform(rnd, n);
        for (DType dt : DType.values()) {
            Matrix w = matrix(wv.clone(), 1, n, dt, null);
            float[] out = new float[n];
            float eps = 1e-6f;
            float inv = k.rmsnorm(x, 0, w, 1f, eps, out, 0, n);
            double ss = 0;
            for (float v : x) {
                ss += (double) v * v;
            }
            double exactInv = 1 / Math.sqrt(ss / n + eps);
            assertEquals(exactInv, inv, (n + 4) * U * exactInv, dt.name());
            for (int i = 0; i < n; i++) {
                double e = x[i] * exactInv * (1 + w.getFlat(i));
                assertEquals(e, out[i], (n + 8) * U * Math.abs(e) + 1e-30, dt + " i=" + i);
            }
        }
    }

    @Test
    void layernormMatchesDoublePrecisionAndReturnsReciprocalStd() {
        int n = 333;
        float[] x = uniform(rnd, n);
        for (int i = 0; i < n; i++) {
            x[i] = 3 * x[i] + 0.5f;
        }
        Matrix w = matrix(uniform(rnd, n), 1, n, DType.F32, null);
        Matrix b = matrix(uniform(rnd, n), 1, n, DType.BF16, null);
        float[] out = new float[n];
        float eps = 1e-5f;
        float inv = k.layernorm(x, 0, w, b, eps, out, 0, n);
        double mean = 0;
        for (float v : x) {
            mean += v;
        }
        mean /= n;
        double var = 0;
        for (float v : x) {
            var += (v - mean) * (v - mean);
        }
        var /= n;
        double exactInv = 1 / Math.sqrt(var + eps);
        assertEquals(exactInv, inv, 4 * (n + 4) * U * exactInv);
        double absMean = 0;
        for (float v : x) {
            absMean += Math.abs(v) / n;
        }
        for (int i = 0; i < n; i++) {
            double e = (x[i] - mean) * exactInv * w.getFlat(i) + b.getFlat(i);
            double scale = (Math.abs(x[i]) + absMean) * exactInv * Math.abs(w.getFlat(i)) + Math.abs(b.getFlat(i));
            assertEquals(e, out[i], 4 * (n + 10) * U * scale, "i=" + i);
        }
        // without bias
        float[] out2 = new float[n];
        assertEquals(inv, k.layernorm(x, 0, w, null, eps, out2, 0, n));
        for (int i = 0; i < n; i++) {
            assertEquals(out[i] - b.getFlat(i), out2[i], 4 * U * (Math.abs(out[i]) + Math.abs(b.getFlat(i))));
        }
    }

    @Test
    void softmaxMatchesDoublePrecisionSumsToOneAndZeroesMinusInfinity() {
        int n = 257;
        float[] x = uniform(rnd, n + 3);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 20;
        }
        x[5] = Float.NEGATIVE_INFINITY;
        float[] orig = x.clone();
        k.softmax(x, 2, n);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, orig[2 + i]);
        }
        double z = 0;
        for (int i = 0; i < n; i++) {
            z += Math.exp(orig[2 + i] - max);
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(orig[2 + i] - max) / z;
            assertEquals(e, x[2 + i], (n + 8) * U * e, "i=" + i);
            total += x[2 + i];
        }
        assertEquals(0f, x[5]);
        assertEquals(1.0, total, (n + 8) * U);
        assertEquals(orig[1], x[1]);
        assertEquals(orig[n + 2], x[n + 2]);
        assertTrue(x[2] > 0);
    }

    @Test
    void siluMulAndGeluMatchDoublePrecision() {
        int n = 2001;
        float[] g = uniform(rnd, n);
        float[] u = uniform(rnd, n);
        for (int i = 0; i < n; i++) {
            g[i] *= 10;
        }
        float[] out = new float[n];
        k.siluMul(g, 0, u, 0, out, 0, n);
        float[] x = g.clone();
        k.geluTanh(x, 0, n);
        double c = Math.sqrt(2 / Math.PI);
        for (int i = 0; i < n; i++) {
            double gv = g[i];
            double silu = gv / (1 + Math.exp(-gv)) * u[i];
            // float exp, 1 + e, divide, multiply: four roundings of at most u each
            assertEquals(silu, out[i], 5 * U * Math.abs(silu) + 1e-37, "silu i=" + i);
            double gelu = 0.5 * gv * (1 + Math.tanh(c * (gv + 0.044715 * gv * gv * gv)));
            // the cubic and tanh in float: a few u relative to |x| (tanh' <= 1)
            assertEquals(gelu, x[i], 8 * U * Math.abs(gv) + 1e-37, "gelu i=" + i);
        }
    }

    @Test
    void matmulWithEmptyInnerDimensionWritesZeros() {
        Matrix w = Matrix.of(new float[0], 3, 0);
        float[] out = {9, 9, 9, 9, 9, 9};
        try (Parallel serial = Parallel.serial()) {
            k.matmul(serial, new float[0], 0, 2, w, out, 0);
        }
        assertArrayEquals(new float[6], out);
    }
}
