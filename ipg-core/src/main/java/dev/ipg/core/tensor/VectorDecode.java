package dev.ipg.core.tensor;

import static dev.ipg.core.tensor.VectorLanes.F;
import static dev.ipg.core.tensor.VectorLanes.L;
import static dev.ipg.core.tensor.VectorLanes.T1A;
import static dev.ipg.core.tensor.VectorLanes.T1B;
import static dev.ipg.core.tensor.VectorLanes.T2A;
import static dev.ipg.core.tensor.VectorLanes.T2B;
import static dev.ipg.core.tensor.VectorLanes.T4A;
import static dev.ipg.core.tensor.VectorLanes.T4B;
import static dev.ipg.core.tensor.VectorLanes.T8A;
import static dev.ipg.core.tensor.VectorLanes.T8B;
import static dev.ipg.core.tensor.VectorLanes.load;
import static dev.ipg.core.tensor.VectorLanes.sumAt;
import static dev.ipg.core.tensor.VectorLanes.toFloats;

import dev.ipg.core.tensor.VectorLanes.Scratch;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * The decode path of {@link Kernels#matmul} (few input rows): each weight row is streamed once
 * from its segment and dotted with all {@code m} input rows; one vector accumulator per output,
 * reduced at the end. BF16 rows are widened in registers, F16 rows are converted one row at a
 * time into a scratch buffer. With one input row (batch-1 decode) the rows of an F32 or BF16
 * weight are read one after the other, a single sequential stream per thread, which the hardware
 * prefetcher follows to about twice the rate of four rows read side by side; with more input rows,
 * four weight rows are read side by side against four input rows at a time. Work is split over
 * weight rows; every output is summed the same way whatever the split and whatever the number of
 * input rows. Only {@link VectorKernels} calls this class.
 */
final class VectorDecode {

    private VectorDecode() {
    }

    /** Weight bytes below which the decode path does not split work (hand-off costs microseconds). */
    private static final long MIN_CHUNK_BYTES = 512 << 10;

    /** Decode path: every weight row is read once for all m input rows (one at a time for m = 1, else in blocks of four). */
    static void streamRows(Parallel pool, float[] x, int xOff, int m, Matrix w, float[] out, int outOff) {
        int n = w.rows();
        int k = w.cols();
        long rowBytes = (long) k * w.dtype().bytes();
        int grain = (int) Math.max(64, Math.min(n, MIN_CHUNK_BYTES / Math.max(1, rowBytes)));
        pool.forRange(n, grain, (j0, j1) -> {
            if (w.dtype() == DType.F16) {
                Scratch s = Scratch.local();
                float[] rows = s.row(4 * k);
                MemorySegment seg = MemorySegment.ofArray(rows);
                for (int j = j0; j < j1; j += 4) {
                    int r = Math.min(4, j1 - j);
                    for (int q = 0; q < r; q++) {
                        toFloats(w, (long) (j + q) * k, k, rows, q * k, s);
                    }
                    rowBlock(seg, 0, 4L * k, false, r, x, xOff, m, k, out, outOff + j, n, s.lanes);
                }
            } else {
                boolean bf = w.dtype() == DType.BF16;
                float[] t = Scratch.local().lanes;
                if (m == 1) {
                    // one row after the other, so the weights are read as one sequential stream (four
                    // rows read side by side are four short streams, which the hardware prefetcher
                    // follows poorly); the same sums as dot4x1
                    MemorySegment seg = w.data();
                    for (int j = j0; j < j1; j++) {
                        out[outOff + j] = dot1(seg, j * rowBytes, bf, x, xOff, k, t);
                    }
                    return;
                }
                for (int j = j0; j < j1; j += 4) {
                    rowBlock(w.data(), j * rowBytes, rowBytes, bf, Math.min(4, j1 - j), x, xOff, m, k, out, outOff + j, n, t);
                }
            }
        });
    }

    /** {@code rows} (1..4) weight rows at byte offset {@code wo}, {@code ws} bytes apart, against all input rows. */
    private static void rowBlock(MemorySegment seg, long wo, long ws, boolean bf, int rows, float[] x, int xOff,
            int m, int k, float[] out, int oo, int n, float[] t) {
        if (rows == 4) {
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                dot4x4(seg, wo, ws, bf, x, xOff + i * k, k, 4, out, oo + i * n, n, t);
            }
            if (m - i == 1) {
                dot4x1(seg, wo, ws, bf, x, xOff + i * k, k, out, oo + i * n, t);
            } else if (m > i) {
                dot4x4(seg, wo, ws, bf, x, xOff + i * k, k, m - i, out, oo + i * n, n, t);
            }
        } else {
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < m; i++) {
                    out[oo + i * n + r] = dot1(seg, wo + r * ws, bf, x, xOff + i * k, k, t);
                }
            }
        }
    }

    /**
     * Sum of {@code w[c] * x[xo + c]} for the columns {@code c} in {@code [from, k)} past the last full
     * vector, in column order, added to {@code acc} last.
     */
    private static float tail(MemorySegment seg, long wo, boolean bf, float[] x, int xo, int from, int k, float acc) {
        float s = 0f;
        for (int c = from; c < k; c++) {
            float wv = bf ? Float.intBitsToFloat((seg.get(Matrix.I16_LE, wo + 2L * c) & 0xffff) << 16)
                    : seg.get(Matrix.F32_LE, wo + 4L * c);
            s += wv * x[xo + c];
        }
        return acc + s;
    }

    /*
     * Every decode kernel computes an output the same way, whichever kernel (and so whichever split
     * of rows between threads) produces it: one vector accumulator over the full vectors of the row,
     * its lanes summed in the order of sum(), plus the scalar tail. The accumulators go through a
     * scratch array before they are summed, so no vector ever crosses a call that the JIT might not
     * inline (a vector argument of a call that is not inlined is boxed on the heap).
     */

    /** One output. */
    private static float dot1(MemorySegment seg, long wo, boolean bf, float[] x, int xo, int k, float[] t) {
        int es = bf ? 2 : 4;
        FloatVector a = FloatVector.zero(F);
        int kk = 0;
        for (; kk <= k - L; kk += L) {
            a = load(seg, wo + (long) kk * es, bf).fma(FloatVector.fromArray(F, x, xo + kk), a);
        }
        a.intoArray(t, 0);
        return tail(seg, wo, bf, x, xo, kk, k, sumAt(t, 0));
    }

    /** Four weight rows against one input row: {@code out[oo + r]}. */
    private static void dot4x1(MemorySegment seg, long wo, long ws, boolean bf, float[] x, int xo, int k, float[] out,
            int oo, float[] t) {
        int es = bf ? 2 : 4;
        long w0 = wo;
        long w1 = wo + ws;
        long w2 = wo + 2 * ws;
        long w3 = wo + 3 * ws;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int kk = 0;
        for (; kk <= k - L; kk += L) {
            long b = (long) kk * es;
            FloatVector u = FloatVector.fromArray(F, x, xo + kk);
            a0 = load(seg, w0 + b, bf).fma(u, a0);
            a1 = load(seg, w1 + b, bf).fma(u, a1);
            a2 = load(seg, w2 + b, bf).fma(u, a2);
            a3 = load(seg, w3 + b, bf).fma(u, a3);
        }
        a0.intoArray(t, 0);
        a1.intoArray(t, L);
        a2.intoArray(t, 2 * L);
        a3.intoArray(t, 3 * L);
        for (int r = 0; r < 4; r++) {
            out[oo + r] = tail(seg, wo + r * ws, bf, x, xo, kk, k, sumAt(t, r * L));
        }
    }

    /**
     * Four weight rows against {@code g} (1..4) input rows {@code k} apart: {@code out[oo + i*n + r]}.
     * Missing input rows repeat the last one and are not stored.
     */
    private static void dot4x4(MemorySegment seg, long wo, long ws, boolean bf, float[] x, int xo, int k, int g,
            float[] out, int oo, int n, float[] t) {
        int es = bf ? 2 : 4;
        long w0 = wo;
        long w1 = wo + ws;
        long w2 = wo + 2 * ws;
        long w3 = wo + 3 * ws;
        int x0 = xo;
        int x1 = xo + Math.min(1, g - 1) * k;
        int x2 = xo + Math.min(2, g - 1) * k;
        int x3 = xo + Math.min(3, g - 1) * k;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int kk = 0;
        for (; kk <= k - L; kk += L) {
            long b = (long) kk * es;
            FloatVector v0 = load(seg, w0 + b, bf);
            FloatVector v1 = load(seg, w1 + b, bf);
            FloatVector v2 = load(seg, w2 + b, bf);
            FloatVector v3 = load(seg, w3 + b, bf);
            FloatVector u = FloatVector.fromArray(F, x, x0 + kk);
            a00 = v0.fma(u, a00); a01 = v1.fma(u, a01); a02 = v2.fma(u, a02); a03 = v3.fma(u, a03);
            u = FloatVector.fromArray(F, x, x1 + kk);
            a10 = v0.fma(u, a10); a11 = v1.fma(u, a11); a12 = v2.fma(u, a12); a13 = v3.fma(u, a13);
            u = FloatVector.fromArray(F, x, x2 + kk);
            a20 = v0.fma(u, a20); a21 = v1.fma(u, a21); a22 = v2.fma(u, a22); a23 = v3.fma(u, a23);
            u = FloatVector.fromArray(F, x, x3 + kk);
            a30 = v0.fma(u, a30); a31 = v1.fma(u, a31); a32 = v2.fma(u, a32); a33 = v3.fma(u, a33);
        }
        // accumulator i*4 + r (input row i, weight row r) at t[(i*4 + r) * L]
        a00.intoArray(t, 0); a01.intoArray(t, L); a02.intoArray(t, 2 * L); a03.intoArray(t, 3 * L);
        a10.intoArray(t, 4 * L); a11.intoArray(t, 5 * L); a12.intoArray(t, 6 * L); a13.intoArray(t, 7 * L);
        a20.intoArray(t, 8 * L); a21.intoArray(t, 9 * L); a22.intoArray(t, 10 * L); a23.intoArray(t, 11 * L);
        a30.intoArray(t, 12 * L); a31.intoArray(t, 13 * L); a32.intoArray(t, 14 * L); a33.intoArray(t, 15 * L);
        sum16(t);
        for (int i = 0; i < g; i++) {
            for (int r = 0; r < 4; r++) {
                out[oo + i * n + r] = tail(seg, wo + r * ws, bf, x, x0 + i * k, kk, k, t[16 * L + i * 4 + r]);
            }
        }
    }

    /**
     * The lane sums of the sixteen vectors at {@code t[i*L .. (i+1)*L)} into {@code t[16*L + i]}. With
     * L = 16 it runs the stages of the 16 x 16 transpose, adding instead of swapping: 45 vector
     * operations instead of sixteen folds. Each sum pairs the same lanes in the same order as
     * {@link #sum}, so the bits equal those of {@link #sumAt}.
     */
    private static void sum16(float[] t) {
        if (L != 16) {
            for (int i = 0; i < 16; i++) {
                t[16 * L + i] = sumAt(t, i * L);
            }
            return;
        }
        FloatVector v0 = FloatVector.fromArray(F, t, 0 * L);
        FloatVector v1 = FloatVector.fromArray(F, t, 1 * L);
        FloatVector v2 = FloatVector.fromArray(F, t, 2 * L);
        FloatVector v3 = FloatVector.fromArray(F, t, 3 * L);
        FloatVector v4 = FloatVector.fromArray(F, t, 4 * L);
        FloatVector v5 = FloatVector.fromArray(F, t, 5 * L);
        FloatVector v6 = FloatVector.fromArray(F, t, 6 * L);
        FloatVector v7 = FloatVector.fromArray(F, t, 7 * L);
        FloatVector v8 = FloatVector.fromArray(F, t, 8 * L);
        FloatVector v9 = FloatVector.fromArray(F, t, 9 * L);
        FloatVector v10 = FloatVector.fromArray(F, t, 10 * L);
        FloatVector v11 = FloatVector.fromArray(F, t, 11 * L);
        FloatVector v12 = FloatVector.fromArray(F, t, 12 * L);
        FloatVector v13 = FloatVector.fromArray(F, t, 13 * L);
        FloatVector v14 = FloatVector.fromArray(F, t, 14 * L);
        FloatVector v15 = FloatVector.fromArray(F, t, 15 * L);
        // stage 8 leaves vector 2i in lanes 0-7 and 2i+1 in lanes 8-15 of p_i, and so on
        FloatVector p0 = T8A.selectFrom(v0, v1).add(T8B.selectFrom(v0, v1));
        FloatVector p1 = T8A.selectFrom(v2, v3).add(T8B.selectFrom(v2, v3));
        FloatVector p2 = T8A.selectFrom(v4, v5).add(T8B.selectFrom(v4, v5));
        FloatVector p3 = T8A.selectFrom(v6, v7).add(T8B.selectFrom(v6, v7));
        FloatVector p4 = T8A.selectFrom(v8, v9).add(T8B.selectFrom(v8, v9));
        FloatVector p5 = T8A.selectFrom(v10, v11).add(T8B.selectFrom(v10, v11));
        FloatVector p6 = T8A.selectFrom(v12, v13).add(T8B.selectFrom(v12, v13));
        FloatVector p7 = T8A.selectFrom(v14, v15).add(T8B.selectFrom(v14, v15));
        FloatVector q0 = T4A.selectFrom(p0, p1).add(T4B.selectFrom(p0, p1));
        FloatVector q1 = T4A.selectFrom(p2, p3).add(T4B.selectFrom(p2, p3));
        FloatVector q2 = T4A.selectFrom(p4, p5).add(T4B.selectFrom(p4, p5));
        FloatVector q3 = T4A.selectFrom(p6, p7).add(T4B.selectFrom(p6, p7));
        FloatVector r0 = T2A.selectFrom(q0, q1).add(T2B.selectFrom(q0, q1));
        FloatVector r1 = T2A.selectFrom(q2, q3).add(T2B.selectFrom(q2, q3));
        T1A.selectFrom(r0, r1).add(T1B.selectFrom(r0, r1)).intoArray(t, 17 * L);
        // lane l now holds the sum of vector BITREV4[l]
        for (int l = 0; l < 16; l++) {
            t[16 * L + BITREV4[l]] = t[17 * L + l];
        }
    }

    /** Lane l of the last stage of {@link #sum16} holds vector {@code BITREV4[l]} (4-bit reversal, an involution). */
    private static final int[] BITREV4 = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
}
