package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Matrix;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {

    @TempDir
    Path dir;

    // float32 input bits -> bfloat16 bits, worked out by hand (round to nearest, ties to even).
    static final int[][] BF16_CASES = {
            {0x3F800000, 0x3F80}, // 1.0: exact
            {0x3F808000, 0x3F80}, // 1 + 2^-8: tie, 0x3F80 is even -> down to 1.0
            {0x3F818000, 0x3F82}, // 1 + 3*2^-8: tie, 0x3F81 is odd -> up to 1 + 2^-6
            {0x3F808001, 0x3F81}, // just above the tie -> up
            {0x3F807FFF, 0x3F80}, // just below the tie -> down
            {0xBF818000, 0xBF82}, // negative tie, odd -> away from zero to the even neighbour
            {0x40490FDB, 0x4049}, // pi -> 3.140625
            {0x000116C2, 0x0001}, // subnormal 1e-40 -> smallest bf16 subnormal 2^-133
            {0x80000000, 0x8000}, // -0.0 keeps its sign
            {0x7F7FFFFF, 0x7F80}, // largest float rounds up to +infinity
            {0x7F800000, 0x7F80}, // +inf
            {0xFF800000, 0xFF80}, // -inf
            {0x7FC00000, 0x7FC0}, // quiet NaN
            {0xFFC00000, 0xFFC0}, // negative NaN keeps its sign
            {0x7F800001, 0x7FC0}, // NaN with only low payload bits: stays NaN (quieted), not +inf
    };

    // float32 value -> float16 bits, worked out by hand.
    static final float[] F16_INPUTS = {0.1f, 1f / 3, 65504f, 65520f, 1e-8f, 0x1p-24f, -2f, 1 + 0x1p-11f, 1 + 3 * 0x1p-11f};
    static final int[] F16_BITS = {
            0x2E66, // 0.1 = 1.6 * 2^-4: exponent 11, mantissa 614.4 -> 614 = 0.0999755859375
            0x3555, // 1/3 = 1.333 * 2^-2: exponent 13, mantissa 341.33 -> 341
            0x7BFF, // largest half
            0x7C00, // tie between 65504 (odd mantissa) and 65536 -> even -> +inf
            0x0000, // below half the smallest subnormal -> +0
            0x0001, // smallest subnormal
            0xC000, // -2
            0x3C00, // tie, even -> 1.0
            0x3C02, // tie, odd -> 1 + 2^-9
    };

    @Test
    void writesTheReferenceLayoutByteForByte() throws IOException {
        Path f = dir.resolve("a.safetensors");
        new SafetensorsWriter().add("a", new float[] {1f, -2f}, new long[] {2}, DType.F32).write(f);

        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        // 85 JSON bytes padded with 3 spaces to 88, a multiple of 8.
        byte[] expected = new byte[8 + 88 + 8];
        expected[0] = 88;
        System.arraycopy(json.getBytes(StandardCharsets.US_ASCII), 0, expected, 8, 85);
        expected[8 + 85] = ' ';
        expected[8 + 86] = ' ';
        expected[8 + 87] = ' ';
        byte[] data = {0, 0, (byte) 0x80, 0x3F, 0, 0, 0, (byte) 0xC0}; // 1.0f, -2.0f little-endian
        System.arraycopy(data, 0, expected, 96, 8);
        assertArrayEquals(expected, Files.readAllBytes(f));
    }

    @Test
    void bf16RoundsToNearestEven() throws IOException {
        float[] in = new float[BF16_CASES.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = Float.intBitsToFloat(BF16_CASES[i][0]);
            assertEquals(BF16_CASES[i][1], SafetensorsWriter.bf16(in[i]) & 0xffff,
                    "bf16 of 0x" + Integer.toHexString(BF16_CASES[i][0]));
        }
        Path f = dir.resolve("bf.safetensors");
        new SafetensorsWriter().add("x", in, new long[] {in.length}, DType.BF16).write(f);
        try (var st = SafetensorsFile.open(f)) {
            MemorySegment s = st.segment("x");
            assertEquals(2L * in.length, s.byteSize());
            Matrix m = st.matrix("x");
            for (int i = 0; i < in.length; i++) {
                assertEquals(BF16_CASES[i][1], s.get(Matrix.I16_LE, 2L * i) & 0xffff, "stored bits, case " + i);
                assertEquals(BF16_CASES[i][1] << 16, Float.floatToRawIntBits(m.get(0, i)), "read back, case " + i);
            }
            assertEquals(3.140625f, m.get(0, 6));
            assertEquals(0x1p-133f, m.get(0, 7));
            assertEquals(1 + 0x1p-6f, m.get(0, 2));
        }
    }

    @Test
    void f16RoundsToNearestEven() throws IOException {
        Path f = dir.resolve("h.safetensors");
        new SafetensorsWriter().add("x", F16_INPUTS, new long[] {F16_INPUTS.length}, DType.F16).write(f);
        try (var st = SafetensorsFile.open(f)) {
            MemorySegment s = st.segment("x");
            for (int i = 0; i < F16_BITS.length; i++) {
                assertEquals(F16_BITS[i], s.get(Matrix.I16_LE, 2L * i) & 0xffff, "stored bits of " + F16_INPUTS[i]);
            }
            Matrix m = st.matrix("x");
            assertEquals(0.0999755859375f, m.get(0, 0));
            assertEquals(0.333251953125f, m.get(0, 1));
            assertEquals(65504f, m.get(0, 2));
            assertEquals(Float.POSITIVE_INFINITY, m.get(0, 3));
            assertEquals(0f, m.get(0, 4));
            assertEquals(1 + 0x1p-9f, m.get(0, 8));
        }
    }

    @Test
    void f32RoundTripsBitForBit() throws IOException {
        float[] v = {0f, -0f, 1.5f, -3.25e-5f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NEGATIVE_INFINITY,
                Float.intBitsToFloat(0x7FC00123), (float) Math.PI, 42f, -1e30f, 7e-39f};
        Path f = dir.resolve("f.safetensors");
        new SafetensorsWriter().add("w", v, new long[] {3, 4}, DType.F32).write(f);
        try (var st = SafetensorsFile.open(f)) {
            Matrix m = st.matrix("w");
            assertEquals(3, m.rows());
            assertEquals(4, m.cols());
            assertEquals(DType.F32, m.dtype());
            for (int i = 0; i < v.length; i++) {
                assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(m.get(i / 4, i % 4)), "element " + i);
            }
        }
    }

    @Test
    void shapesOfEveryRankBecomeMatrices() throws IOException {
        float[] cube = new float[2 * 3 * 4]; // cube[i][j][k] = 100 i + 10 j + k
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 4; k++) {
                    cube[(i * 3 + j) * 4 + k] = 100 * i + 10 * j + k;
                }
            }
        }
        Path f = dir.resolve("ranks.safetensors");
        new SafetensorsWriter()
                .add("vec", new float[] {1, 2, 3, 4, 5}, new long[] {5}, DType.BF16)
                .add("cube", cube, new long[] {2, 3, 4}, DType.F16)
                .add("scalar", new float[] {-7}, new long[] {}, DType.F32)
                .add("empty", new float[0], new long[] {0, 8}, DType.F32)
                .write(f);
        try (var st = SafetensorsFile.open(f)) {
            assertEquals(List.of("vec", "cube", "scalar", "empty"), List.copyOf(st.names()));

            Matrix vec = st.matrix("vec");
            assertEquals(List.of(1, 5), List.of(vec.rows(), vec.cols()));
            assertEquals(5f, vec.get(0, 4));
            assertArrayEquals(new long[] {5}, st.info("vec").shape());

            Matrix cubeM = st.matrix("cube");
            assertEquals(List.of(2, 12), List.of(cubeM.rows(), cubeM.cols()));
            assertEquals(123f, cubeM.get(1, 2 * 4 + 3)); // [1][2][3]
            assertEquals(12f, cubeM.get(0, 1 * 4 + 2)); // [0][1][2]
            assertArrayEquals(new long[] {2, 3, 4}, st.info("cube").shape());
            assertEquals(24, st.info("cube").elementCount());
            assertEquals(48, st.info("cube").byteSize());

            Matrix sc = st.matrix("scalar");
            assertEquals(List.of(1, 1), List.of(sc.rows(), sc.cols()));
            assertEquals(-7f, sc.get(0, 0));
            assertEquals(0, st.info("scalar").rank());

            assertEquals(List.of(0, 8), List.of(st.matrix("empty").rows(), st.matrix("empty").cols()));
            // offsets are back to back: vec [0,10), cube [10,58), scalar [58,62), empty [62,62)
            assertEquals(10, st.info("cube").begin());
            assertEquals(62, st.info("scalar").end());
            assertEquals(62, st.info("empty").begin());
        }
    }

    @Test
    void metadataKeepsItsOrderAndDefaultsToFormatPt() throws IOException {
        Path f = dir.resolve("m.safetensors");
        new SafetensorsWriter().metadata("source", "unit test").metadata("ünïcode", "✓")
                .add("t", new float[] {1}, new long[] {1}, DType.F32).write(f);
        try (var st = SafetensorsFile.open(f)) {
            Map<String, String> expected = new LinkedHashMap<>();
            expected.put("format", "pt");
            expected.put("source", "unit test");
            expected.put("ünïcode", "✓");
            assertEquals(List.copyOf(expected.entrySet()), List.copyOf(st.metadata().entrySet()));
        }
    }

    @Test
    void headerIsPaddedWithSpacesToAMultipleOfEight() throws IOException {
        for (int nameLength = 1; nameLength <= 9; nameLength++) {
            Path f = dir.resolve("p" + nameLength + ".safetensors");
            new SafetensorsWriter().add("n".repeat(nameLength), new float[] {1}, new long[] {1}, DType.F32).write(f);
            byte[] b = Files.readAllBytes(f);
            long n = java.nio.ByteBuffer.wrap(b, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, n % 8, "header length " + n);
            assertEquals(8 + n + 4, b.length);
            String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
            assertTrue(header.stripTrailing().endsWith("}"), header);
            assertTrue(header.length() - header.stripTrailing().length() < 8, header);
            assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '), header);
        }
    }

    @Test
    void failedWriteLeavesNothingBehindAndKeepsTheOldFile() throws IOException {
        // The target is a non-empty directory: the final rename must fail.
        Path target = Files.createDirectory(dir.resolve("taken.safetensors"));
        Files.writeString(target.resolve("keep.txt"), "x");
        var w = new SafetensorsWriter().add("t", new float[] {1, 2}, new long[] {2}, DType.F32);
        IpgException e = assertThrows(IpgException.class, () -> w.write(target));
        assertTrue(e.getMessage().startsWith(target + ": exists and is a directory"), e.getMessage());
        try (var s = Files.list(dir)) {
            assertEquals(List.of(target), s.toList(), "a temporary file was left behind");
        }
        assertTrue(Files.isRegularFile(target.resolve("keep.txt")));

        Path nowhere = dir.resolve("missing/x.safetensors");
        IpgException e2 = assertThrows(IpgException.class, () -> w.write(nowhere));
        assertTrue(e2.getMessage().contains("does not exist"), e2.getMessage());
        assertTrue(Files.notExists(dir.resolve("missing")));
    }

    @Test
    void rewritingReplacesTheFile() throws IOException {
        Path f = dir.resolve("r.safetensors");
        new SafetensorsWriter().add("old", new float[] {1}, new long[] {1}, DType.F32).write(f);
        new SafetensorsWriter().add("new", new float[] {2, 3}, new long[] {2}, DType.F32).write(f);
        try (var st = SafetensorsFile.open(f)) {
            assertEquals(List.of("new"), List.copyOf(st.names()));
            assertEquals(3f, st.matrix("new").get(0, 1));
        }
        try (var s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }

    @Test
    void rejectsInconsistentTensors() {
        var w = new SafetensorsWriter().add("a", new float[] {1}, new long[] {1}, DType.F32);
        assertThrows(IllegalArgumentException.class, () -> w.add("a", new float[] {1}, new long[] {1}, DType.F32));
        assertThrows(IllegalArgumentException.class, () -> w.add("b", new float[] {1, 2, 3}, new long[] {2, 2}, DType.F32));
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", new float[] {1}, new long[] {1}, DType.F32));
        assertThrows(IllegalArgumentException.class, () -> w.add("c", new float[0], new long[] {-1, 0}, DType.F32));
    }
}
