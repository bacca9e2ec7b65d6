package dev.ipg.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A read-only row-major matrix {@code [rows, cols]} stored in a memory segment: a memory-mapped
 * checkpoint tensor, an arena allocation, or a heap array wrapped with
 * {@link MemorySegment#ofArray(float[])}. Elements are little-endian F32, F16 or BF16; every
 * read returns float32. A 1-D tensor of length n is a {@code [1, n]} matrix.
 */
public record Matrix(MemorySegment data, DType dtype, int rows, int cols) {

    public static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Matrix {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        }
        long need = (long) rows * cols * dtype.bytes();
        if (data.byteSize() < need) {
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes is too small for "
                    + dtype + " [" + rows + ", " + cols + "] (" + need + " bytes)");
        }
    }

    /** Wraps a heap float array as a {@code [rows, cols]} F32 matrix (no copy). */
    public static Matrix of(float[] values, int rows, int cols) {
        if ((long) rows * cols > values.length) {
            throw new IllegalArgumentException("array of " + values.length + " floats is too small for ["
                    + rows + ", " + cols + "]");
        }
        return new Matrix(MemorySegment.ofArray(values), DType.F32, rows, cols);
    }

    /** Element {@code [r, c]} as float32. */
    public float get(int r, int c) {
        return getFlat((long) r * cols + c);
    }

    /** Element at flat index {@code i} (row-major) as float32. */
    public float getFlat(long i) {
        return switch (dtype) {
            case F32 -> data.get(F32_LE, i * 4);
            case BF16 -> Float.intBitsToFloat((data.get(I16_LE, i * 2) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(data.get(I16_LE, i * 2));
        };
    }

    /** Copies row {@code r} as float32 into {@code dst[off .. off + cols)}. */
    public void copyRow(int r, float[] dst, int off) {
        long base = (long) r * cols;
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, base * 4, dst, off, cols);
            return;
        }
        for (int c = 0; c < cols; c++) {
            dst[off + c] = getFlat(base + c);
        }
    }

    /** Copies {@code len} elements of row {@code r} from column {@code c0} as float32 into {@code dst[off ..]}. */
    public void copyRow(int r, int c0, float[] dst, int off, int len) {
        long base = (long) r * cols + c0;
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, base * 4, dst, off, len);
            return;
        }
        for (int c = 0; c < len; c++) {
            dst[off + c] = getFlat(base + c);
        }
    }

    /** A view of rows {@code [from, to)}; no copy. */
    public Matrix rowSlice(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + rows);
        }
        long b = (long) dtype.bytes() * cols;
        return new Matrix(data.asSlice(from * b, (to - from) * b), dtype, to - from, cols);
    }

    /** Number of elements. */
    public long size() {
        return (long) rows * cols;
    }
}
