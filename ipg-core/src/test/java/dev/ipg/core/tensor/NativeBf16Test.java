package dev.ipg.core.tensor;

import static dev.ipg.core.tensor.TensorFixtures.U;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native BF16 GEMM ({@link NativeBf16}) on each instruction path the CPU has, on odd shapes
 * (m = 1, 7, 33, 128; n and k not multiples of 16 or 32), against two references:
 * <ul>
 *   <li>the float64 product of the rounded operands, {@code sum_s bf16(x[i, s]) * w[j, s]}: each
 *       product is exact in F32, so the only error is the F32 summation, bounded by
 *       {@code k u sum_s |bf16(x) w|} with {@code u = 2^-24} (recursive summation, one rounding per
 *       added product);</li>
 *   <li>the Java GEMM ({@link Kernels#matmul} of {@link KernelsProvider#lookup(Bf16Compute)} with
 *       {@link Bf16Compute#JAVA}), which multiplies the unrounded F32 activations: RNE to bf16 moves an
 *       activation by at most {@code 2^-8} of itself, so the two differ by at most
 *       {@code (2^-8 + 2 k u) sum_s |x w|}.</li>
 * </ul>
 * The input gradient ({@link NativeBf16#matmulInputGrad}) is checked the same way, with dy rounded.
 * Where the library or a path cannot run (no gcc, another CPU), the test says so and checks that the
 * lookup falls back to the Java path; where gcc is present on x86-64 Linux, a missing library fails.
 */
class NativeBf16Test {

    static final int[] ROWS = {1, 7, 33, 128};
    /** (n, k) pairs: none a multiple of 16 or 32 except where a full tile is the point. */
    static final int[][] SHAPES = {{45, 33}, {77, 200}, {130, 97}, {3, 5}, {50, 64}};

    static Parallel pool;

    @BeforeAll
    static void start() {
        pool = Parallel.of(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /** The CPU's flags as Linux lists them (empty elsewhere). */
    static Set<String> cpuFlags() {
        Path info = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(info)) {
            return Set.of();
        }
        try (Stream<String> lines = Files.lines(info)) {
            return lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> Set.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))).orElse(Set.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean x86Linux() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        return os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    static boolean gccOnPath() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "gcc"))) {
                return true;
            }
        }
        return false;
    }

    /** Whether the CPU has the instructions of {@code path} (from its flags). */
    static boolean cpuHas(NativeBf16.Path path) {
        Set<String> f = cpuFlags();
        boolean bf16 = f.contains("avx512_bf16") && f.contains("avx512f") && f.contains("avx512bw") && f.contains("avx512vl");
        return path == NativeBf16.Path.AVX512 ? bf16 : bf16 && f.contains("amx_bf16") && f.contains("amx_tile");
    }

    /**
     * Whether {@code path} can run here; where it cannot, asserts that it should not (no gcc, another
     * OS or CPU), so a missing library or a refused path on a capable machine fails.
     */
    static boolean runnable(NativeBf16.Path path) {
        String why = NativeBf16.refusal(path);
        assertFalse(why != null && x86Linux() && gccOnPath() && cpuHas(path), "path " + path + " refused: " + why);
        return why == null;
    }

    @Test
    void libraryIsBuiltWhereGccIs() {
        String why = NativeBf16.libraryRefusal();
        if (x86Linux() && gccOnPath()) {
            assertNull(why, "gcc is on PATH on x86-64 Linux, so the build must have compiled the native BF16 GEMM");
        } else {
            assertNotNull(why, "no library expected here");
            System.out.println("NativeBf16Test: no native BF16 GEMM here (" + why + "); checking the fallback");
            Kernels k = KernelsProvider.lookup(Bf16Compute.NATIVE);
            assertFalse(k instanceof NativeBf16Kernels, k.name());
            assertEquals(KernelsProvider.lookup(Bf16Compute.JAVA).name(), k.name());
        }
    }

    @ParameterizedTest
    @EnumSource(NativeBf16.Path.class)
    void pathIsAvailableExactlyWhereTheCpuHasIt(NativeBf16.Path path) {
        if (NativeBf16.libraryRefusal() != null) {
            assertNotNull(NativeBf16.refusal(path));
            return;
        }
        String why = NativeBf16.refusal(path);
        if (cpuHas(path)) {
            assertNull(why, path + " listed in /proc/cpuinfo");
            Bf16Compute c = path == NativeBf16.Path.AMX ? Bf16Compute.AMX : Bf16Compute.AVX512;
            Kernels k = KernelsProvider.lookup(c);
            assertTrue(k instanceof NativeBf16Kernels nk && nk.path() == path, k.name());
            assertTrue(k.name().endsWith("+bf16-" + path.label), k.name());
        } else {
            assertNotNull(why, path + " not listed in /proc/cpuinfo");
            System.out.println("NativeBf16Test: this CPU cannot run " + path + " (" + why + "); checking the fallback");
            Kernels k = KernelsProvider.lookup(path == NativeBf16.Path.AMX ? Bf16Compute.AMX : Bf16Compute.AVX512);
            assertFalse(k instanceof NativeBf16Kernels, k.name());
            assertFallbackIsJava(k);
        }
    }

    /** The fallback kernels compute BF16 products exactly as the Java path does. */
    private static void assertFallbackIsJava(Kernels k) {
        SplittableRandom r = new SplittableRandom(5);
        int m = 33, n = 45, kk = 33;
        float[] x = TensorFixtures.uniform(r, m * kk);
        Matrix w = TensorFixtures.matrix(TensorFixtures.uniform(r, n * kk), n, kk, DType.BF16, null);
        float[] a = new float[m * n];
        float[] b = new float[m * n];
        k.matmul(pool, x, 0, m, w, a, 0);
        KernelsProvider.lookup(Bf16Compute.JAVA).matmul(pool, x, 0, m, w, b, 0);
        assertArrayEquals(b, a);
    }

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (NativeBf16.Path p : NativeBf16.Path.values()) {
            for (int m : ROWS) {
                for (int[] s : SHAPES) {
                    a.add(Arguments.of(p, m, s[0], s[1]));
                }
            }
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{0} m={1} n={2} k={3}")
    @MethodSource("cases")
    void matchesReferencesWithinTheirBounds(NativeBf16.Path path, int m, int n, int k) {
        if (!runnable(path)) {
            System.out.println("NativeBf16Test: " + path + " skipped on this machine: " + NativeBf16.refusal(path));
            return;
        }
        SplittableRandom r = new SplittableRandom(31L * m + 7L * n + k);
        float[] x = TensorFixtures.uniform(r, m * k);
        x[0] = 0f;
        float[] wv = TensorFixtures.uniform(r, n * k);
        // weights in native memory, misaligned, for the larger shapes; on the heap for the others
        try (Arena arena = Arena.ofShared()) {
            Matrix w = TensorFixtures.matrix(wv, n, k, DType.BF16, n * k > 5000 ? arena : null);
            int xOff = 3, outOff = 5;
            float[] xs = new float[xOff + m * k];
            System.arraycopy(x, 0, xs, xOff, m * k);
            float[] out = new float[outOff + m * n + 4];
            Arrays.fill(out, Float.NaN);
            NativeBf16.matmul(path, pool, xs, xOff, m, w, out, outOff);
            for (int q = 0; q < outOff; q++) {
                assertTrue(Float.isNaN(out[q]), "written before the output at " + q);
            }
            for (int q = outOff + m * n; q < out.length; q++) {
                assertTrue(Float.isNaN(out[q]), "written after the output at " + q);
            }
            float[] java = new float[m * n];
            KernelsProvider.lookup(Bf16Compute.JAVA).matmul(pool, x, 0, m, w, java, 0);
            double worstRounded = 0, worstJava = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double ref = 0, abs = 0, absX = 0;
                    for (int s = 0; s < k; s++) {
                        double xr = TensorFixtures.rounded(DType.BF16, x[i * k + s]);
                        double p = xr * wv[j * k + s];
                        ref += p;
                        abs += Math.abs(p);
                        absX += Math.abs((double) x[i * k + s] * wv[j * k + s]);
                    }
                    double got = out[outOff + i * n + j];
                    double boundRounded = k * U * abs * 1.0001 + Float.MIN_NORMAL;
                    double boundJava = (0x1p-8 + 2 * k * U) * absX * 1.0001 + Float.MIN_NORMAL;
                    String at = path + " m=" + m + " n=" + n + " k=" + k + " [" + i + ", " + j + "]";
                    assertTrue(Math.abs(got - ref) <= boundRounded,
                            at + ": " + got + " vs float64 of the rounded operands " + ref + ", bound " + boundRounded);
                    assertTrue(Math.abs(got - java[i * n + j]) <= boundJava,
                            at + ": " + got + " vs Java " + java[i * n + j] + ", bound " + boundJava);
                    worstRounded = Math.max(worstRounded, Math.abs(got - ref) / Math.max(abs, Float.MIN_NORMAL));
                    worstJava = Math.max(worstJava, Math.abs(got - java[i * n + j]) / Math.max(absX, Float.MIN_NORMAL));
                }
            }
            // the activations really are rounded: the Java path (unrounded) is further away than the summation error
            if (m * k >= 33 * 33) {
                assertTrue(worstJava > 4 * worstRounded && worstJava > k * U,
                        "native and Java agree too well for rounded activations: " + worstJava + " vs " + worstRounded);
            }
        }
    }

    /**
     * The input gradient {@code dx[i, s] += sum_j bf16(dy[i, j]) * w[j, s]} against the float64 sum
     * of the rounded operands added to the prior dx (bound {@code (n + 1) u} of the absolute sum: F32
     * sums in blocks, each block added to dx) and against the Java path (which keeps dy unrounded).
     */
    @ParameterizedTest(name = "{0} m={1} n={2} k={3}")
    @MethodSource("cases")
    void inputGradientMatchesReferencesWithinTheirBounds(NativeBf16.Path path, int m, int n, int k) {
        if (!runnable(path)) {
            return;
        }
        SplittableRandom r = new SplittableRandom(17L * m + 5L * n + k);
        float[] dy = TensorFixtures.uniform(r, m * n);
        float[] wv = TensorFixtures.uniform(r, n * k);
        float[] dx0 = TensorFixtures.uniform(r, m * k);
        try (Arena arena = Arena.ofShared()) {
            Matrix w = TensorFixtures.matrix(wv, n, k, DType.BF16, n * k > 5000 ? arena : null);
            int dyOff = 2, dxOff = 3;
            float[] dys = new float[dyOff + m * n];
            System.arraycopy(dy, 0, dys, dyOff, m * n);
            float[] dx = new float[dxOff + m * k + 4];
            Arrays.fill(dx, Float.NaN);
            System.arraycopy(dx0, 0, dx, dxOff, m * k);
            NativeBf16.matmulInputGrad(path, pool, dys, dyOff, m, w, dx, dxOff);
            for (int q = 0; q < dxOff; q++) {
                assertTrue(Float.isNaN(dx[q]), "written before the output at " + q);
            }
            for (int q = dxOff + m * k; q < dx.length; q++) {
                assertTrue(Float.isNaN(dx[q]), "written after the output at " + q);
            }
            float[] java = dx0.clone();
            KernelsProvider.lookup(Bf16Compute.JAVA).matmulInputGrad(pool, dy, 0, m, w, java, 0);
            double worstRounded = 0, worstJava = 0;
            for (int i = 0; i < m; i++) {
                for (int s = 0; s < k; s++) {
                    double ref = dx0[i * k + s], abs = Math.abs(ref), absY = abs;
                    for (int j = 0; j < n; j++) {
                        double p = TensorFixtures.rounded(DType.BF16, dy[i * n + j]) * wv[j * k + s];
                        ref += p;
                        abs += Math.abs(p);
                        absY += Math.abs((double) dy[i * n + j] * wv[j * k + s]);
                    }
                    double got = dx[dxOff + i * k + s];
                    double boundRounded = (n + 1) * U * abs * 1.0001 + Float.MIN_NORMAL;
                    double boundJava = (0x1p-8 + 2 * (n + 1) * U) * absY * 1.0001 + Float.MIN_NORMAL;
                    String at = path + " input grad m=" + m + " n=" + n + " k=" + k + " [" + i + ", " + s + "]";
                    assertTrue(Math.abs(got - ref) <= boundRounded,
                            at + ": " + got + " vs float64 of the rounded operands " + ref + ", bound " + boundRounded);
                    assertTrue(Math.abs(got - java[i * k + s]) <= boundJava,
                            at + ": " + got + " vs Java " + java[i * k + s] + ", bound " + boundJava);
                    worstRounded = Math.max(worstRounded, Math.abs(got - ref) / Math.max(abs, Float.MIN_NORMAL));
                    worstJava = Math.max(worstJava, Math.abs(got - java[i * k + s]) / Math.max(absY, Float.MIN_NORMAL));
                }
            }
            if (m * n >= 33 * 45) {
                assertTrue(worstJava > 4 * worstRounded,
                        "native and Java input gradients agree too well for a rounded dy: " + worstJava + " vs " + worstRounded);
            }
        }
    }

    /** Several blocks of weight rows (n > 1024, odd) and of dy rows (m > 240), split over 1 and 3 threads. */
    @ParameterizedTest
    @EnumSource(NativeBf16.Path.class)
    void inputGradientDoesNotDependOnTheThreadCount(NativeBf16.Path path) {
        if (!runnable(path)) {
            return;
        }
        SplittableRandom r = new SplittableRandom(11);
        int m = 250, n = 2101, k = 200;
        float[] dy = TensorFixtures.uniform(r, m * n);
        float[] wv = TensorFixtures.uniform(r, n * k);
        Matrix w = TensorFixtures.matrix(wv, n, k, DType.BF16, null);
        float[] one = new float[m * k];
        float[] three = new float[m * k];
        try (Parallel p1 = Parallel.of(1); Parallel p3 = Parallel.of(3)) {
            NativeBf16.matmulInputGrad(path, p1, dy, 0, m, w, one, 0);
            NativeBf16.matmulInputGrad(path, p3, dy, 0, m, w, three, 0);
        }
        assertArrayEquals(one, three);
        // and right: spot rows across the blocks against the float64 sum of the rounded operands
        for (int i : new int[] {0, 239, 240, 249}) {
            for (int s : new int[] {0, 31, 32, 199}) {
                double ref = 0, abs = 0;
                for (int j = 0; j < n; j++) {
                    double p = TensorFixtures.rounded(DType.BF16, dy[i * n + j]) * wv[j * k + s];
                    ref += p;
                    abs += Math.abs(p);
                }
                assertEquals(ref, one[i * k + s], (n + 1) * U * abs + Float.MIN_NORMAL, "[" + i + ", " + s + "]");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(NativeBf16.Path.class)
    void resultDoesNotDependOnTheThreadCount(NativeBf16.Path path) {
        if (!runnable(path)) {
            return;
        }
        SplittableRandom r = new SplittableRandom(9);
        int m = 33, n = 1000, k = 200;
        float[] x = TensorFixtures.uniform(r, m * k);
        Matrix w = TensorFixtures.matrix(TensorFixtures.uniform(r, n * k), n, k, DType.BF16, null);
        float[] one = new float[m * n];
        float[] three = new float[m * n];
        try (Parallel p1 = Parallel.of(1); Parallel p3 = Parallel.of(3)) {
            NativeBf16.matmul(path, p1, x, 0, m, w, one, 0);
            NativeBf16.matmul(path, p3, x, 0, m, w, three, 0);
        }
        assertArrayEquals(one, three);
    }

    @Test
    void otherWeightsStayOnTheJavaPath() {
        NativeBf16.Path path = NativeBf16.best();
        if (path == null) {
            assertFalse(x86Linux() && gccOnPath() && cpuHas(NativeBf16.Path.AVX512), NativeBf16.refusal(NativeBf16.Path.AVX512));
            return;
        }
        Kernels java = KernelsProvider.lookup(Bf16Compute.JAVA);
        Kernels nat = new NativeBf16Kernels(java, path);
        SplittableRandom r = new SplittableRandom(3);
        int m = 33, n = 45, k = 33;
        float[] x = TensorFixtures.uniform(r, m * k);
        for (DType d : new DType[] {DType.F32, DType.F16}) {
            Matrix w = TensorFixtures.matrix(TensorFixtures.uniform(r, n * k), n, k, d, null);
            float[] a = new float[m * n];
            float[] b = new float[m * n];
            nat.matmul(pool, x, 0, m, w, a, 0);
            java.matmul(pool, x, 0, m, w, b, 0);
            assertArrayEquals(b, a, d.toString());
        }
    }

    @Test
    void propertySelectsTheNativePathOrSaysWhyNotInOneLine() throws IOException, InterruptedException {
        String[] r = KernelsFallbackTest.child("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-D" + Bf16Compute.PROPERTY + "=native");
        NativeBf16.Path best = NativeBf16.best();
        if (best != null) {
            assertEquals("vector-" + r[0].substring("vector-".length(), r[0].indexOf('+')) + "+bf16-" + best.label, r[0]);
            assertEquals("", r[1]);
        } else {
            assertFalse(x86Linux() && gccOnPath() && cpuHas(NativeBf16.Path.AVX512), "no native path: " + r[1]);
            assertFalse(r[0].contains("+bf16-"), r[0]);
            assertEquals(KernelsProvider.bf16FallbackLine(Bf16Compute.NATIVE, NativeBf16.refusal(NativeBf16.Path.AVX512)) + "\n", r[1]);
        }
        String[] java = KernelsFallbackTest.child("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED");
        assertFalse(java[0].contains("+bf16-"), "the default must be the Java path: " + java[0]);
        String[] bad = KernelsFallbackTest.child("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-D" + Bf16Compute.PROPERTY + "=fast");
        assertEquals(java[0], bad[0]);
        assertEquals(KernelsProvider.badPropertyLine(
                "unknown BF16 compute 'fast': expected java, native, native-avx512 or native-amx") + "\n", bad[1]);
    }

    @Test
    void badSpellingIsRefusedInOneLine() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Bf16Compute.parse("fast"));
        assertEquals("unknown BF16 compute 'fast': expected java, native, native-avx512 or native-amx", e.getMessage());
        assertEquals(Bf16Compute.AMX, Bf16Compute.parse(" Native-AMX "));
    }
}
