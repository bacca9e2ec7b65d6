package dev.ipg.core.model;

import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Matrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Finding NaN and infinite values. The hot-path test, {@link #all}, is one vectorized dot product
 * of a vector with itself, which is finite exactly when every element is finite and the squared
 * norm stays below the float range (about 1.8e19 in norm); only when it is not finite is the
 * vector scanned element by element. The scans of whole tensors are for diagnosis only.
 */
public final class NonFinite {

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private NonFinite() {
    }

    /** Whether {@code a[off, off + n)} holds only finite values. */
    public static boolean all(Kernels k, float[] a, int off, int n) {
        return n == 0 || Float.isFinite(k.dot(a, off, a, off, n)) || first(a, off, n) < 0;
    }

    /** The index (relative to {@code off}) of the first NaN or infinite value of {@code a[off, off + n)}, or -1. */
    public static int first(float[] a, int off, int n) {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(a[off + i])) {
                return i;
            }
        }
        return -1;
    }

    /** "NaN", "+Inf" or "-Inf" (or the number, for a finite value). */
    public static String name(float v) {
        if (Float.isNaN(v)) {
            return "NaN";
        }
        if (Float.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        return Float.toString(v);
    }

    /**
     * The flat index of the first NaN or infinite element of a tensor, or -1; reads the stored
     * bits (exponent all ones), so F16 and BF16 are not converted.
     */
    static long firstInTensor(Matrix m) {
        MemorySegment seg = m.data();
        long n = m.size();
        final int chunk = 1 << 16;
        switch (m.dtype()) {
            case F32 -> {
                int[] buf = new int[chunk];
                for (long i0 = 0; i0 < n; i0 += chunk) {
                    int c = (int) Math.min(chunk, n - i0);
                    MemorySegment.copy(seg, I32, i0 * 4, buf, 0, c);
                    for (int i = 0; i < c; i++) {
                        if ((buf[i] & 0x7f800000) == 0x7f800000) {
                            return i0 + i;
                        }
                    }
                }
            }
            case BF16, F16 -> {
                int mask = m.dtype() == DType.BF16 ? 0x7f80 : 0x7c00;
                short[] buf = new short[chunk];
                for (long i0 = 0; i0 < n; i0 += chunk) {
                    int c = (int) Math.min(chunk, n - i0);
                    MemorySegment.copy(seg, I16, i0 * 2, buf, 0, c);
                    for (int i = 0; i < c; i++) {
                        if ((buf[i] & mask) == mask) {
                            return i0 + i;
                        }
                    }
                }
            }
        }
        return -1;
    }
}
