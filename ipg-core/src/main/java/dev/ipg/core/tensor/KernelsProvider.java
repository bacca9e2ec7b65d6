package dev.ipg.core.tensor;

import java.lang.reflect.InvocationTargetException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Picks the {@link Kernels} implementation at start-up, as Lucene picks its vectorization
 * provider: the Vector API implementation when {@code jdk.incubator.vector} is present and
 * usable, otherwise the scalar reference. {@code -Dipg.vector=false} forces the scalar path; any
 * other fallback is reported in one line on standard error.
 *
 * <p>Products with BF16 weights follow {@link Bf16Compute} (the system property
 * {@value Bf16Compute#PROPERTY}, default {@code java}): a native choice wraps the kernels in
 * {@code NativeBf16Kernels} when the native GEMM can run here, otherwise one line on standard error
 * says why and the Java path is kept.
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
        Bf16Compute bf16;
        try {
            bf16 = Bf16Compute.fromProperty();
        } catch (IllegalArgumentException e) {
            // a misspelt opt-in keeps the default contract, and says so
            if (BF16_WARNED.compareAndSet(false, true)) {
                System.err.println(badPropertyLine(e.getMessage()));
            }
            bf16 = Bf16Compute.JAVA;
        }
        return lookup(bf16);
    }

    /** The line {@link #lookup()} prints when the property {@value Bf16Compute#PROPERTY} has no meaning ({@code why}). */
    static String badPropertyLine(String why) {
        return "ipg: kernels: -D" + Bf16Compute.PROPERTY + ": " + why + "; BF16 weights use the Java path";
    }

    /**
     * {@link #lookup()} with the BF16 products computed as {@code bf16} says, whatever the system
     * property. A native choice that cannot run here falls back to {@link Bf16Compute#JAVA} with one
     * line on standard error (once per JVM).
     */
    public static Kernels lookup(Bf16Compute bf16) {
        Kernels base = base();
        if (bf16 == Bf16Compute.JAVA) {
            return base;
        }
        NativeBf16.Path path = switch (bf16) {
            case AVX512 -> NativeBf16.Path.AVX512;
            case AMX -> NativeBf16.Path.AMX;
            default -> NativeBf16.best();
        };
        String why = path == null ? NativeBf16.refusal(NativeBf16.Path.AVX512) : NativeBf16.refusal(path);
        if (why != null) {
            if (BF16_WARNED.compareAndSet(false, true)) {
                System.err.println(bf16FallbackLine(bf16, why));
            }
            return base;
        }
        return new NativeBf16Kernels(base, path);
    }

    /** The line {@link #lookup(Bf16Compute)} prints when {@code bf16} cannot run here for the reason {@code why}. */
    static String bf16FallbackLine(Bf16Compute bf16, String why) {
        return "ipg: kernels: BF16 compute " + bf16.spelling() + " is unavailable (" + why
                + "), BF16 weights use the Java path";
    }

    private static final AtomicBoolean BF16_WARNED = new AtomicBoolean();

    private static Kernels base() {
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
