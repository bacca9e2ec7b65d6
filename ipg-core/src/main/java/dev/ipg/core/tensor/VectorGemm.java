package dev.ipg.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels#gemm} on the Vector API: register tiles of 4 rows by 4 vectors of columns (or 1
 * masked vector at the right edge), each accumulating {@code sum_s a(i, s) * b[s, columns]} with a
 * broadcast of {@code a} and a vector load of {@code b}, in increasing {@code s}, from zero; the tile
 * is then added to {@code c}. Column blocks are the outer loop so a block of {@code b} stays in
 * cache while every row sweeps it. Only {@link VectorKernels} calls this class.
 */
final class VectorGemm {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int W = 4 * L;

    private VectorGemm() {
    }

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
