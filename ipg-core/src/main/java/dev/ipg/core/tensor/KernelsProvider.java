package dev.ipg.core.tensor;

import java.lang.reflect.InvocationTargetException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Picks the {@link Kernels} implementation at start-up, as Lucene picks its vectorization
 * provider: the Vector API implementation when {@code jdk.incubator.vector} is present and
 * usable, otherwise the scalar reference. {@code -Dipg.vector=false} forces the scalar path; any
 * other fallback is reported in one line on standard error.
 *
 * <p>The Vector API implementation is loaded reflectively, and only after the checks: no class
 * that touches {@code jdk.incubator.vector} is loaded on a JVM started without
 * {@code --add-modules jdk.incubator.vector}.
 */
public final class KernelsProvider {

    /** The system property that disables the Vector API implementation when {@code false}. */
    public static final String PROPERTY = "ipg.vector";

    private static final String VECTOR_CLASS = "dev.ipg.core.tensor.VectorKernels";

    private KernelsProvider() {
    }

    /**
     * The best available implementation. When that is the scalar one although the Vector API
     * kernels were not switched off, one line on standard error says so and why, once per JVM
     * (a run on scalar kernels is several times slower, and should not be so silently).
     */
    public static Kernels lookup() {
        String why = vectorRefusal();
        if (why == null) {
            try {
                Class<?> c = Class.forName(VECTOR_CLASS);
                var ctor = c.getDeclaredConstructor();
                return (Kernels) ctor.newInstance();
            } catch (InvocationTargetException e) {
                // the constructor refused this machine (vector species too small)
                why = "the Vector API kernels refused this machine: " + e.getCause().getMessage();
            } catch (ReflectiveOperationException | LinkageError e) {
                why = "the Vector API kernels failed to load: " + e;
            }
        }
        Kernels scalar = new ScalarKernels();
        if (!why.isEmpty() && WARNED.compareAndSet(false, true)) {
            System.err.println(fallbackLine(scalar, why));
        }
        return scalar;
    }

    /** The line {@link #lookup()} prints when it falls back to {@code kernels} for the reason {@code why}. */
    static String fallbackLine(Kernels kernels, String why) {
        return "ipg: kernels: using the " + kernels.name() + " kernels, " + why;
    }

    private static final AtomicBoolean WARNED = new AtomicBoolean();

    /** The scalar reference implementation, whatever the machine. */
    public static Kernels scalar() {
        return new ScalarKernels();
    }

    /**
     * Why the Vector API implementation is not to be tried: null when it is, empty when the
     * property switched it off (no need to say so), otherwise the reason. The incubator module must
     * be in the boot layer and the optimizing JIT (C2) on: without it every vector is an object and
     * the scalar loops win.
     */
    private static String vectorRefusal() {
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim())) {
            return "";
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "the Vector API is unavailable (the JVM was started without --add-modules jdk.incubator.vector)";
        }
        if (!optimizingJit()) {
            return "the Vector API is unusable without the optimizing JIT compiler (C2)";
        }
        return null;
    }

    private static boolean optimizingJit() {
        if (System.getProperty("java.vm.info", "").contains("interpreted mode")) {
            return false;
        }
        try {
            var bean = java.lang.management.ManagementFactory.getPlatformMXBean(
                    com.sun.management.HotSpotDiagnosticMXBean.class);
            if (bean == null) {
                return true;
            }
            if ("false".equals(bean.getVMOption("UseCompiler").getValue())) {
                return false;
            }
            String level = bean.getVMOption("TieredStopAtLevel").getValue();
            return Integer.parseInt(level) >= 4;
        } catch (RuntimeException | LinkageError e) {
            return true; // not HotSpot, or no management module: assume a compiler is there
        }
    }
}
