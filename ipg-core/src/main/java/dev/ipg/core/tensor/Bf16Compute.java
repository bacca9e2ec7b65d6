package dev.ipg.core.tensor;

import java.util.Locale;

/**
 * How a matrix product with BF16 weights ({@link Kernels#matmul} with a {@link DType#BF16}
 * {@link Matrix}) is computed. Chosen by the system property {@value #PROPERTY} (for the
 * {@code ipg} launcher: {@code IPG_JAVA_OPTS=-Dipg.bf16.compute=native}); the default is
 * {@link #JAVA}.
 *
 * <p>The precision contract of each:
 * <ul>
 *   <li>{@link #JAVA} (default): the bf16 weights are widened exactly to F32, the activations stay
 *       F32, every product and sum is F32 (ipg's exact-F32-product contract: the same arithmetic as
 *       an F32 checkpoint holding the same values).</li>
 *   <li>{@link #NATIVE}, {@link #AVX512}, {@link #AMX}: the optional native GEMM (a C library built
 *       with the project when gcc is present, on x86-64 Linux). The activations are rounded to bf16
 *       (to nearest, ties to even) at the input of the product, so each product of two bf16 values
 *       is exact in F32; products are summed in F32 in the order of the CPU instruction that computes
 *       them ({@code vdpbf16ps}: a pair of inner indices per step; {@code tdpbf16ps}: 32 per tile
 *       step), which also treats subnormal bf16 inputs as zero. The relative error of an output
 *       against the exact product of the stored weights and the F32 activations is thus bounded by
 *       about {@code 2^-9} of {@code sum |x w|} (the activation rounding) plus the F32 summation.
 *       The input gradient of such a product ({@link Kernels#matmulInputGrad}, the backward pass to a
 *       site) goes native too, on {@code vdpbf16ps} on both native choices: the output gradient is
 *       rounded to bf16 the same way, the products are exact, the sums F32 over blocks of 1024 weight
 *       rows, each block added to the gradient in order; the bound is the same with the output
 *       gradient in place of the activations. The weight gradient ({@link Kernels#matmulWeightGrad})
 *       and products with F32 or F16 weights stay on the Java path. Results do not depend on the
 *       number of threads.</li>
 * </ul>
 * When a native choice is not available (no library in the build, another OS or CPU architecture,
 * a CPU without AVX512_BF16 or, for {@link #AMX}, without AMX-BF16), {@link KernelsProvider#lookup()}
 * says so in one line on standard error and uses {@link #JAVA}; so does a property value that is
 * none of the spellings.
 */
public enum Bf16Compute {
    /** bf16 weights widened exactly to F32; F32 activations, products and sums. */
    JAVA("java"),
    /** The native GEMM on the fastest path the CPU has: AMX-BF16, else AVX512_BF16. */
    NATIVE("native"),
    /** The native GEMM on {@code vdpbf16ps} (AVX512_BF16) even where AMX is present. */
    AVX512("native-avx512"),
    /** The native GEMM on AMX tiles ({@code tdpbf16ps}); unavailable without AMX-BF16. */
    AMX("native-amx");

    /** The system property that selects the BF16 product: {@code java}, {@code native}, {@code native-avx512}, {@code native-amx}. */
    public static final String PROPERTY = "ipg.bf16.compute";

    private final String spelling;

    Bf16Compute(String spelling) {
        this.spelling = spelling;
    }

    /** The spelling of the property value, e.g. {@code native-amx}. */
    public String spelling() {
        return spelling;
    }

    /** Parses a spelling ({@link #spelling()}, case-insensitive); a wrong one is refused in one line naming the choices. */
    public static Bf16Compute parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        for (Bf16Compute c : values()) {
            if (c.spelling.equals(t)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown BF16 compute '" + s + "': expected java, native, native-avx512 or native-amx");
    }

    /** The choice of the system property {@value #PROPERTY}, {@link #JAVA} when it is not set. */
    public static Bf16Compute fromProperty() {
        String v = System.getProperty(PROPERTY);
        return v == null || v.isBlank() ? JAVA : parse(v);
    }

    @Override
    public String toString() {
        return spelling;
    }
}
