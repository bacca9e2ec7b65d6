package dev.ipg.core.tensor;

import static dev.ipg.core.tensor.VectorLanes.F;
import static dev.ipg.core.tensor.VectorLanes.H;
import static dev.ipg.core.tensor.VectorLanes.I;
import static dev.ipg.core.tensor.VectorLanes.L;
import static dev.ipg.core.tensor.VectorLanes.LE;
import static dev.ipg.core.tensor.VectorLanes.T1A;
import static dev.ipg.core.tensor.VectorLanes.T1B;
import static dev.ipg.core.tensor.VectorLanes.T2A;
import static dev.ipg.core.tensor.VectorLanes.T2B;
import static dev.ipg.core.tensor.VectorLanes.T4A;
import static dev.ipg.core.tensor.VectorLanes.T4B;
import static dev.ipg.core.tensor.VectorLanes.T8A;
import static dev.ipg.core.tensor.VectorLanes.T8B;
import static dev.ipg.core.tensor.VectorLanes.load;
import static dev.ipg.core.tensor.VectorLanes.toFloats;

import dev.ipg.core.tensor.VectorLanes.Scratch;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The matrix products of the Vector API kernels, all register-tiled broadcast-and-FMA:
 * <ul>
 *   <li>{@link #matmul}, the prefill path of {@link Kernels#matmul} (many input rows): a blocked
 *       GEMM in the BLIS style. Panels of {@code KC} columns of {@code NR} weight rows are packed
 *       (converted to f32, transposed) into thread-local scratch, the input into {@code MR}-row
 *       panels, and an {@code MR x NR} register tile accumulates {@code KC} steps at a time.
 *       Work is split over output columns only, and every output element is accumulated in the
 *       same order whatever the split.</li>
 *   <li>{@link #gemm}, {@link Kernels#gemm} on flat arrays (attention, and the backward products
 *       of {@link VectorBackward}): register tiles of 4 rows by 4 vectors of columns (or 1 masked
 *       vector at the right edge), each accumulating {@code sum_s a(i, s) * b[s, columns]} with a
 *       broadcast of {@code a} and a vector load of {@code b}, in increasing {@code s}, from zero;
 *       the tile is then added to {@code c}. Column blocks are the outer loop so a block of
 *       {@code b} stays in cache while every row sweeps it.</li>
 * </ul>
 * Only {@link VectorKernels} and {@link VectorBackward} call this class.
 */
final class VectorGemm {

    private VectorGemm() {
    }

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

    /** Floating-point operations below which the GEMM path does not split work. */
    private static final long MIN_CHUNK_FLOPS = 2L << 20;

    /** {@code {0, stride, 2 stride, ...}} for scattering a vector down a column of a packed panel. */
    private static final int[] COLUMN_NR = column(NR);
    private static final int[] COLUMN_MR = column(MR);

    private static int[] column(int stride) {
        int[] idx = new int[L];
        for (int i = 0; i < L; i++) {
            idx[i] = i * stride;
        }
        return idx;
    }

    /**
     * Prefill path. The input is packed once into MR-row panels per KC-deep block (in parallel over
     * panels). Then each thread owns a contiguous range of NR-wide panels of output columns; for
     * every NC x KC block of weights it packs the block into its scratch and runs the register tile
     * over all input panels.
     */
    static void matmul(Parallel pool, float[] x, int xOff, int m, Matrix w, float[] out, int outOff) {
        int n = w.rows();
        int k = w.cols();
        int mPanels = (m + MR - 1) / MR;
        int blockSize = mPanels * MR * KC; // floats per KC block of packed input
        Scratch caller = Scratch.local();
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
            Scratch s = Scratch.local();
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
     * Full 16 x 16 blocks go through {@link #transpose16}; the rest is scattered one row at a time.
     */
    static void packB(Matrix w, int j0, int nc, int k0, int kc, float[] bp, Scratch s) {
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
                        transpose16(seg, off + (long) kk * w.dtype().bytes(), rowBytes, bf, bp, base + kk * NR, NR, s.block);
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

    /**
     * Transposes a 16 x 16 block: 16 weight rows ({@code rowBytes} apart from {@code off}), 16 columns
     * each, into {@code dst[d + kk*stride + r]}. Four stages of two-vector lane selects, in two
     * passes through the 256-float scratch {@code t}: stages 8 and 4 from the rows into {@code t},
     * stages 2 and 1 from {@code t} into {@code dst}. Each pass is a loop over four independent
     * groups of four rows, so each method is a small compile unit (the four stages of all sixteen
     * rows in one method are too large for C1, which then never profiles it for C2, and the
     * interpreted Vector API allocates for every operation) and no vector lives across a call.
     */
    private static void transpose16(MemorySegment seg, long off, long rowBytes, boolean bf, float[] dst, int d, int stride,
            float[] t) {
        stages84(seg, off, rowBytes, bf, t);
        stages21(t, dst, d, stride);
    }

    /**
     * Stages 8 and 4 of the transpose of 16 weight rows (F32, or BF16 widened by a 16-bit shift):
     * group i (i {@code <} 4) is rows i, i + 4, i + 8, i + 12, closed under both stages; result row
     * r goes to {@code t[16 r]}.
     */
    private static void stages84(MemorySegment seg, long off, long rowBytes, boolean bf, float[] t) {
        for (int i = 0; i < 4; i++) {
            long o = off + i * rowBytes;
            FloatVector v0, v4, v8, v12;
            if (bf) {
                v0 = ((IntVector) ShortVector.fromMemorySegment(H, seg, o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                v4 = ((IntVector) ShortVector.fromMemorySegment(H, seg, o + 4 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                v8 = ((IntVector) ShortVector.fromMemorySegment(H, seg, o + 8 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                v12 = ((IntVector) ShortVector.fromMemorySegment(H, seg, o + 12 * rowBytes, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            } else {
                v0 = FloatVector.fromMemorySegment(F, seg, o, LE);
                v4 = FloatVector.fromMemorySegment(F, seg, o + 4 * rowBytes, LE);
                v8 = FloatVector.fromMemorySegment(F, seg, o + 8 * rowBytes, LE);
                v12 = FloatVector.fromMemorySegment(F, seg, o + 12 * rowBytes, LE);
            }
            FloatVector s0 = T8A.selectFrom(v0, v8);
            FloatVector s8 = T8B.selectFrom(v0, v8);
            FloatVector s4 = T8A.selectFrom(v4, v12);
            FloatVector s12 = T8B.selectFrom(v4, v12);
            T4A.selectFrom(s0, s4).intoArray(t, 16 * i);
            T4B.selectFrom(s0, s4).intoArray(t, 16 * (i + 4));
            T4A.selectFrom(s8, s12).intoArray(t, 16 * (i + 8));
            T4B.selectFrom(s8, s12).intoArray(t, 16 * (i + 12));
        }
    }

    /**
     * Stages 2 and 1 of the transpose: group g (g = 0, 4, 8, 12) is rows g .. g + 3 of {@code t}
     * ({@code t[16 r]}), closed under both stages; result row r goes to {@code dst[d + r*stride]}.
     */
    private static void stages21(float[] t, float[] dst, int d, int stride) {
        for (int g = 0; g < 16; g += 4) {
            FloatVector v0 = FloatVector.fromArray(F, t, 16 * g);
            FloatVector v1 = FloatVector.fromArray(F, t, 16 * g + 16);
            FloatVector v2 = FloatVector.fromArray(F, t, 16 * g + 32);
            FloatVector v3 = FloatVector.fromArray(F, t, 16 * g + 48);
            FloatVector s0 = T2A.selectFrom(v0, v2);
            FloatVector s2 = T2B.selectFrom(v0, v2);
            FloatVector s1 = T2A.selectFrom(v1, v3);
            FloatVector s3 = T2B.selectFrom(v1, v3);
            int o = d + g * stride;
            T1A.selectFrom(s0, s1).intoArray(dst, o);
            T1B.selectFrom(s0, s1).intoArray(dst, o + stride);
            T1A.selectFrom(s2, s3).intoArray(dst, o + 2 * stride);
            T1B.selectFrom(s2, s3).intoArray(dst, o + 3 * stride);
        }
    }

    /**
     * Packs input rows {@code [0, mc)} (row stride k from {@code xo}), columns {@code [k0, k0 + kc)}
     * as panels of MR rows: {@code ap[ao + p*kc*MR + kk*MR + r] = x[p*MR + r, k0 + kk]}, missing rows
     * zero. Pairs of full panels go through 16 x 16 register transposes.
     */
    static void packA(float[] x, int xo, int k, int mc, int k0, int kc, float[] ap, int ao) {
        int panels = (mc + MR - 1) / MR;
        int p = 0;
        if (L == 16 && MR == 8) {
            float[] t = Scratch.local().block;
            for (; (p + 2) * MR <= mc; p += 2) {
                int b0 = ao + p * kc * MR;
                int b1 = b0 + kc * MR;
                int src = xo + p * MR * k + k0;
                int kk = 0;
                for (; kk <= kc - 16; kk += 16) {
                    transposeA16(x, src + kk, k, ap, b0 + kk * MR, b1 + kk * MR, t);
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
     * Packs a 16 x 16 block of the input: rows {@code src + r*k} (r {@code <} 16), 16 columns each, into
     * two MR = 8 panels: {@code ap[a0 + c*8 + r]} for r {@code <} 8 and {@code ap[a1 + c*8 + r - 8]}
     * for r {@code >=} 8. The same two passes through {@code t} as {@link #transpose16}.
     */
    private static void transposeA16(float[] x, int src, int k, float[] ap, int a0, int a1, float[] t) {
        for (int i = 0; i < 4; i++) {
            int o = src + i * k;
            FloatVector v0 = FloatVector.fromArray(F, x, o);
            FloatVector v4 = FloatVector.fromArray(F, x, o + 4 * k);
            FloatVector v8 = FloatVector.fromArray(F, x, o + 8 * k);
            FloatVector v12 = FloatVector.fromArray(F, x, o + 12 * k);
            FloatVector s0 = T8A.selectFrom(v0, v8);
            FloatVector s8 = T8B.selectFrom(v0, v8);
            FloatVector s4 = T8A.selectFrom(v4, v12);
            FloatVector s12 = T8B.selectFrom(v4, v12);
            T4A.selectFrom(s0, s4).intoArray(t, 16 * i);
            T4B.selectFrom(s0, s4).intoArray(t, 16 * (i + 4));
            T4A.selectFrom(s8, s12).intoArray(t, 16 * (i + 8));
            T4B.selectFrom(s8, s12).intoArray(t, 16 * (i + 12));
        }
        stages21A(t, ap, a0, a1);
    }

    /** Stages 2 and 1 as {@link #stages21}, each result row split over the two panels of {@link #transposeA16}. */
    private static void stages21A(float[] t, float[] ap, int a0, int a1) {
        for (int g = 0; g < 16; g += 4) {
            FloatVector v0 = FloatVector.fromArray(F, t, 16 * g);
            FloatVector v1 = FloatVector.fromArray(F, t, 16 * g + 16);
            FloatVector v2 = FloatVector.fromArray(F, t, 16 * g + 32);
            FloatVector v3 = FloatVector.fromArray(F, t, 16 * g + 48);
            FloatVector s0 = T2A.selectFrom(v0, v2);
            FloatVector s2 = T2B.selectFrom(v0, v2);
            FloatVector s1 = T2A.selectFrom(v1, v3);
            FloatVector s3 = T2B.selectFrom(v1, v3);
            FloatVector r0 = T1A.selectFrom(s0, s1);
            FloatVector r1 = T1B.selectFrom(s0, s1);
            FloatVector r2 = T1A.selectFrom(s2, s3);
            FloatVector r3 = T1B.selectFrom(s2, s3);
            int o0 = a0 + 8 * g;
            int o1 = a1 + 8 * g - 8;
            r0.intoArray(ap, o0, LOW8);
            r0.intoArray(ap, o1, HIGH8);
            r1.intoArray(ap, o0 + 8, LOW8);
            r1.intoArray(ap, o1 + 8, HIGH8);
            r2.intoArray(ap, o0 + 16, LOW8);
            r2.intoArray(ap, o1 + 16, HIGH8);
            r3.intoArray(ap, o0 + 24, LOW8);
            r3.intoArray(ap, o1 + 24, HIGH8);
        }
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

    // ------------------------------------------------------------------ gemm on flat arrays

    private static final int W = 4 * L;

    /** {@link Kernels#gemm}: see the class comment. */
    static void gemm(int m, int n, int depth, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                     float[] c, int co, int ldc) {
        int j = 0;
        for (; j + W <= n; j += W) {
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                tile4x4(depth, a, ao + i * ars, ars, acs, b, bo + j, ldb, c, co + i * ldc + j, ldc);
            }
            for (; i < m; i++) {
                tile1x4(depth, a, ao + i * ars, acs, b, bo + j, ldb, c, co + i * ldc + j);
            }
        }
        for (; j < n; j += L) {
            VectorMask<Float> mk = F.indexInRange(j, n);
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                tile4x1(depth, a, ao + i * ars, ars, acs, b, bo + j, ldb, c, co + i * ldc + j, ldc, mk);
            }
            for (; i < m; i++) {
                tile1x1(depth, a, ao + i * ars, acs, b, bo + j, ldb, c, co + i * ldc + j, mk);
            }
        }
    }

    private static void tile4x4(int depth, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                                float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F), c33 = FloatVector.zero(F);
        for (int s = 0; s < depth; s++) {
            int bs = bo + s * ldb;
            FloatVector b0 = FloatVector.fromArray(F, b, bs);
            FloatVector b1 = FloatVector.fromArray(F, b, bs + L);
            FloatVector b2 = FloatVector.fromArray(F, b, bs + 2 * L);
            FloatVector b3 = FloatVector.fromArray(F, b, bs + 3 * L);
            int as = ao + s * acs;
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
        int r0 = co;
        FloatVector.fromArray(F, c, r0).add(c00).intoArray(c, r0);
        FloatVector.fromArray(F, c, r0 + L).add(c01).intoArray(c, r0 + L);
        FloatVector.fromArray(F, c, r0 + 2 * L).add(c02).intoArray(c, r0 + 2 * L);
        FloatVector.fromArray(F, c, r0 + 3 * L).add(c03).intoArray(c, r0 + 3 * L);
        int r1 = co + ldc;
        FloatVector.fromArray(F, c, r1).add(c10).intoArray(c, r1);
        FloatVector.fromArray(F, c, r1 + L).add(c11).intoArray(c, r1 + L);
        FloatVector.fromArray(F, c, r1 + 2 * L).add(c12).intoArray(c, r1 + 2 * L);
        FloatVector.fromArray(F, c, r1 + 3 * L).add(c13).intoArray(c, r1 + 3 * L);
        int r2 = co + 2 * ldc;
        FloatVector.fromArray(F, c, r2).add(c20).intoArray(c, r2);
        FloatVector.fromArray(F, c, r2 + L).add(c21).intoArray(c, r2 + L);
        FloatVector.fromArray(F, c, r2 + 2 * L).add(c22).intoArray(c, r2 + 2 * L);
        FloatVector.fromArray(F, c, r2 + 3 * L).add(c23).intoArray(c, r2 + 3 * L);
        int r3 = co + 3 * ldc;
        FloatVector.fromArray(F, c, r3).add(c30).intoArray(c, r3);
        FloatVector.fromArray(F, c, r3 + L).add(c31).intoArray(c, r3 + L);
        FloatVector.fromArray(F, c, r3 + 2 * L).add(c32).intoArray(c, r3 + 2 * L);
        FloatVector.fromArray(F, c, r3 + 3 * L).add(c33).intoArray(c, r3 + 3 * L);
    }

    private static void tile1x4(int depth, float[] a, int ao, int acs, float[] b, int bo, int ldb, float[] c, int co) {
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        for (int s = 0; s < depth; s++) {
            int bs = bo + s * ldb;
            FloatVector av = FloatVector.broadcast(F, a[ao + s * acs]);
            c0 = av.fma(FloatVector.fromArray(F, b, bs), c0);
            c1 = av.fma(FloatVector.fromArray(F, b, bs + L), c1);
            c2 = av.fma(FloatVector.fromArray(F, b, bs + 2 * L), c2);
            c3 = av.fma(FloatVector.fromArray(F, b, bs + 3 * L), c3);
        }
        FloatVector.fromArray(F, c, co).add(c0).intoArray(c, co);
        FloatVector.fromArray(F, c, co + L).add(c1).intoArray(c, co + L);
        FloatVector.fromArray(F, c, co + 2 * L).add(c2).intoArray(c, co + 2 * L);
        FloatVector.fromArray(F, c, co + 3 * L).add(c3).intoArray(c, co + 3 * L);
    }

    private static void tile4x1(int depth, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                                float[] c, int co, int ldc, VectorMask<Float> mk) {
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        for (int s = 0; s < depth; s++) {
            FloatVector bv = FloatVector.fromArray(F, b, bo + s * ldb, mk);
            int as = ao + s * acs;
            c0 = FloatVector.broadcast(F, a[as]).fma(bv, c0);
            c1 = FloatVector.broadcast(F, a[as + ars]).fma(bv, c1);
            c2 = FloatVector.broadcast(F, a[as + 2 * ars]).fma(bv, c2);
            c3 = FloatVector.broadcast(F, a[as + 3 * ars]).fma(bv, c3);
        }
        FloatVector.fromArray(F, c, co, mk).add(c0).intoArray(c, co, mk);
        FloatVector.fromArray(F, c, co + ldc, mk).add(c1).intoArray(c, co + ldc, mk);
        FloatVector.fromArray(F, c, co + 2 * ldc, mk).add(c2).intoArray(c, co + 2 * ldc, mk);
        FloatVector.fromArray(F, c, co + 3 * ldc, mk).add(c3).intoArray(c, co + 3 * ldc, mk);
    }

    private static void tile1x1(int depth, float[] a, int ao, int acs, float[] b, int bo, int ldb, float[] c, int co,
                                VectorMask<Float> mk) {
        FloatVector c0 = FloatVector.zero(F);
        for (int s = 0; s < depth; s++) {
            c0 = FloatVector.broadcast(F, a[ao + s * acs]).fma(FloatVector.fromArray(F, b, bo + s * ldb, mk), c0);
        }
        FloatVector.fromArray(F, c, co, mk).add(c0).intoArray(c, co, mk);
    }
}
