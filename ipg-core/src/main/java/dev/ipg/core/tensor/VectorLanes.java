package dev.ipg.core.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the Vector API kernels share: the species of the machine, loads of F32/BF16 weight rows,
 * conversion of any weight dtype to f32, the lane selectors of the 16 x 16 register transposes,
 * the fixed-order lane sum, and the per-thread scratch buffers. Only the {@code Vector*} classes
 * of this package use it (it touches {@code jdk.incubator.vector}).
 */
final class VectorLanes {

    private VectorLanes() {
    }

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector. */
    static final int L = F.length();
    /** Shorts with the same lane count as {@link #F} (BF16/F16 storage). */
    static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** L floats of a weight row: F32 little-endian, or BF16 widened by a 16-bit shift. */
    static FloatVector load(MemorySegment seg, long off, boolean bf) {
        if (bf) {
            ShortVector h = ShortVector.fromMemorySegment(H, seg, off, LE);
            return ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
        return FloatVector.fromMemorySegment(F, seg, off, LE);
    }

    /** As {@link #load(MemorySegment, long, boolean)}, only lanes {@code < len} (others 0). */
    static FloatVector load(MemorySegment seg, long off, boolean bf, int len) {
        if (bf) {
            ShortVector h = ShortVector.fromMemorySegment(H, seg, off, LE, H.indexInRange(0, len));
            return ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
        return FloatVector.fromMemorySegment(F, seg, off, LE, F.indexInRange(0, len));
    }

    // Lane selectors of the 16 x 16 transpose: stage b pairs rows i and i + b (i without bit b).
    static final FloatVector T8A = selector(8, true);
    static final FloatVector T8B = selector(8, false);
    static final FloatVector T4A = selector(4, true);
    static final FloatVector T4B = selector(4, false);
    static final FloatVector T2A = selector(2, true);
    static final FloatVector T2B = selector(2, false);
    static final FloatVector T1A = selector(1, true);
    static final FloatVector T1B = selector(1, false);

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

    /** Elements {@code [from, from + len)} (flat, row-major) of {@code w} as f32 into {@code dst[off..]}. */
    static void toFloats(Matrix w, long from, int len, float[] dst, int off, Scratch s) {
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
    static float sumAt(float[] t, int off) {
        return sum(FloatVector.fromArray(F, t, off));
    }

    /** Per-thread buffers, grown on demand and reused across calls. */
    static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

        /** This thread's buffers. */
        static Scratch local() {
            return LOCAL.get();
        }

        float[] ap = new float[0];
        float[] bp = new float[0];
        float[] row = new float[0];
        short[] half = new short[0];
        float[] norm = new float[0];
        float[] bias = new float[0];
        final float[] tile = new float[VectorGemm.MR * VectorGemm.NR];
        final float[] lanes = new float[18 * L];
        /** One L x L block between the passes of a register transpose. */
        final float[] block = new float[L * L];

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
}
