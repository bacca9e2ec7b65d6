package dev.ipg.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The fallback to the scalar kernels is said, once, on standard error; and both implementations
 * define every kernel themselves (no interface defaults that would leave the specification
 * incomplete or a vector kernel silently scalar), nor does the native BF16 wrapper (which would
 * otherwise send a kernel to the interface default instead of the kernels it wraps).
 */
class KernelsFallbackTest {

    /** Looks the kernels up twice, then prints their name on standard output. */
    public static void main(String[] args) {
        KernelsProvider.lookup();
        System.out.println(KernelsProvider.lookup().name());
    }

    /** Standard output and standard error of {@link #main} in a child JVM started with {@code jvmFlags}. */
    static String[] child(String... jvmFlags) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(List.of(jvmFlags));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), KernelsFallbackTest.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.PIPE).start();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.exitValue(), out);
        // the incubator module's own start-up warning is not ours
        String ours = new String(err, StandardCharsets.UTF_8).lines()
                .filter(l -> !l.contains("incubator modules")).reduce("", (a, b) -> a + b + "\n");
        return new String[] {out, ours};
    }

    @Test
    void missingModuleIsReportedInOneLine() throws IOException, InterruptedException {
        String[] r = child();
        assertEquals("scalar", r[0]);
        assertEquals(KernelsProvider.fallbackLine(new ScalarKernels(),
                "the Vector API is unavailable (the JVM was started without --add-modules jdk.incubator.vector)") + "\n", r[1]);
        assertTrue(r[1].startsWith("ipg: kernels: using the scalar kernels, "), r[1]);
    }

    @Test
    void missingOptimizingJitIsReportedInOneLine() throws IOException, InterruptedException {
        String[] r = child("--add-modules", "jdk.incubator.vector", "-XX:TieredStopAtLevel=1");
        assertEquals("scalar", r[0]);
        assertEquals(KernelsProvider.fallbackLine(new ScalarKernels(),
                "the Vector API is unusable without the optimizing JIT compiler (C2)") + "\n", r[1]);
    }

    @Test
    void vectorKernelsAndExplicitScalarChoiceSayNothing() throws IOException, InterruptedException {
        String[] vec = child("--add-modules", "jdk.incubator.vector");
        assertTrue(vec[0].startsWith("vector-"), vec[0]);
        assertEquals("", vec[1]);
        String[] off = child("--add-modules", "jdk.incubator.vector", "-D" + KernelsProvider.PROPERTY + "=false");
        assertEquals("scalar", off[0]);
        assertEquals("", off[1]);
    }

    @Test
    void everyKernelIsDefinedByBothImplementations() throws NoSuchMethodException {
        int kernels = 0;
        for (Method m : Kernels.class.getDeclaredMethods()) {
            if (m.isSynthetic() || Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            assertTrue(Modifier.isAbstract(m.getModifiers()), "Kernels." + m.getName() + " has a default body");
            for (Class<?> impl : new Class<?>[] {ScalarKernels.class, VectorKernels.class, NativeBf16Kernels.class}) {
                Method d = impl.getDeclaredMethod(m.getName(), m.getParameterTypes());
                assertEquals(impl, d.getDeclaringClass(), impl.getSimpleName() + " " + m.getName());
            }
            kernels++;
        }
        assertTrue(kernels >= 16, "kernels found: " + kernels);
    }
}
