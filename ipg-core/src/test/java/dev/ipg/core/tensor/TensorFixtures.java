package dev.ipg.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/** Random weights and inputs for kernel tests, stored as every dtype in heap or native memory. */
final class TensorFixtures {

    /** Unit roundoff of float32: 2^-24. */
    static final double U = 0x1p-24;

    private TensorFixtures() {
    }

    /** Uniform values in [-1, 1). */
    static float[] uniform(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return v;
    }

    /** The float value that a BF16 or F16 encoding of {@code v} represents (F32: v itself). */
    static float rounded(DType dtype, float v) {
        return switch (dtype) {
            case F32 -> v;
            case BF16 -> Float.intBitsToFloat(bf16Bits(v) << 16);
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
        };
    }

    /** BF16 encoding of {@code v}, rounded to nearest even. */
    static int bf16Bits(float v) {
        int bits = Float.floatToRawIntBits(v);
        return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
    }

    /**
     * {@code values} (row-major {@code [rows, cols]}) encoded as {@code dtype} little-endian in a
     * heap segment ({@code arena == null}) or a segment of {@code arena}. The values are rounded to
     * the dtype in place, so that {@code values} holds exactly what the matrix stores.
     */
    static Matrix matrix(float[] values, int rows, int cols, DType dtype, Arena arena) {
        int n = rows * cols;
        for (int i = 0; i < n; i++) {
            values[i] = rounded(dtype, values[i]);
        }
        MemorySegment seg;
        if (arena == null) {
            seg = switch (dtype) {
                case F32 -> MemorySegment.ofArray(values.clone());
                case BF16, F16 -> {
                    short[] h = new short[n];
                    for (int i = 0; i < n; i++) {
                        h[i] = encode16(dtype, values[i]);
                    }
                    yield MemorySegment.ofArray(h);
                }
            };
        } else {
            // one spare byte in front so the data is not even 2-byte aligned
            MemorySegment raw = arena.allocate((long) n * dtype.bytes() + 1, 16).asSlice(1);
            for (int i = 0; i < n; i++) {
                if (dtype == DType.F32) {
                    raw.set(Matrix.F32_LE, 4L * i, values[i]);
                } else {
                    raw.set(Matrix.I16_LE, 2L * i, encode16(dtype, values[i]));
                }
            }
            seg = raw;
        }
        return new Matrix(seg, dtype, rows, cols);
    }

    private static short encode16(DType dtype, float v) {
        return dtype == DType.BF16 ? (short) bf16Bits(v) : Float.floatToFloat16(v);
    }
}
