package dev.ipg.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The provider picks the Vector API kernels when the module is there, and falls back otherwise. */
class KernelsProviderTest {

    @Test
    void picksVectorKernelsWhenIncubatorModuleIsPresent() {
        // the build runs tests with --add-modules jdk.incubator.vector
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
        assertTrue(KernelsProvider.lookup().name().startsWith("vector-"), KernelsProvider.lookup().name());
    }

    @Test
    void propertyForcesScalarKernels() {
        String old = System.getProperty(KernelsProvider.PROPERTY);
        System.setProperty(KernelsProvider.PROPERTY, "false");
        try {
            assertEquals("scalar", KernelsProvider.lookup().name());
        } finally {
            if (old == null) {
                System.clearProperty(KernelsProvider.PROPERTY);
            } else {
                System.setProperty(KernelsProvider.PROPERTY, old);
            }
        }
    }

    /** Prints the chosen kernels' name; run in a JVM without the incubator module. */
    public static void main(String[] args) {
        System.out.println(KernelsProvider.lookup().name());
    }

    /** The name printed by {@link #main} in a child JVM started with {@code jvmFlags}. */
    private static String childChoice(String... jvmFlags) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java));
        cmd.addAll(List.of(jvmFlags));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), KernelsProviderTest.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.exitValue(), out);
        // the incubator module prints a warning on start-up: the answer is the last line
        return out.substring(out.lastIndexOf('\n') + 1);
    }

    @Test
    void fallsBackToScalarWithoutIncubatorModule() throws IOException, InterruptedException {
        assertEquals("scalar", childChoice());
    }

    @Test
    void fallsBackToScalarWithoutOptimizingJit() throws IOException, InterruptedException {
        assertEquals("scalar", childChoice("--add-modules", "jdk.incubator.vector", "-XX:TieredStopAtLevel=1"));
    }
}
