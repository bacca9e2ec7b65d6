package dev.ipg.core.io;

import java.util.Arrays;

/**
 * One entry of a safetensors header: a tensor's name, its dtype as written in the file
 * ({@code "F32"}, {@code "BF16"}, {@code "I64"}, ...), its shape, and its byte range
 * {@code [begin, end)} relative to the start of the file's data buffer (the header's
 * {@code data_offsets}). All sizes and offsets are {@code long}: files may exceed 2 GB.
 */
public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    /** A copy of the shape; the record itself stays immutable. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions (0 for a scalar). */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Number of bytes of tensor data, {@code end - begin}. */
    public long byteSize() {
        return end - begin;
    }

    /** The shape as {@code [64, 32]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype.equals(t.dtype)
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return ((name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape)) * 31
                + Long.hashCode(begin) * 17 + Long.hashCode(end);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString() + " @[" + begin + ", " + end + ")";
    }
}
