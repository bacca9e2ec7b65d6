package dev.ipg.core.tensor;

import static dev.ipg.core.tensor.VectorLanes.F;
import static dev.ipg.core.tensor.VectorLanes.L;

import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;

/**
 * {@link Kernels} on the Vector API ({@code jdk.incubator.vector}), with the preferred species of
 * the machine. Loaded only through {@link KernelsProvider#lookup()}, which checks first that the
 * incubator module is present: no other class of the engine refers to this one. Each kernel
 * overrides the scalar definition of {@link ScalarKernels} and lives with its kind:
 * <ul>
 *   <li>{@link VectorDecode}: the decode path of {@link #matmul} ({@code m <= SMALL_M}), weight rows
 *       streamed once from their segments;</li>
 *   <li>{@link VectorGemm}: the prefill path of {@link #matmul} (a packed BLIS-style GEMM) and
 *       {@link #gemm} on flat arrays;</li>
 *   <li>{@link VectorBackward}: the two backward products of matmul, on {@link VectorGemm}'s tiles;</li>
 *   <li>{@link VectorElementwise}: dot, axpy, scale, norms, softmax and activations;</li>
 *   <li>{@link VectorLanes}: the species, loads, conversions, lane sums and scratch they share.</li>
 * </ul>
 * {@link #matmul} picks its path by {@code m} alone (never by the thread count), and work is split
 * over outputs only, with every output accumulated in the same order whatever the split, so
 * results are bitwise identical for any number of threads.
 */
final class VectorKernels implements Kernels {

    /** Up to this many input rows the matmul streams weights (decode path); above, it runs the GEMM. */
    static final int SMALL_M = 8;

    VectorKernels() {
        if (L < 4) {
            throw new UnsupportedOperationException("vector species too small: " + F);
        }
    }

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    @Override
    public void matmul(Parallel pool, float[] x, int xOff, int m, Matrix w, float[] out, int outOff) {
        // x is (m, K), w is (N, K), out is (m, N)
        int n = w.rows();
        int k = w.cols();
        Objects.checkFromIndexSize(xOff, (long) m * k, x.length);
        Objects.checkFromIndexSize(outOff, (long) m * n, out.length);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            Arrays.fill(out, outOff, outOff + m * n, 0f);
        } else if (m <= SMALL_M) {
            VectorDecode.streamRows(pool, x, xOff, m, w, out, outOff);
        } else {
            VectorGemm.matmul(pool, x, xOff, m, w, out, outOff);
        }
    }

    @Override
    public void gemm(int m, int n, int depth, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                     float[] c, int co, int ldc) {
        VectorGemm.gemm(m, n, depth, a, ao, ars, acs, b, bo, ldb, c, co, ldc);
    }

    @Override
    public double logSoftmaxRow(float[] x, int off, int n, double scale, float alpha, boolean write) {
        return VectorElementwise.logSoftmaxRow(x, off, n, scale, alpha, write);
    }

    @Override
    public void matmulInputGrad(Parallel pool, float[] dy, int dyOff, int m, Matrix w, float[] dx, int dxOff) {
        VectorBackward.inputGrad(pool, dy, dyOff, m, w, dx, dxOff);
    }

    @Override
    public void matmulWeightGrad(Parallel pool, float[] dy, int m, int n, float[] x, int k, float[] dw) {
        VectorBackward.weightGrad(pool, dy, m, n, x, k, dw);
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        return VectorElementwise.dot(a, ao, b, bo, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        VectorElementwise.axpy(alpha, x, xo, y, yo, n);
    }

    @Override
    public void scale(float[] x, int off, int n, float alpha) {
        VectorElementwise.scale(x, off, n, alpha);
    }

    @Override
    public float rmsnorm(float[] x, int xo, Matrix weight, float weightOffset, float eps, float[] out, int oo, int n) {
        return VectorElementwise.rmsnorm(x, xo, weight, weightOffset, eps, out, oo, n);
    }

    @Override
    public float layernorm(float[] x, int xo, Matrix weight, Matrix bias, float eps, float[] out, int oo, int n) {
        return VectorElementwise.layernorm(x, xo, weight, bias, eps, out, oo, n);
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        VectorElementwise.softmax(x, off, n);
    }

    @Override
    public void siluMul(float[] gate, int go, float[] up, int uo, float[] out, int oo, int n) {
        VectorElementwise.siluMul(gate, go, up, uo, out, oo, n);
    }

    @Override
    public void geluTanh(float[] x, int off, int n) {
        VectorElementwise.geluTanh(x, off, n);
    }

    @Override
    public void silu(float[] x, int off, int n) {
        VectorElementwise.silu(x, off, n);
    }

    @Override
    public void siluGrad(float[] x, int xo, float[] out, int oo, int n) {
        VectorElementwise.siluGrad(x, xo, out, oo, n);
    }

    @Override
    public void geluTanhGrad(float[] x, int xo, float[] out, int oo, int n) {
        VectorElementwise.geluTanhGrad(x, xo, out, oo, n);
    }

    /** {@code e^x} lane-wise: {@link VectorElementwise#exp}. */
    static FloatVector exp(FloatVector x) {
        return VectorElementwise.exp(x);
    }

    /** The lane sum in a fixed order: {@link VectorLanes#sum}. */
    static float sum(FloatVector v) {
        return VectorLanes.sum(v);
    }
}
