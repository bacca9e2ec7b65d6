package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Matrix;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files the writer produces, read by an independent numpy-only reader
 * ({@code src/test/python/read_safetensors.py}) that also enforces the reference implementation's
 * stricter layout rules. The interpreter is {@code /usr/bin/python3} unless {@code IPG_PYTHON}
 * names another; a missing interpreter or numpy fails the test.
 */
class ReferenceReaderTest {

    private static final Path SCRIPT = Path.of("src", "test", "python", "read_safetensors.py");

    @TempDir
    Path dir;

    private static String python() {
        String env = System.getenv("IPG_PYTHON");
        String py = env == null || env.isBlank() ? "/usr/bin/python3" : env;
        if (py.contains("/") && !Files.isExecutable(Path.of(py))) {
            fail("no Python interpreter at " + py + ": install python3 with numpy there or set IPG_PYTHON to one");
        }
        return py;
    }

    /** Runs the reference reader on a file or a sharded directory and returns its JSON output. */
    private static JsonNode reference(Path target) throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(SCRIPT), "reference reader missing: " + SCRIPT.toAbsolutePath());
        String py = python();
        Process p;
        try {
            p = new ProcessBuilder(py, SCRIPT.toString(), target.toString()).start();
        } catch (IOException e) {
            throw new AssertionError("cannot run " + py + " (set IPG_PYTHON to a python3 with numpy): " + e.getMessage(), e);
        }
        p.getOutputStream().close();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        String out = readAll(p.getInputStream());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("reference reader did not finish on " + target);
        }
        int code = p.exitValue();
        if (code == 3) {
            fail("numpy is not available to " + py + ": install it or set IPG_PYTHON to a python3 with numpy ("
                    + err.join().strip() + ")");
        }
        if (code != 0) {
            fail("reference reader rejected " + target.getFileName() + " (exit " + code + "): " + err.join().strip());
        }
        return new ObjectMapper().readTree(out);
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** name -> float32 bit patterns as the reference reader decoded them. */
    private static Map<String, int[]> bitsByName(JsonNode out) {
        Map<String, int[]> m = new HashMap<>();
        for (JsonNode file : out.get("files")) {
            for (JsonNode t : file.get("tensors")) {
                JsonNode b = t.get("bits");
                int[] bits = new int[b.size()];
                for (int i = 0; i < bits.length; i++) {
                    bits[i] = (int) b.get(i).asLong(); // uint32 -> the same 32 bits
                }
                m.put(t.get("name").asText(), bits);
            }
        }
        return m;
    }

    private static void assertBits(int[] expected, int[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": element count");
        for (int i = 0; i < expected.length; i++) {
            int at = i;
            int e = expected[i];
            int a = actual[i];
            assertEquals(e, a, () -> what + "[" + at + "]: expected 0x" + Integer.toHexString(e) + " ("
                    + Float.intBitsToFloat(e) + "), reference reader read 0x" + Integer.toHexString(a) + " ("
                    + Float.intBitsToFloat(a) + ")");
        }
    }

    private static int[] bitsOf(float... v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    /** All elements of a matrix in row-major order, as bits, read by ipg's reader. */
    private static int[] bitsOf(Matrix m) {
        int[] b = new int[(int) m.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = Float.floatToRawIntBits(m.getFlat(i));
        }
        return b;
    }

    @Test
    void independentReaderDecodesEveryDtypeAsWritten() throws Exception {
        float[] f32 = {0f, -0f, 1.5f, -3.25e-5f, Float.MIN_VALUE, Float.intBitsToFloat(0x7FC00123)};
        float[] bf16In = new float[SafetensorsWriterTest.BF16_CASES.length];
        int[] bf16Expected = new int[bf16In.length];
        for (int i = 0; i < bf16In.length; i++) {
            bf16In[i] = Float.intBitsToFloat(SafetensorsWriterTest.BF16_CASES[i][0]);
            bf16Expected[i] = SafetensorsWriterTest.BF16_CASES[i][1] << 16;
        }
        float[] f16Decoded = {0.0999755859375f, 0.333251953125f, 65504f, Float.POSITIVE_INFINITY, 0f, 0x1p-24f, -2f,
                1f, 1 + 0x1p-9f}; // the hand-computed halves of SafetensorsWriterTest.F16_INPUTS
        Random rnd = new Random(7);
        float[] noise = new float[4 * 5 * 6];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(7) - 3));
        }

        Path f = dir.resolve("mixed.safetensors");
        new SafetensorsWriter()
                .metadata("note", "written by ipg")
                .add("f32", f32, new long[] {2, 3}, DType.F32)
                .add("bf16", bf16In, new long[] {bf16In.length}, DType.BF16)
                .add("f16", SafetensorsWriterTest.F16_INPUTS, new long[] {3, 3}, DType.F16)
                .add("noise", noise, new long[] {4, 5, 6}, DType.BF16)
                .add("scalar", new float[] {-0.75f}, new long[] {}, DType.F32)
                .write(f);

        JsonNode out = reference(f);
        JsonNode file = out.get("files").get(0);
        assertEquals("pt", file.get("metadata").get("format").asText());
        assertEquals("written by ipg", file.get("metadata").get("note").asText());
        List<String> order = new ArrayList<>();
        List<String> shapes = new ArrayList<>();
        for (JsonNode t : file.get("tensors")) {
            order.add(t.get("name").asText());
            shapes.add(t.get("dtype").asText() + t.get("shape"));
        }
        assertEquals(List.of("f32", "bf16", "f16", "noise", "scalar"), order);
        assertEquals(List.of("F32[2,3]", "BF16[15]", "F16[3,3]", "BF16[4,5,6]", "F32[]"), shapes);

        Map<String, int[]> bits = bitsByName(out);
        assertBits(bitsOf(f32), bits.get("f32"), "f32");
        assertBits(bf16Expected, bits.get("bf16"), "bf16");
        assertBits(bitsOf(f16Decoded), bits.get("f16"), "f16");
        assertBits(bitsOf(-0.75f), bits.get("scalar"), "scalar");

        int[] noiseBits = bits.get("noise");
        for (int i = 0; i < noise.length; i++) {
            float got = Float.intBitsToFloat(noiseBits[i]);
            assertTrue(Math.abs(got - noise[i]) <= Math.abs(noise[i]) * 0x1p-8f,
                    "noise[" + i + "] = " + noise[i] + " stored as bf16 " + got + ", more than half a bf16 ulp away");
        }

        // ipg's own reader agrees with the independent one on every element
        try (var st = SafetensorsFile.open(f)) {
            for (String name : order) {
                assertBits(bits.get(name), bitsOf(st.matrix(name)), "ipg reading " + name);
            }
        }
    }

    @Test
    void independentReaderAcceptsTheShardedLayout() throws Exception {
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        Random rnd = new Random(11);
        DType[] types = {DType.F32, DType.BF16, DType.F16};
        for (int i = 0; i < 7; i++) {
            float[] v = new float[(i + 1) * 6];
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) rnd.nextGaussian();
            }
            tensors.add(new SafetensorsWriter.Tensor("model.layers." + i + ".w", v, new long[] {i + 1, 2, 3},
                    types[i % 3]));
        }
        List<Path> files = SafetensorsWriter.writeSharded(dir, tensors, 64);
        assertTrue(files.size() > 3, "expected several shards, got " + files);

        JsonNode out = reference(dir); // checks weight_map against the shards and total_size
        Map<String, int[]> bits = bitsByName(out);
        assertEquals(tensors.size(), bits.size());
        long total = 0;
        try (var ck = Checkpoint.open(dir)) {
            for (SafetensorsWriter.Tensor t : tensors) {
                assertBits(bits.get(t.name()), bitsOf(ck.matrix(t.name())), "ipg reading " + t.name());
                total += t.byteSize();
                if (t.dtype() == DType.F32) {
                    assertBits(bitsOf(t.values()), bits.get(t.name()), t.name());
                }
            }
        }
        assertEquals(total, out.get("total_size").asLong());
    }
}
