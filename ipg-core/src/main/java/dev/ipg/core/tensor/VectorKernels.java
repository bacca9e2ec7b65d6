package dev.ipg.core.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels} on the Vector API ({@code jdk.incubator.vector}), with the preferred species of
 * the machine. Loaded only through {@link KernelsProvider#lookup()}, which checks first that the
 * incubator module is present: no other class of the engine refers to this one.
 *
 * <p>{@link #matmul} has two paths chosen by {@code m} alone (never by the thread count):
 * <ul>
 *   <li>small {@code m} (decode): each weight row is streamed once from its segment and dotted with
 *       all {@code m} input rows; one vector accumulator per output, reduced at the end. BF16 rows
 *       are widened in registers, F16 rows are converted one row at a time into a scratch buffer.</li>
 *   <li>large {@code m} (prefill): a blocked GEMM in the BLIS style. Panels of {@code KC} columns of
 *       {@code NR} weight rows are packed (converted to f32, transposed) into thread-local scratch,
 *       the input into {@code MR}-row panels, and an {@code MR x NR} register tile of
 *       broadcast-and-FMA accumulates {@code KC} steps at a time.</li>
 * </ul>
 * Work is split over output columns only, and every output element is accumulated in the same
 * order whatever the split, so results are bitwise identical for any number of threads.
 */
final class VectorKernels implements Kernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector. */
    private static final int L = F.length();
    /** Shorts with the same lane count as {@link #F} (BF16/F16 storage). */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Rows of the register tile (input rows). */
    static final int MR = 8;
    /** Columns of the register tile (weight rows): two vectors. */
    static final int NR = 2 * L;
    /**
     * Depth of one packed block: an NR-row weight panel of KC columns (32 KB) stays in L1 while the
     * register tile sweeps the input panels. Part of the result's definition: outputs are summed
     * KC columns at a time, then the blocks in order.
     */
    static final int KC = 256;
    /** Input rows per block of the sweep (a multiple of MR). */
    static final int MC = 256;
    /** Weight rows per packed block (a multiple of NR): 1024 x KC floats, 1 MB, stays in L2. */
    static final int NC = 1024 / NR * NR;
    /** Up to this many input rows the matmul streams weights (decode path); above, it runs the GEMM. */
    static final int SMALL_M = 8;

    /** Weight bytes below which the decode path does not split work (hand-off costs microseconds). */
    private static final long MIN_CHUNK_BYTES = 512 << 10;
    /** Floating-point operations below which the GEMM path does not split work. */
    private static final long MIN_CHUNK_FLOPS = 2L << 20;

    /** {@code {0, stride, 2 stride, ...}} for scattering a vector down a column of a packed panel. */
    private static final int[] COLUMN_NR = column(NR);
    private static final int[] COLUMN_MR = column(MR);

    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    VectorKernels() {
        if (L < 4) {
            throw new UnsupportedOperationException("vector species too small: " + F);
        }
    }

    private static int[] column(int stride) {
        int[] idx = new int[L];
        for (int i = 0; i < L; i++) {
            idx[i] = i * stride;
        }
        return idx;
    }

    /** Per-thread buffers, grown on demand and reused across calls. */
    private static final class Scratch {
        float[] ap = new float[0];
        float[] bp = new float[0];
        float[] row = new float[0];
        short[] half = new short[0];
        float[] norm = new float[0];
        float[] bias = new float[0];
        final float[] tile = new float[MR * NR];
        final float[] lanes = new float[18 * L];

        float[] packedA(int n) {
            if (ap.length < n) {
                ap = new float[n];
            }
            return ap;
        }

        float[] bp(int n) {
            if (bp.length < n) {
                bp = new float[n];
            }
            return bp;
        }

        float[] row(int n) {
            if (row.length < n) {
                row = new float[n];
                half = new short[n];
            }
            return row;
        }
    }

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    // ---------------------------------------------------------------------------------- matmul

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
            streamRows(pool, x, xOff, m, w, out, outOff);
        } else {
            gemm(pool, x, xOff, m, w, out, outOff);
        }
    }

    /** Decode path: every weight row is read once, in blocks of four rows, for all m input rows. */
    private void streamRows(Parallel pool, float[] x, int xOff, int m, Matrix w, float[] out, int outOff) {
        int n = w.rows();
        int k = w.cols();
        long rowBytes = (long) k * w.dtype().bytes();
        int grain = (int) Math.max(64, Math.min(n, MIN_CHUNK_BYTES / Math.max(1, rowBytes)));
        pool.forRange(n, grain, (j0, j1) -> {
            if (w.dtype() == DType.F16) {
                Scratch s = scratch.get();
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
                float[] t = scratch.get().lanes;
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

    /** L floats of a weight row: F32 little-endian, or BF16 widened by a 16-bit shift. */
    private static FloatVector load(MemorySegment seg, long off, boolean bf) {
        if (bf) {
            ShortVector h = ShortVector.fromMemorySegment(H, seg, off, LE);
            return ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
        return FloatVector.fromMemorySegment(F, seg, off, LE);
    }

    /** As {@link #load(MemorySegment, long, boolean)}, only lanes {@code < len} (others 0). */
    private static FloatVector load(MemorySegment seg, long off, boolean bf, int len) {
        if (bf) {
            ShortVector h = ShortVector.fromMemorySegment(H, seg, off, LE, H.indexInRange(0, len));
            return ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
        return FloatVector.fromMemorySegment(F, seg, off, LE, F.indexInRange(0, len));
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
     * Prefill path. The input is packed once into MR-row panels per KC-deep block (in parallel over
     * panels). Then each thread owns a contiguous range of NR-wide panels of output columns; for
     * every NC x KC block of weights it packs the block into its scratch and runs the register tile
     * over all input panels.
     */
    private void gemm(Parallel pool, float[] x, int xOff, int m, Matrix w, float[] out, int outOff) {
        int n = w.rows();
        int k = w.cols();
        int mPanels = (m + MR - 1) / MR;
        int blockSize = mPanels * MR * KC; // floats per KC block of packed input
        Scratch caller = scratch.get();
        float[] ap = caller.packedA(((k + KC - 1) / KC) * blockSize);
        pool.forRange(mPanels, (int) Math.max(1, (256 << 10) / ((long) MR * k)), (q0, q1) -> {
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                int b = (pc / KC) * blockSize;
                packA(x, xOff + q0 * MR * k, k, Math.min(m, q1 * MR) - q0 * MR, pc, kc, ap, b + q0 * MR * kc);
            }
        });
        int panels = (n + NR - 1) / NR;
        int grain = (int) Math.max(1, MIN_CHUNK_FLOPS / (2L * m * k * NR));
        pool.forRange(panels, grain, (p0, p1) -> {
            Scratch s = scratch.get();
            int jEnd = Math.min(n, p1 * NR);
            for (int jc = p0 * NR; jc < jEnd; jc += NC) {
                int nc = Math.min(NC, jEnd - jc);
                int ncPanels = (nc + NR - 1) / NR;
                for (int pc = 0; pc < k; pc += KC) {
                    int kc = Math.min(KC, k - pc);
                    boolean accumulate = pc > 0;
                    int ab = (pc / KC) * blockSize;
                    float[] bp = s.bp(ncPanels * NR * kc);
                    packB(w, jc, nc, pc, kc, bp, s);
                    for (int ic = 0; ic < m; ic += MC) {
                        int mc = Math.min(MC, m - ic);
                        for (int jr = 0; jr < nc; jr += NR) {
                            int nr = Math.min(NR, nc - jr);
                            int bo = jr * kc;
                            for (int ir = 0; ir < mc; ir += MR) {
                                int mr = Math.min(MR, mc - ir);
                                int ao = ab + (ic + ir) * kc;
                                int co = outOff + (ic + ir) * n + jc + jr;
                                if (mr == MR && nr == NR) {
                                    micro8x2(ap, ao, bp, bo, kc, out, co, n, accumulate);
                                } else {
                                    float[] t = s.tile;
                                    micro8x2(ap, ao, bp, bo, kc, t, 0, NR, false);
                                    for (int r = 0; r < mr; r++) {
                                        for (int q = 0; q < nr; q++) {
                                            int o = co + r * n + q;
                                            out[o] = accumulate ? out[o] + t[r * NR + q] : t[r * NR + q];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * Packs weight rows {@code [j0, j0 + nc)}, columns {@code [k0, k0 + kc)} as f32 panels of NR rows:
     * {@code bp[p*kc*NR + kk*NR + jj] = w[j0 + p*NR + jj, k0 + kk]}, rows past the end as zeros.
     * Full 16 x 16 blocks are transposed in registers; the rest is scattered one row at a time.
     */
    private static void packB(Matrix w, int j0, int nc, int k0, int kc, float[] bp, Scratch s) {
        int panels = (nc + NR - 1) / NR;
        MemorySegment seg = w.data();
        boolean bf = w.dtype() == DType.BF16;
        long rowBytes = (long) w.cols() * w.dtype().bytes();
        for (int p = 0; p < panels; p++) {
            for (int g = 0; g < NR; g += L) {
                int r0 = p * NR + g;
                int base = p * kc * NR + g;
                int kk = 0;
                if (L == 16 && r0 + L <= nc && w.dtype() != DType.F16) {
                    long off = (j0 + r0) * rowBytes + (long) k0 * w.dtype().bytes();
                    for (; kk <= kc - L; kk += L) {
                        transpose16(seg, off + (long) kk * w.dtype().bytes(), rowBytes, bf, bp, base + kk * NR, NR);
                    }
                }
                for (int r = 0; r < L; r++) {
                    scatterRow(w, r0 + r < nc ? j0 + r0 + r : -1, k0, kk, kc, bp, base + r, s);
                }
            }
        }
    }

    /**
     * Columns {@code [from, kc)} of weight row {@code row} (offset {@code k0}), as f32, down a packed
     * column: {@code bp[base + kk*NR]}. Row -1 writes zeros.
     */
    private static void scatterRow(Matrix w, int row, int k0, int from, int kc, float[] bp, int base, Scratch s) {
        int kk = from;
        if (row < 0) {
            for (; kk < kc; kk++) {
                bp[base + kk * NR] = 0f;
            }
            return;
        }
        long e = (long) row * w.cols() + k0;
        if (w.dtype() == DType.F16) {
            float[] buf = s.row(kc);
            toFloats(w, e + kk, kc - kk, buf, kk, s);
            for (; kk <= kc - L; kk += L) {
                FloatVector.fromArray(F, buf, kk).intoArray(bp, base + kk * NR, COLUMN_NR, 0);
            }
            for (; kk < kc; kk++) {
                bp[base + kk * NR] = buf[kk];
            }
            return;
        }
        boolean bf = w.dtype() == DType.BF16;
        int es = w.dtype().bytes();
        long off = e * es;
        MemorySegment seg = w.data();
        for (; kk <= kc - L; kk += L) {
            load(seg, off + (long) kk * es, bf).intoArray(bp, base + kk * NR, COLUMN_NR, 0);
        }
        if (kk < kc) {
            // a masked scatter still range-checks its unset lanes: finish through a scratch vector
            float[] t = s.lanes;
            load(seg, off + (long) kk * es, bf, kc - kk).intoArray(t, 0);
            for (int q = 0; kk < kc; kk++, q++) {
                bp[base + kk * NR] = t[q];
            }
        }
    }

    // Lane selectors of the 16 x 16 transpose: stage b pairs rows i and i + b (i without bit b).
    private static final FloatVector T8A = selector(8, true);
    private static final FloatVector T8B = selector(8, false);
    private static final FloatVector T4A = selector(4, true);
    private static final FloatVector T4B = selector(4, false);
    private static final FloatVector T2A = selector(2, true);
    private static final FloatVector T2B = selector(2, false);
    private static final FloatVector T1A = selector(1, true);
    private static final FloatVector T1B = selector(1, false);

    /** Lane l of the first (second) row of a pair after stage b; indices >= 16 select the second row. */
    private static FloatVector selector(int b, boolean first) {
        if (L != 16) {
            return null;
        }
        float[] idx = new float[16];
        for (int l = 0; l < 16; l++) {
            boolean low = (l & b) == 0;
            idx[l] = first ? (low ? l : 16 + l - b) : (low ? l + b : 16 + l);
        }
        return FloatVector.fromArray(F, idx, 0);
    }

    /**
     * Transposes a 16 x 16 block: 16 weight rows ({@code rowBytes} apart from {@code off}), 16 columns
     * each, into {@code dst[d + kk*stride + r]}. Four stages of two-vector lane selects. The loads
     * are written out (not a helper call) so that they are always inlined.
     */
    private static void transpose16(MemorySegment seg, long off, long rowBytes, boolean bf, float[] dst, int d, int stride) {
        FloatVector v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15;
        if (bf) {
            v0 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v1 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v2 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 2 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v3 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 3 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v4 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 4 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v5 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 5 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v6 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 6 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v7 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 7 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v8 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 8 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v9 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 9 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v10 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 10 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v11 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 11 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v12 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 12 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v13 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 13 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v14 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 14 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            v15 = ((IntVector) ShortVector.fromMemorySegment(H, seg, off + 15 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        } else {
            v0 = FloatVector.fromMemorySegment(F, seg, off, LE);
            v1 = FloatVector.fromMemorySegment(F, seg, off + rowBytes, LE);
            v2 = FloatVector.fromMemorySegment(F, seg, off + 2 * rowBytes, LE);
            v3 = FloatVector.fromMemorySegment(F, seg, off + 3 * rowBytes, LE);
            v4 = FloatVector.fromMemorySegment(F, seg, off + 4 * rowBytes, LE);
            v5 = FloatVector.fromMemorySegment(F, seg, off + 5 * rowBytes, LE);
            v6 = FloatVector.fromMemorySegment(F, seg, off + 6 * rowBytes, LE);
            v7 = FloatVector.fromMemorySegment(F, seg, off + 7 * rowBytes, LE);
            v8 = FloatVector.fromMemorySegment(F, seg, off + 8 * rowBytes, LE);
            v9 = FloatVector.fromMemorySegment(F, seg, off + 9 * rowBytes, LE);
            v10 = FloatVector.fromMemorySegment(F, seg, off + 10 * rowBytes, LE);
            v11 = FloatVector.fromMemorySegment(F, seg, off + 11 * rowBytes, LE);
            v12 = FloatVector.fromMemorySegment(F, seg, off + 12 * rowBytes, LE);
            v13 = FloatVector.fromMemorySegment(F, seg, off + 13 * rowBytes, LE);
            v14 = FloatVector.fromMemorySegment(F, seg, off + 14 * rowBytes, LE);
            v15 = FloatVector.fromMemorySegment(F, seg, off + 15 * rowBytes, LE);
        }
        FloatVector s0_0 = T8A.selectFrom(v0, v8);
        FloatVector s0_8 = T8B.selectFrom(v0, v8);
        FloatVector s0_1 = T8A.selectFrom(v1, v9);
        FloatVector s0_9 = T8B.selectFrom(v1, v9);
        FloatVector s0_2 = T8A.selectFrom(v2, v10);
        FloatVector s0_10 = T8B.selectFrom(v2, v10);
        FloatVector s0_3 = T8A.selectFrom(v3, v11);
        FloatVector s0_11 = T8B.selectFrom(v3, v11);
        FloatVector s0_4 = T8A.selectFrom(v4, v12);
        FloatVector s0_12 = T8B.selectFrom(v4, v12);
        FloatVector s0_5 = T8A.selectFrom(v5, v13);
        FloatVector s0_13 = T8B.selectFrom(v5, v13);
        FloatVector s0_6 = T8A.selectFrom(v6, v14);
        FloatVector s0_14 = T8B.selectFrom(v6, v14);
        FloatVector s0_7 = T8A.selectFrom(v7, v15);
        FloatVector s0_15 = T8B.selectFrom(v7, v15);
        FloatVector s1_0 = T4A.selectFrom(s0_0, s0_4);
        FloatVector s1_4 = T4B.selectFrom(s0_0, s0_4);
        FloatVector s1_1 = T4A.selectFrom(s0_1, s0_5);
        FloatVector s1_5 = T4B.selectFrom(s0_1, s0_5);
        FloatVector s1_2 = T4A.selectFrom(s0_2, s0_6);
        FloatVector s1_6 = T4B.selectFrom(s0_2, s0_6);
        FloatVector s1_3 = T4A.selectFrom(s0_3, s0_7);
        FloatVector s1_7 = T4B.selectFrom(s0_3, s0_7);
        FloatVector s1_8 = T4A.selectFrom(s0_8, s0_12);
        FloatVector s1_12 = T4B.selectFrom(s0_8, s0_12);
        FloatVector s1_9 = T4A.selectFrom(s0_9, s0_13);
        FloatVector s1_13 = T4B.selectFrom(s0_9, s0_13);
        FloatVector s1_10 = T4A.selectFrom(s0_10, s0_14);
        FloatVector s1_14 = T4B.selectFrom(s0_10, s0_14);
        FloatVector s1_11 = T4A.selectFrom(s0_11, s0_15);
        FloatVector s1_15 = T4B.selectFrom(s0_11, s0_15);
        FloatVector s2_0 = T2A.selectFrom(s1_0, s1_2);
        FloatVector s2_2 = T2B.selectFrom(s1_0, s1_2);
        FloatVector s2_1 = T2A.selectFrom(s1_1, s1_3);
        FloatVector s2_3 = T2B.selectFrom(s1_1, s1_3);
        FloatVector s2_4 = T2A.selectFrom(s1_4, s1_6);
        FloatVector s2_6 = T2B.selectFrom(s1_4, s1_6);
        FloatVector s2_5 = T2A.selectFrom(s1_5, s1_7);
        FloatVector s2_7 = T2B.selectFrom(s1_5, s1_7);
        FloatVector s2_8 = T2A.selectFrom(s1_8, s1_10);
        FloatVector s2_10 = T2B.selectFrom(s1_8, s1_10);
        FloatVector s2_9 = T2A.selectFrom(s1_9, s1_11);
        FloatVector s2_11 = T2B.selectFrom(s1_9, s1_11);
        FloatVector s2_12 = T2A.selectFrom(s1_12, s1_14);
        FloatVector s2_14 = T2B.selectFrom(s1_12, s1_14);
        FloatVector s2_13 = T2A.selectFrom(s1_13, s1_15);
        FloatVector s2_15 = T2B.selectFrom(s1_13, s1_15);
        FloatVector s3_0 = T1A.selectFrom(s2_0, s2_1);
        FloatVector s3_1 = T1B.selectFrom(s2_0, s2_1);
        FloatVector s3_2 = T1A.selectFrom(s2_2, s2_3);
        FloatVector s3_3 = T1B.selectFrom(s2_2, s2_3);
        FloatVector s3_4 = T1A.selectFrom(s2_4, s2_5);
        FloatVector s3_5 = T1B.selectFrom(s2_4, s2_5);
        FloatVector s3_6 = T1A.selectFrom(s2_6, s2_7);
        FloatVector s3_7 = T1B.selectFrom(s2_6, s2_7);
        FloatVector s3_8 = T1A.selectFrom(s2_8, s2_9);
        FloatVector s3_9 = T1B.selectFrom(s2_8, s2_9);
        FloatVector s3_10 = T1A.selectFrom(s2_10, s2_11);
        FloatVector s3_11 = T1B.selectFrom(s2_10, s2_11);
        FloatVector s3_12 = T1A.selectFrom(s2_12, s2_13);
        FloatVector s3_13 = T1B.selectFrom(s2_12, s2_13);
        FloatVector s3_14 = T1A.selectFrom(s2_14, s2_15);
        FloatVector s3_15 = T1B.selectFrom(s2_14, s2_15);
        s3_0.intoArray(dst, d);
        s3_1.intoArray(dst, d + stride);
        s3_2.intoArray(dst, d + 2 * stride);
        s3_3.intoArray(dst, d + 3 * stride);
        s3_4.intoArray(dst, d + 4 * stride);
        s3_5.intoArray(dst, d + 5 * stride);
        s3_6.intoArray(dst, d + 6 * stride);
        s3_7.intoArray(dst, d + 7 * stride);
        s3_8.intoArray(dst, d + 8 * stride);
        s3_9.intoArray(dst, d + 9 * stride);
        s3_10.intoArray(dst, d + 10 * stride);
        s3_11.intoArray(dst, d + 11 * stride);
        s3_12.intoArray(dst, d + 12 * stride);
        s3_13.intoArray(dst, d + 13 * stride);
        s3_14.intoArray(dst, d + 14 * stride);
        s3_15.intoArray(dst, d + 15 * stride);
    }



    /**
     * Packs input rows {@code [0, mc)} (row stride k from {@code xo}), columns {@code [k0, k0 + kc)}
     * as panels of MR rows: {@code ap[ao + p*kc*MR + kk*MR + r] = x[p*MR + r, k0 + kk]}, missing rows
     * zero. Pairs of full panels go through 16 x 16 register transposes.
     */
    private static void packA(float[] x, int xo, int k, int mc, int k0, int kc, float[] ap, int ao) {
        int panels = (mc + MR - 1) / MR;
        int p = 0;
        if (L == 16 && MR == 8) {
            for (; (p + 2) * MR <= mc; p += 2) {
                int b0 = ao + p * kc * MR;
                int b1 = b0 + kc * MR;
                int src = xo + p * MR * k + k0;
                int kk = 0;
                for (; kk <= kc - 16; kk += 16) {
                    transposeA16(x, src + kk, k, ap, b0 + kk * MR, b1 + kk * MR);
                }
                for (int r = 0; r < 16 && kk < kc; r++) {
                    packRowA(x, src + r * k, kk, kc, ap, (r < 8 ? b0 : b1) + r % 8);
                }
            }
        }
        for (; p < panels; p++) {
            for (int r = 0; r < MR; r++) {
                int row = p * MR + r;
                int base = ao + p * kc * MR + r;
                if (row < mc) {
                    packRowA(x, xo + row * k + k0, 0, kc, ap, base);
                } else {
                    for (int kk = 0; kk < kc; kk++) {
                        ap[base + kk * MR] = 0f;
                    }
                }
            }
        }
    }

    /** Columns {@code [from, kc)} of one input row starting at {@code src}, down a packed column. */
    private static void packRowA(float[] x, int src, int from, int kc, float[] ap, int base) {
        int kk = from;
        for (; kk <= kc - L; kk += L) {
            FloatVector.fromArray(F, x, src + kk).intoArray(ap, base + kk * MR, COLUMN_MR, 0);
        }
        for (; kk < kc; kk++) {
            ap[base + kk * MR] = x[src + kk];
        }
    }

    private static final VectorMask<Float> LOW8 = L == 16 ? F.indexInRange(0, 8) : null;
    private static final VectorMask<Float> HIGH8 = L == 16 ? LOW8.not() : null;

    /**
     * Packs a 16 x 16 block of the input: rows {@code src + r*k} (r < 16), 16 columns each, into two
     * MR = 8 panels: {@code ap[a0 + c*8 + r]} for r < 8 and {@code ap[a1 + c*8 + r - 8]} for r >= 8.
     */
    private static void transposeA16(float[] x, int src, int k, float[] ap, int a0, int a1) {
        FloatVector v0 = FloatVector.fromArray(F, x, src);
        FloatVector v1 = FloatVector.fromArray(F, x, src + k);
        FloatVector v2 = FloatVector.fromArray(F, x, src + 2 * k);
        FloatVector v3 = FloatVector.fromArray(F, x, src + 3 * k);
        FloatVector v4 = FloatVector.fromArray(F, x, src + 4 * k);
        FloatVector v5 = FloatVector.fromArray(F, x, src + 5 * k);
        FloatVector v6 = FloatVector.fromArray(F, x, src + 6 * k);
        FloatVector v7 = FloatVector.fromArray(F, x, src + 7 * k);
        FloatVector v8 = FloatVector.fromArray(F, x, src + 8 * k);
        FloatVector v9 = FloatVector.fromArray(F, x, src + 9 * k);
        FloatVector v10 = FloatVector.fromArray(F, x, src + 10 * k);
        FloatVector v11 = FloatVector.fromArray(F, x, src + 11 * k);
        FloatVector v12 = FloatVector.fromArray(F, x, src + 12 * k);
        FloatVector v13 = FloatVector.fromArray(F, x, src + 13 * k);
        FloatVector v14 = FloatVector.fromArray(F, x, src + 14 * k);
        FloatVector v15 = FloatVector.fromArray(F, x, src + 15 * k);
        FloatVector s0_0 = T8A.selectFrom(v0, v8);
        FloatVector s0_8 = T8B.selectFrom(v0, v8);
        FloatVector s0_1 = T8A.selectFrom(v1, v9);
        FloatVector s0_9 = T8B.selectFrom(v1, v9);
        FloatVector s0_2 = T8A.selectFrom(v2, v10);
        FloatVector s0_10 = T8B.selectFrom(v2, v10);
        FloatVector s0_3 = T8A.selectFrom(v3, v11);
        FloatVector s0_11 = T8B.selectFrom(v3, v11);
        FloatVector s0_4 = T8A.selectFrom(v4, v12);
        FloatVector s0_12 = T8B.selectFrom(v4, v12);
        FloatVector s0_5 = T8A.selectFrom(v5, v13);
        FloatVector s0_13 = T8B.selectFrom(v5, v13);
        FloatVector s0_6 = T8A.selectFrom(v6, v14);
        FloatVector s0_14 = T8B.selectFrom(v6, v14);
        FloatVector s0_7 = T8A.selectFrom(v7, v15);
        FloatVector s0_15 = T8B.selectFrom(v7, v15);
        FloatVector s1_0 = T4A.selectFrom(s0_0, s0_4);
        FloatVector s1_4 = T4B.selectFrom(s0_0, s0_4);
        FloatVector s1_1 = T4A.selectFrom(s0_1, s0_5);
        FloatVector s1_5 = T4B.selectFrom(s0_1, s0_5);
        FloatVector s1_2 = T4A.selectFrom(s0_2, s0_6);
        FloatVector s1_6 = T4B.selectFrom(s0_2, s0_6);
        FloatVector s1_3 = T4A.selectFrom(s0_3, s0_7);
        FloatVector s1_7 = T4B.selectFrom(s0_3, s0_7);
        FloatVector s1_8 = T4A.selectFrom(s0_8, s0_12);
        FloatVector s1_12 = T4B.selectFrom(s0_8, s0_12);
        FloatVector s1_9 = T4A.selectFrom(s0_9, s0_13);
        FloatVector s1_13 = T4B.selectFrom(s0_9, s0_13);
        FloatVector s1_10 = T4A.selectFrom(s0_10, s0_14);
        FloatVector s1_14 = T4B.selectFrom(s0_10, s0_14);
        FloatVector s1_11 = T4A.selectFrom(s0_11, s0_15);
        FloatVector s1_15 = T4B.selectFrom(s0_11, s0_15);
        FloatVector s2_0 = T2A.selectFrom(s1_0, s1_2);
        FloatVector s2_2 = T2B.selectFrom(s1_0, s1_2);
        FloatVector s2_1 = T2A.selectFrom(s1_1, s1_3);
        FloatVector s2_3 = T2B.selectFrom(s1_1, s1_3);
        FloatVector s2_4 = T2A.selectFrom(s1_4, s1_6);
        FloatVector s2_6 = T2B.selectFrom(s1_4, s1_6);
        FloatVector s2_5 = T2A.selectFrom(s1_5, s1_7);
        FloatVector s2_7 = T2B.selectFrom(s1_5, s1_7);
        FloatVector s2_8 = T2A.selectFrom(s1_8, s1_10);
        FloatVector s2_10 = T2B.selectFrom(s1_8, s1_10);
        FloatVector s2_9 = T2A.selectFrom(s1_9, s1_11);
        FloatVector s2_11 = T2B.selectFrom(s1_9, s1_11);
        FloatVector s2_12 = T2A.selectFrom(s1_12, s1_14);
        FloatVector s2_14 = T2B.selectFrom(s1_12, s1_14);
        FloatVector s2_13 = T2A.selectFrom(s1_13, s1_15);
        FloatVector s2_15 = T2B.selectFrom(s1_13, s1_15);
        FloatVector s3_0 = T1A.selectFrom(s2_0, s2_1);
        FloatVector s3_1 = T1B.selectFrom(s2_0, s2_1);
        FloatVector s3_2 = T1A.selectFrom(s2_2, s2_3);
        FloatVector s3_3 = T1B.selectFrom(s2_2, s2_3);
        FloatVector s3_4 = T1A.selectFrom(s2_4, s2_5);
        FloatVector s3_5 = T1B.selectFrom(s2_4, s2_5);
        FloatVector s3_6 = T1A.selectFrom(s2_6, s2_7);
        FloatVector s3_7 = T1B.selectFrom(s2_6, s2_7);
        FloatVector s3_8 = T1A.selectFrom(s2_8, s2_9);
        FloatVector s3_9 = T1B.selectFrom(s2_8, s2_9);
        FloatVector s3_10 = T1A.selectFrom(s2_10, s2_11);
        FloatVector s3_11 = T1B.selectFrom(s2_10, s2_11);
        FloatVector s3_12 = T1A.selectFrom(s2_12, s2_13);
        FloatVector s3_13 = T1B.selectFrom(s2_12, s2_13);
        FloatVector s3_14 = T1A.selectFrom(s2_14, s2_15);
        FloatVector s3_15 = T1B.selectFrom(s2_14, s2_15);
        s3_0.intoArray(ap, a0, LOW8); s3_0.intoArray(ap, a1 - 8, HIGH8);
        s3_1.intoArray(ap, a0 + 8, LOW8); s3_1.intoArray(ap, a1 + 8 - 8, HIGH8);
        s3_2.intoArray(ap, a0 + 16, LOW8); s3_2.intoArray(ap, a1 + 16 - 8, HIGH8);
        s3_3.intoArray(ap, a0 + 24, LOW8); s3_3.intoArray(ap, a1 + 24 - 8, HIGH8);
        s3_4.intoArray(ap, a0 + 32, LOW8); s3_4.intoArray(ap, a1 + 32 - 8, HIGH8);
        s3_5.intoArray(ap, a0 + 40, LOW8); s3_5.intoArray(ap, a1 + 40 - 8, HIGH8);
        s3_6.intoArray(ap, a0 + 48, LOW8); s3_6.intoArray(ap, a1 + 48 - 8, HIGH8);
        s3_7.intoArray(ap, a0 + 56, LOW8); s3_7.intoArray(ap, a1 + 56 - 8, HIGH8);
        s3_8.intoArray(ap, a0 + 64, LOW8); s3_8.intoArray(ap, a1 + 64 - 8, HIGH8);
        s3_9.intoArray(ap, a0 + 72, LOW8); s3_9.intoArray(ap, a1 + 72 - 8, HIGH8);
        s3_10.intoArray(ap, a0 + 80, LOW8); s3_10.intoArray(ap, a1 + 80 - 8, HIGH8);
        s3_11.intoArray(ap, a0 + 88, LOW8); s3_11.intoArray(ap, a1 + 88 - 8, HIGH8);
        s3_12.intoArray(ap, a0 + 96, LOW8); s3_12.intoArray(ap, a1 + 96 - 8, HIGH8);
        s3_13.intoArray(ap, a0 + 104, LOW8); s3_13.intoArray(ap, a1 + 104 - 8, HIGH8);
        s3_14.intoArray(ap, a0 + 112, LOW8); s3_14.intoArray(ap, a1 + 112 - 8, HIGH8);
        s3_15.intoArray(ap, a0 + 120, LOW8); s3_15.intoArray(ap, a1 + 120 - 8, HIGH8);
    }


    /** The 8 x 2L register tile: {@code c[r, v] (+)= sum_k ap[k*8 + r] * bp[k*2L + v]} over {@code kc} steps. */
    private static void micro8x2(float[] ap, int ao, float[] bp, int bo, int kc, float[] c, int co, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00;
        FloatVector c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        int k = 0;
        for (; k < kc; k++) {
            int a = ao + (k) * 8;
            int b = bo + (k) * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector a0 = FloatVector.broadcast(F, ap[a]);
            c00 = b0.fma(a0, c00); c01 = b1.fma(a0, c01);
            FloatVector a1 = FloatVector.broadcast(F, ap[a + 1]);
            c10 = b0.fma(a1, c10); c11 = b1.fma(a1, c11);
            FloatVector a2 = FloatVector.broadcast(F, ap[a + 2]);
            c20 = b0.fma(a2, c20); c21 = b1.fma(a2, c21);
            FloatVector a3 = FloatVector.broadcast(F, ap[a + 3]);
            c30 = b0.fma(a3, c30); c31 = b1.fma(a3, c31);
            FloatVector a4 = FloatVector.broadcast(F, ap[a + 4]);
            c40 = b0.fma(a4, c40); c41 = b1.fma(a4, c41);
            FloatVector a5 = FloatVector.broadcast(F, ap[a + 5]);
            c50 = b0.fma(a5, c50); c51 = b1.fma(a5, c51);
            FloatVector a6 = FloatVector.broadcast(F, ap[a + 6]);
            c60 = b0.fma(a6, c60); c61 = b1.fma(a6, c61);
            FloatVector a7 = FloatVector.broadcast(F, ap[a + 7]);
            c70 = b0.fma(a7, c70); c71 = b1.fma(a7, c71);
        }
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(F, c, co)); c01 = c01.add(FloatVector.fromArray(F, c, co + L));
            c10 = c10.add(FloatVector.fromArray(F, c, co + ldc)); c11 = c11.add(FloatVector.fromArray(F, c, co + ldc + L));
            c20 = c20.add(FloatVector.fromArray(F, c, co + 2 * ldc)); c21 = c21.add(FloatVector.fromArray(F, c, co + 2 * ldc + L));
            c30 = c30.add(FloatVector.fromArray(F, c, co + 3 * ldc)); c31 = c31.add(FloatVector.fromArray(F, c, co + 3 * ldc + L));
            c40 = c40.add(FloatVector.fromArray(F, c, co + 4 * ldc)); c41 = c41.add(FloatVector.fromArray(F, c, co + 4 * ldc + L));
            c50 = c50.add(FloatVector.fromArray(F, c, co + 5 * ldc)); c51 = c51.add(FloatVector.fromArray(F, c, co + 5 * ldc + L));
            c60 = c60.add(FloatVector.fromArray(F, c, co + 6 * ldc)); c61 = c61.add(FloatVector.fromArray(F, c, co + 6 * ldc + L));
            c70 = c70.add(FloatVector.fromArray(F, c, co + 7 * ldc)); c71 = c71.add(FloatVector.fromArray(F, c, co + 7 * ldc + L));
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L);
        c10.intoArray(c, co + ldc); c11.intoArray(c, co + ldc + L);
        c20.intoArray(c, co + 2 * ldc); c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc); c31.intoArray(c, co + 3 * ldc + L);
        c40.intoArray(c, co + 4 * ldc); c41.intoArray(c, co + 4 * ldc + L);
        c50.intoArray(c, co + 5 * ldc); c51.intoArray(c, co + 5 * ldc + L);
        c60.intoArray(c, co + 6 * ldc); c61.intoArray(c, co + 6 * ldc + L);
        c70.intoArray(c, co + 7 * ldc); c71.intoArray(c, co + 7 * ldc + L);
    }

    // ------------------------------------------------------------------------ conversions

    /** Elements {@code [from, from + len)} (flat, row-major) of {@code w} as f32 into {@code dst[off..]}. */
    private static void toFloats(Matrix w, long from, int len, float[] dst, int off, Scratch s) {
        MemorySegment seg = w.data();
        switch (w.dtype()) {
            case F32 -> MemorySegment.copy(seg, Matrix.F32_LE, from * 4, dst, off, len);
            case BF16 -> {
                int i = 0;
                for (; i <= len - L; i += L) {
                    load(seg, (from + i) * 2, true).intoArray(dst, off + i);
                }
                if (i < len) {
                    load(seg, (from + i) * 2, true, len - i).intoArray(dst, off + i, F.indexInRange(i, len));
                }
            }
            case F16 -> {
                short[] h = s.half.length >= len ? s.half : new short[len];
                MemorySegment.copy(seg, Matrix.I16_LE, from * 2, h, 0, len);
                for (int i = 0; i < len; i++) {
                    dst[off + i] = Float.float16ToFloat(h[i]);
                }
            }
        }
    }

    /** A row of a norm's weight as f32 (a scratch array; valid until the next call on this thread). */
    private float[] weights(Matrix w, int n, Scratch s, boolean second) {
        if (w.size() < n) {
            throw new IllegalArgumentException("norm weight of " + w.size() + " elements, row of " + n);
        }
        float[] dst;
        if (second) {
            if (s.bias.length < n) {
                s.bias = new float[n];
            }
            dst = s.bias;
        } else {
            if (s.norm.length < n) {
                s.norm = new float[n];
            }
            dst = s.norm;
        }
        if (w.dtype() == DType.F16 && s.half.length < n) {
            s.half = new short[n];
        }
        toFloats(w, 0, n, dst, 0, s);
        return dst;
    }

    // ----------------------------------------------------------------------- reductions

    private static final VectorShuffle<Float> FOLD1 = fold(1);
    private static final VectorShuffle<Float> FOLD2 = fold(2);
    private static final VectorShuffle<Float> FOLD4 = fold(4);
    private static final VectorShuffle<Float> FOLD8 = fold(8);
    private static final VectorShuffle<Float> FOLD16 = fold(16);

    private static VectorShuffle<Float> fold(int by) {
        return by < L ? VectorShuffle.fromOp(F, i -> (i + by) % L) : null;
    }

    /**
     * Sum of the lanes in a fixed order (halving folds, lane-wise adds). Unlike
     * {@code reduceLanes(ADD)}, whose order is unspecified, this gives the same bits in the
     * interpreter and in compiled code.
     */
    static float sum(FloatVector v) {
        if (L > 16) {
            v = v.add(v.rearrange(FOLD16));
        }
        if (L > 8) {
            v = v.add(v.rearrange(FOLD8));
        }
        if (L > 4) {
            v = v.add(v.rearrange(FOLD4));
        }
        v = v.add(v.rearrange(FOLD2));
        v = v.add(v.rearrange(FOLD1));
        return v.lane(0);
    }

    /** Sum of the lanes of the vector stored at {@code t[off .. off + L)}, as {@link #sum}. */
    private static float sumAt(float[] t, int off) {
        return sum(FloatVector.fromArray(F, t, off));
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

    // ------------------------------------------------------------------ vector kernels

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        Objects.checkFromIndexSize(ao, n, a.length);
        Objects.checkFromIndexSize(bo, n, b.length);
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
            s1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), s1);
        }
        for (; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            s0 = FloatVector.fromArray(F, a, ao + i, mk).fma(FloatVector.fromArray(F, b, bo + i, mk), s0);
        }
        return sum(s0.add(s1));
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        Objects.checkFromIndexSize(xo, n, x.length);
        Objects.checkFromIndexSize(yo, n, y.length);
        FloatVector a = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (; i <= n - L; i += L) {
            // y + alpha * x, rounded as the scalar loop rounds it (product, then sum)
            FloatVector.fromArray(F, x, xo + i).mul(a).add(FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, xo + i, mk).mul(a).add(FloatVector.fromArray(F, y, yo + i, mk))
                    .intoArray(y, yo + i, mk);
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float alpha) {
        Objects.checkFromIndexSize(off, n, x.length);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, x, off + i).mul(alpha).intoArray(x, off + i);
        }
        if (i < n) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, off + i, mk).mul(alpha).intoArray(x, off + i, mk);
        }
    }

    @Override
    public float rmsnorm(float[] x, int xo, Matrix weight, float weightOffset, float eps, float[] out, int oo, int n) {
        Objects.checkFromIndexSize(xo, n, x.length);
        Objects.checkFromIndexSize(oo, n, out.length);
        float[] wt = weights(weight, n, scratch.get(), false);
        FloatVector ss = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            ss = v.fma(v, ss);
        }
        if (i < n) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i, F.indexInRange(i, n));
            ss = v.fma(v, ss);
        }
        float inv = (float) (1.0 / Math.sqrt(sum(ss) / n + eps));
        // out = x * inv * (weightOffset + w), in the scalar loop's order
        for (i = 0; i <= n - L; i += L) {
            FloatVector.fromArray(F, x, xo + i).mul(inv).mul(FloatVector.fromArray(F, wt, i).add(weightOffset))
                    .intoArray(out, oo + i);
        }
        if (i < n) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, xo + i, mk).mul(inv).mul(FloatVector.fromArray(F, wt, i, mk).add(weightOffset))
                    .intoArray(out, oo + i, mk);
        }
        return inv;
    }

    @Override
    public float layernorm(float[] x, int xo, Matrix weight, Matrix bias, float eps, float[] out, int oo, int n) {
        Objects.checkFromIndexSize(xo, n, x.length);
        Objects.checkFromIndexSize(oo, n, out.length);
        Scratch s = scratch.get();
        float[] wt = weights(weight, n, s, false);
        float[] bs = bias == null ? null : weights(bias, n, s, true);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = acc.add(FloatVector.fromArray(F, x, xo + i));
        }
        if (i < n) {
            acc = acc.add(FloatVector.fromArray(F, x, xo + i, F.indexInRange(i, n)));
        }
        float mean = sum(acc) / n;
        FloatVector mv = FloatVector.broadcast(F, mean);
        acc = FloatVector.zero(F);
        for (i = 0; i <= n - L; i += L) {
            FloatVector d = FloatVector.fromArray(F, x, xo + i).sub(mv);
            acc = d.fma(d, acc);
        }
        if (i < n) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector d = FloatVector.fromArray(F, x, xo + i, mk).sub(mv, mk); // lanes past n stay 0
            acc = d.fma(d, acc);
        }
        float inv = (float) (1.0 / Math.sqrt(sum(acc) / n + eps));
        for (i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(F, x, xo + i, mk).sub(mv).mul(inv).mul(FloatVector.fromArray(F, wt, i, mk));
            if (bs != null) {
                v = v.add(FloatVector.fromArray(F, bs, i, mk));
            }
            v.intoArray(out, oo + i, mk);
        }
        return inv;
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        if (n == 0) {
            return;
        }
        FloatVector mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) {
            mx = mx.max(FloatVector.fromArray(F, x, off + i));
        }
        float max = mx.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        FloatVector acc = FloatVector.zero(F);
        for (i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector e = exp(FloatVector.fromArray(F, x, off + i, mk).sub(max));
            e.intoArray(x, off + i, mk);
            acc = acc.add(e, mk);
        }
        float inv = 1f / sum(acc);
        scale(x, off, n, inv);
    }

    @Override
    public void siluMul(float[] gate, int go, float[] up, int uo, float[] out, int oo, int n) {
        Objects.checkFromIndexSize(go, n, gate.length);
        Objects.checkFromIndexSize(uo, n, up.length);
        Objects.checkFromIndexSize(oo, n, out.length);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector g = FloatVector.fromArray(F, gate, go + i, mk);
            FloatVector e = exp(g.neg()).add(1f);
            g.div(e).mul(FloatVector.fromArray(F, up, uo + i, mk)).intoArray(out, oo + i, mk);
        }
    }

    @Override
    public void geluTanh(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(F, x, off + i, mk);
            FloatVector y = v.mul(v).mul(v).mul(0.044715f).add(v).mul(ScalarKernels.GELU_C);
            // tanh(y) = 1 - 2 / (e^{2y} + 1): exact limits at both ends, no overflow (exp saturates)
            FloatVector th = FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(exp(y.add(y)).add(1f)));
            v.mul(0.5f).mul(th.add(1f)).intoArray(x, off + i, mk);
        }
    }

    // Cephes-style expf: x = n ln2 + r, |r| <= ln2 / 2, exp(r) by a degree-7 polynomial, times 2^n.
    private static final float EXP_HI = 88.72283905206835f; // ln(Float.MAX_VALUE)
    private static final float EXP_LO = -87.33654475055310f; // ln(Float.MIN_NORMAL)
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: adding and subtracting rounds to an integer

    /**
     * {@code e^x} lane-wise from adds, multiplies and bit operations only, so its bits do not depend
     * on whether the JIT replaced a library call; within 2 ulp of {@link Math#exp}. Lanes above
     * {@code ln(Float.MAX_VALUE)} give +inf, lanes below {@code ln(Float.MIN_NORMAL)} (including -inf)
     * give 0 where Math.exp would give a subnormal. NaN stays NaN.
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_LO);
        VectorMask<Float> over = x.compare(VectorOperators.GT, EXP_HI);
        FloatVector c = x.max(EXP_LO).min(EXP_HI);
        FloatVector fn = c.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = fn.fma(FloatVector.broadcast(F, -LN2_HI), c);
        r = fn.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, 1.9875691500e-4f);
        p = p.fma(r, FloatVector.broadcast(F, 1.3981999507e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        // 2^n as 2^h * 2^(n-h), h = n >> 1: both factors are normal for n in [-126, 128]
        IntVector n = (IntVector) fn.convert(VectorOperators.F2I, 0);
        IntVector h = n.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = h.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = n.sub(h).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(s1).mul(s2).blend(0f, under).blend(Float.POSITIVE_INFINITY, over);
    }

    @Override
    public void matmulInputGrad(Parallel pool, float[] dy, int dyOff, int m, Matrix w, float[] dx, int dxOff) {
        VectorBackward.inputGrad(pool, dy, dyOff, m, w, dx, dxOff);
    }

    @Override
    public void gemm(int m, int n, int depth, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                     float[] c, int co, int ldc) {
        VectorGemm.gemm(m, n, depth, a, ao, ars, acs, b, bo, ldb, c, co, ldc);
    }

    @Override
    public void matmulWeightGrad(Parallel pool, float[] dy, int m, int n, float[] x, int k, float[] dw) {
        VectorBackward.weightGrad(pool, dy, m, n, x, k, dw);
    }
}
