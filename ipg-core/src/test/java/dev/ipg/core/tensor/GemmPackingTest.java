package dev.ipg.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packing of the prefill GEMM ({@link VectorGemm}) is a permutation (and, for BF16/F16
 * weights, a widening to f32): every packed element equals, bit for bit, the element its definition
 * names, for F32, BF16 and F16 weights in heap and native memory, with full 16 x 16 register
 * transposes and row and column tails. And the GEMM result equals, bit for bit, the same sum
 * written out in scalar code: per output, an fma chain from zero over each KC-deep block in
 * increasing column order, the blocks added in order.
 */
class GemmPackingTest {

    private static Arena arena;

    @BeforeAll
    static void open() {
        arena = Arena.ofShared();
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    private static void assertBits(float want, float got, String what) {
        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), what);
    }

    @Test
    void packedWeightPanelsEqualTheirDefinition() {
        SplittableRandom r = new SplittableRandom(11);
        int nr = VectorGemm.NR;
        // {rows, cols, j0, nc, k0, kc}: whole panels, row tails (nc % 16), column tails (kc % 16),
        // offsets into the matrix in both directions
        int[][] cases = {{32, 16, 0, 32, 0, 16}, {64, 64, 0, 64, 0, 64}, {70, 300, 3, 67, 5, 256},
                {33, 47, 0, 33, 0, 47}, {16, 17, 0, 16, 1, 16}, {100, 40, 17, 80, 0, 40}, {5, 9, 0, 5, 2, 7}};
        for (DType dt : DType.values()) {
            for (boolean nat : new boolean[] {false, true}) {
                for (int[] c : cases) {
                    int rows = c[0];
                    int cols = c[1];
                    int j0 = c[2];
                    int nc = c[3];
                    int k0 = c[4];
                    int kc = c[5];
                    float[] values = TensorFixtures.uniform(r, rows * cols);
                    Matrix w = TensorFixtures.matrix(values, rows, cols, dt, nat ? arena : null);
                    int panels = (nc + nr - 1) / nr;
                    float[] bp = new float[panels * nr * kc + 7];
                    Arrays.fill(bp, Float.NaN);
                    VectorGemm.packB(w, j0, nc, k0, kc, bp, VectorLanes.Scratch.local());
                    String what = dt + (nat ? " native " : " heap ") + Arrays.toString(c);
                    for (int p = 0; p < panels; p++) {
                        for (int kk = 0; kk < kc; kk++) {
                            for (int jj = 0; jj < nr; jj++) {
                                int row = p * nr + jj;
                                float want = row < nc ? values[(j0 + row) * cols + k0 + kk] : 0f;
                                assertBits(want, bp[p * kc * nr + kk * nr + jj], what + " panel " + p + " kk " + kk + " jj " + jj);
                            }
                        }
                    }
                    for (int i = panels * nr * kc; i < bp.length; i++) {
                        assertBits(Float.NaN, bp[i], what + ": wrote past the panels at " + i);
                    }
                }
            }
        }
    }

    @Test
    void packedInputPanelsEqualTheirDefinition() {
        SplittableRandom r = new SplittableRandom(12);
        int mr = VectorGemm.MR;
        // {m, k, mc, k0, kc}: pairs of full panels (16 x 16 transposes), an odd panel, row tails,
        // column tails, an offset column block
        int[][] cases = {{16, 16, 16, 0, 16}, {32, 64, 32, 0, 64}, {40, 300, 40, 256, 44}, {23, 100, 23, 0, 100},
                {17, 33, 17, 1, 31}, {9, 5, 9, 0, 5}, {48, 256, 45, 0, 256}};
        for (int[] c : cases) {
            int m = c[0];
            int k = c[1];
            int mc = c[2];
            int k0 = c[3];
            int kc = c[4];
            int xo = 3;
            float[] x = TensorFixtures.uniform(r, xo + m * k + 2);
            int panels = (mc + mr - 1) / mr;
            int ao = 5;
            float[] ap = new float[ao + panels * mr * kc + 6];
            Arrays.fill(ap, Float.NaN);
            VectorGemm.packA(x, xo, k, mc, k0, kc, ap, ao);
            String what = Arrays.toString(c);
            for (int p = 0; p < panels; p++) {
                for (int kk = 0; kk < kc; kk++) {
                    for (int q = 0; q < mr; q++) {
                        int row = p * mr + q;
                        float want = row < mc ? x[xo + row * k + k0 + kk] : 0f;
                        assertBits(want, ap[ao + p * kc * mr + kk * mr + q], what + " panel " + p + " kk " + kk + " r " + q);
                    }
                }
            }
            for (int i = 0; i < ao; i++) {
                assertBits(Float.NaN, ap[i], what + ": wrote before the panels at " + i);
            }
            for (int i = ao + panels * mr * kc; i < ap.length; i++) {
                assertBits(Float.NaN, ap[i], what + ": wrote past the panels at " + i);
            }
        }
    }

    @Test
    void gemmEqualsTheBlockedFmaSumBitForBit() {
        SplittableRandom r = new SplittableRandom(13);
        // m > 8 (the packed path), row tails, column panels with tails, several KC blocks with a tail
        int[][] mnk = {{16, 32, 16}, {17, 33, 17}, {23, 64, 100}, {33, 47, 300}, {40, 16, 513}, {70, 161, 517}};
        try (Parallel pool = Parallel.of(2)) {
            for (DType dt : DType.values()) {
                for (boolean nat : new boolean[] {false, true}) {
                    for (int[] s : mnk) {
                        int m = s[0];
                        int n = s[1];
                        int k = s[2];
                        float[] wv = TensorFixtures.uniform(r, n * k);
                        Matrix w = TensorFixtures.matrix(wv, n, k, dt, nat ? arena : null);
                        int xo = 3;
                        int oo = 5;
                        float[] x = TensorFixtures.uniform(r, xo + m * k + 2);
                        float[] got = new float[oo + m * n + 4];
                        Arrays.fill(got, 7f);
                        VectorGemm.matmul(pool, x, xo, m, w, got, oo);
                        String what = dt + (nat ? " native " : " heap ") + Arrays.toString(s);
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                float acc = 0f;
                                for (int pc = 0; pc < k; pc += VectorGemm.KC) {
                                    float block = 0f;
                                    for (int kk = pc; kk < Math.min(k, pc + VectorGemm.KC); kk++) {
                                        block = Math.fma(x[xo + i * k + kk], wv[j * k + kk], block);
                                    }
                                    acc = pc == 0 ? block : acc + block;
                                }
                                assertBits(acc, got[oo + i * n + j], what + " out[" + i + "," + j + "]");
                            }
                        }
                        for (int i = 0; i < oo; i++) {
                            assertBits(7f, got[i], what + ": wrote before out");
                        }
                        for (int i = oo + m * n; i < got.length; i++) {
                            assertBits(7f, got[i], what + ": wrote past out");
                        }
                    }
                }
            }
        }
    }
}
