package dev.ipg.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two backward products of {@link Kernels#matmul} on the Vector API: panels of f32 are cut
 * from the weights (or the input) and multiplied by {@link VectorGemm}'s register-blocked tiles.
 * Only {@link VectorKernels} calls this class (it touches {@code jdk.incubator.vector}).
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
                    // dx[:, c0 .. c0 + len) += dy[:, j0 .. j0 + dn) · panel
                    VectorGemm.gemm(m, len, dn, dy, dyOff + j0, n, 1, panel, 0, KB, dx, dxOff + c0, k);
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
                // dW[j0 .. j1, c0 .. c0 + len) += dyᵀ · panel, reading dy transposed: a(j, s) = dy[s * n + j]
                int j0 = r0 * 4;
                int j1 = Math.min(n, r1 * 4);
                VectorGemm.gemm(j1 - j0, len, m, dy, j0, 1, n, panel, 0, KB, dw, j0 * k + c0, k);
            }
        });
    }
}
