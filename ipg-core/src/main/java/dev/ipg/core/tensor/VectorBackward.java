package dev.ipg.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two backward products of {@link Kernels#matmul} on the Vector API, as register-blocked
 * outer products: a tile of 4 output rows by 4 vectors of columns accumulates
 * {@code sum_s a(r, s) * b[s, columns]} with a broadcast of {@code a} and a vector load of
 * {@code b}. Only {@link VectorKernels} calls this class (it touches {@code jdk.incubator.vector}).
 *
 * <ul>
 *   <li>input gradient {@code dx (m, K) += dy (m, N) · W (N, K)}: per block of 4 vectors of
 *       columns and per slice of 256 weight rows, that part of the weights is converted to f32
 *       into a cache-sized panel, then every 4 rows of dy sweep it, adding their partial sums to
 *       dx;</li>
 *   <li>weight gradient {@code dW (N, K) += dyᵀ (N, m) · x (m, K)}: per block of columns, every 4
 *       rows of dW sweep the same slice of x.</li>
 * </ul>
 * Work is split over output column blocks (input gradient) or output rows (weight gradient);
 * each output element is summed in the same order whatever the split.
 */
final class VectorBackward {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Columns per block: four vectors. */
    private static final int KB = 4 * L;
    /** Weight rows per panel of the input gradient: 256 x KB floats, 64 KB with 16 lanes. */
    private static final int DEPTH = 256;

    private VectorBackward() {
    }

    static void inputGrad(Parallel pool, float[] dy, int dyOff, int m, Matrix w, float[] dx, int dxOff) {
        int n = w.rows();
        int k = w.cols();
        int blocks = (k + KB - 1) / KB;
        pool.forRange(blocks, 1, (b0, b1) -> {
            float[] panel = new float[DEPTH * KB];   // (DEPTH, KB): columns [c0, c0 + KB) of DEPTH weight rows
            for (int b = b0; b < b1; b++) {
                int c0 = b * KB;
                int len = Math.min(KB, k - c0);
                if (len < KB) {
                    java.util.Arrays.fill(panel, 0f);
                }
                // the weight rows in slices that stay in cache while every row of dy sweeps them
                for (int j0 = 0; j0 < n; j0 += DEPTH) {
                    int dn = Math.min(DEPTH, n - j0);
                    for (int j = 0; j < dn; j++) {
                        w.copyRow(j0 + j, c0, panel, j * KB, len);
                    }
                    int i = 0;
                    for (; i + 4 <= m; i += 4) {
                        tile4(dy, dyOff + i * n + j0, n, 1, dn, panel, KB, dx, dxOff + i * k + c0, k, len);
                    }
                    for (; i < m; i++) {
                        tile1(dy, dyOff + i * n + j0, 1, dn, panel, KB, dx, dxOff + i * k + c0, len);
                    }
                }
            }
        });
    }

    static void weightGrad(Parallel pool, float[] dy, int m, int n, float[] x, int k, float[] dw) {
        int rowBlocks = (n + 3) / 4;
        pool.forRange(rowBlocks, 4, (r0, r1) -> {
            float[] panel = new float[m * KB];   // (m, KB): columns [c0, c0 + KB) of every row of x
            for (int c0 = 0; c0 < k; c0 += KB) {
                int len = Math.min(KB, k - c0);
                if (len < KB) {
                    java.util.Arrays.fill(panel, 0f);
                }
                for (int i = 0; i < m; i++) {
                    System.arraycopy(x, i * k + c0, panel, i * KB, len);
                }
                for (int rb = r0; rb < r1; rb++) {
                    int j = rb * 4;
                    if (j + 4 <= n) {
                        // a(r, s) = dy[s * n + j + r]
                        tile4(dy, j, 1, n, m, panel, KB, dw, j * k + c0, k, len);
                    } else {
                        for (; j < n; j++) {
                            tile1(dy, j, n, m, panel, KB, dw, j * k + c0, len);
                        }
                    }
                }
            }
        });
    }

    /**
     * c[r, 0..len) += sum_{s < depth} a[ao + r * ars + s * ass] * b[s * ldb + 0..len) for r < 4;
     * row r of c starts at co + r * ldc.
     */
    private static void tile4(float[] a, int ao, int ars, int ass, int depth, float[] b, int ldb, float[] c, int co, int ldc,
                              int len) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F), c33 = FloatVector.zero(F);
        for (int s = 0; s < depth; s++) {
            int bo = s * ldb;
            FloatVector b0 = FloatVector.fromArray(F, b, bo);
            FloatVector b1 = FloatVector.fromArray(F, b, bo + L);
            FloatVector b2 = FloatVector.fromArray(F, b, bo + 2 * L);
            FloatVector b3 = FloatVector.fromArray(F, b, bo + 3 * L);
            int as = ao + s * ass;
            FloatVector a0 = FloatVector.broadcast(F, a[as]);
            FloatVector a1 = FloatVector.broadcast(F, a[as + ars]);
            FloatVector a2 = FloatVector.broadcast(F, a[as + 2 * ars]);
            FloatVector a3 = FloatVector.broadcast(F, a[as + 3 * ars]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            c02 = a0.fma(b2, c02);
            c03 = a0.fma(b3, c03);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            c12 = a1.fma(b2, c12);
            c13 = a1.fma(b3, c13);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            c22 = a2.fma(b2, c22);
            c23 = a2.fma(b3, c23);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            c32 = a3.fma(b2, c32);
            c33 = a3.fma(b3, c33);
        }
        // no vector crosses a call: spill the tile to a scratch array, then add it to c
        float[] t = TILE.get();
        c00.intoArray(t, 0);
        c01.intoArray(t, L);
        c02.intoArray(t, 2 * L);
        c03.intoArray(t, 3 * L);
        c10.intoArray(t, KB);
        c11.intoArray(t, KB + L);
        c12.intoArray(t, KB + 2 * L);
        c13.intoArray(t, KB + 3 * L);
        c20.intoArray(t, 2 * KB);
        c21.intoArray(t, 2 * KB + L);
        c22.intoArray(t, 2 * KB + 2 * L);
        c23.intoArray(t, 2 * KB + 3 * L);
        c30.intoArray(t, 3 * KB);
        c31.intoArray(t, 3 * KB + L);
        c32.intoArray(t, 3 * KB + 2 * L);
        c33.intoArray(t, 3 * KB + 3 * L);
        for (int r = 0; r < 4; r++) {
            addRow(t, r * KB, c, co + r * ldc, len);
        }
    }

    /** One row: c[0..len) += sum_s a[ao + s * ass] * b[s * ldb + 0..len). */
    private static void tile1(float[] a, int ao, int ass, int depth, float[] b, int ldb, float[] c, int co, int len) {
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        for (int s = 0; s < depth; s++) {
            int bo = s * ldb;
            FloatVector av = FloatVector.broadcast(F, a[ao + s * ass]);
            c0 = av.fma(FloatVector.fromArray(F, b, bo), c0);
            c1 = av.fma(FloatVector.fromArray(F, b, bo + L), c1);
            c2 = av.fma(FloatVector.fromArray(F, b, bo + 2 * L), c2);
            c3 = av.fma(FloatVector.fromArray(F, b, bo + 3 * L), c3);
        }
        float[] t = TILE.get();
        c0.intoArray(t, 0);
        c1.intoArray(t, L);
        c2.intoArray(t, 2 * L);
        c3.intoArray(t, 3 * L);
        addRow(t, 0, c, co, len);
    }

    /** c[co .. co + len) += t[to .. to + len). */
    private static void addRow(float[] t, int to, float[] c, int co, int len) {
        int i = 0;
        for (; i + L <= len; i += L) {
            FloatVector.fromArray(F, c, co + i).add(FloatVector.fromArray(F, t, to + i)).intoArray(c, co + i);
        }
        for (; i < len; i++) {
            c[co + i] += t[to + i];
        }
    }

    /** Per-thread spill area of one 4 x KB tile. */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[4 * KB]);
}
