package dev.ipg.core.tensor;

/**
 * Picks the {@link Kernels} implementation at start-up, as Lucene picks its vectorization
 * provider: the Vector API implementation when {@code jdk.incubator.vector} is present and
 * usable, otherwise the scalar reference. {@code -Dipg.vector=false} forces the scalar path.
 */
public final class KernelsProvider {

    private KernelsProvider() {
    }

    /** The best available implementation. */
    public static Kernels lookup() {
        // The Vector API implementation is registered here once it exists.
        return new ScalarKernels();
    }
}
