package dev.ipg.core.tensor;

import java.lang.reflect.InvocationTargetException;

/**
 * Picks the {@link Kernels} implementation at start-up, as Lucene picks its vectorization
 * provider: the Vector API implementation when {@code jdk.incubator.vector} is present and
 * usable, otherwise the scalar reference. {@code -Dipg.vector=false} forces the scalar path.
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

    /** The best available implementation. */
    public static Kernels lookup() {
        if (!vectorAllowed()) {
            return new ScalarKernels();
        }
        try {
            Class<?> c = Class.forName(VECTOR_CLASS);
            var ctor = c.getDeclaredConstructor();
            return (Kernels) ctor.newInstance();
        } catch (InvocationTargetException e) {
            // the constructor refused this machine (vector species too small)
            return new ScalarKernels();
        } catch (ReflectiveOperationException | LinkageError e) {
            return new ScalarKernels();
        }
    }

    /** The scalar reference implementation, whatever the machine. */
    public static Kernels scalar() {
        return new ScalarKernels();
    }

    /**
     * True when the property does not disable it, the incubator module is in the boot layer, and
     * the optimizing JIT (C2) is on: without it every vector is an object and the scalar loops win.
     */
    static boolean vectorAllowed() {
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim())) {
            return false;
        }
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() && optimizingJit();
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
