package dev.ipg.core.tensor;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Objects;

/**
 * The binding of the native BF16 GEMM ({@code src/main/c/bf16gemm.c}, built by the Maven build
 * into the jar as {@value #RESOURCE} when gcc is present on x86-64 Linux) through the FFM API.
 * The library is loaded on first use: straight from the class path when that is a directory,
 * otherwise copied out of the jar to a temporary file that is deleted once loaded. Calls pass the
 * heap arrays of activations and outputs directly (critical downcalls, no copies) and the weight
 * segment as it is (mapped checkpoint or heap).
 *
 * <p>{@link #matmul} and {@link #matmulInputGrad} split the output columns over the {@link Parallel} pool, one native call
 * per contiguous slice of 32-column panels; each call converts the activations itself (a cost of
 * {@code m k} against {@code m k n / threads} products), so the pool's thread count is the only
 * parallelism and every output is computed the same way whatever the split.
 */
final class NativeBf16 {

    /** The library inside the jar (and in the build's class directory). */
    static final String RESOURCE = "/dev/ipg/core/tensor/native/linux-x86_64/libipgbf16.so";

    /** Columns of one panel of the split: the AMX tile computes 32 weight rows at a time. */
    static final int PANEL = 32;

    /** Floating-point operations below which a product is not split over threads. */
    private static final long MIN_CHUNK_FLOPS = 4L << 20;

    /** The two instruction paths of the library (its {@code path} argument and {@code caps} bit). */
    enum Path {
        AVX512(1, "avx512bf16"),
        AMX(2, "amx");

        final int code;
        final String label;

        Path(int code, String label) {
            this.code = code;
            this.label = label;
        }
    }

    private record Library(MethodHandle matmul, MethodHandle inputGrad, int caps) {
    }

    /** The loaded library, or the one-line reason it is not there. */
    private static final class Holder {
        static final Object LOADED = load();
    }

    private NativeBf16() {
    }

    /**
     * Why {@code path} cannot run here (null when it can): the library is missing or failed to load,
     * or the CPU (or the OS) lacks the instructions.
     */
    static String refusal(Path path) {
        if (!(Holder.LOADED instanceof Library lib)) {
            return (String) Holder.LOADED;
        }
        if ((lib.caps & Path.AVX512.code) == 0) {
            return "this CPU has no AVX512_BF16 instructions";
        }
        if (path == Path.AMX && (lib.caps & Path.AMX.code) == 0) {
            return "this CPU has no AMX-BF16 tiles (or the kernel did not grant their state)";
        }
        return null;
    }

    /** Why the library itself is not loaded (null when it is, whatever the CPU). */
    static String libraryRefusal() {
        return Holder.LOADED instanceof Library ? null : (String) Holder.LOADED;
    }

    /** The fastest available path, or null when none is. */
    static Path best() {
        return refusal(Path.AMX) == null ? Path.AMX : refusal(Path.AVX512) == null ? Path.AVX512 : null;
    }

    /**
     * {@code out[i, j] = sum_s bf16(x[i, s]) * w[j, s]} for {@code i < m}, {@code j < w.rows()}, as
     * {@link Kernels#matmul} (x {@code [m, w.cols()]} at {@code xOff}, out {@code [m, w.rows()]} at
     * {@code outOff}); {@code w} must be BF16 and {@code path} available ({@link #refusal}).
     */
    static void matmul(Path path, Parallel pool, float[] x, int xOff, int m, Matrix w, float[] out, int outOff) {
        run(library(path).matmul, path, pool, x, xOff, m, w.cols(), w, w.rows(), out, outOff);
    }

    /**
     * {@code dx[i, s] += sum_j bf16(dy[i, j]) * w[j, s]} for {@code i < m}, {@code s < w.cols()}, as
     * {@link Kernels#matmulInputGrad} (dy {@code [m, w.rows()]} at {@code dyOff}, dx
     * {@code [m, w.cols()]} at {@code dxOff}): the output gradient is rounded to bf16, each product
     * is exact in F32, the sums are F32 in blocks of 1024 weight rows, each block added to dx in
     * order. Split over panels of 32 columns of dx, so the result does not depend on the threads.
     */
    static void matmulInputGrad(Path path, Parallel pool, float[] dy, int dyOff, int m, Matrix w, float[] dx, int dxOff) {
        run(library(path).inputGrad, path, pool, dy, dyOff, m, w.rows(), w, w.cols(), dx, dxOff);
    }

    /**
     * One of the library's two products, whose C signatures agree: {@code (path, in, m, inWidth, w,
     * outWidth, c0, c1, out)} computes columns {@code [c0, c1)} of the {@code [m, outWidth]} output from
     * the {@code [m, inWidth]} input. The output columns are split over the pool in panels of
     * {@value #PANEL}.
     */
    private static void run(MethodHandle h, Path path, Parallel pool, float[] in, int inOff, int m, int inWidth, Matrix w,
                            int outWidth, float[] out, int outOff) {
        if (w.dtype() != DType.BF16) {
            throw new IllegalArgumentException("the native BF16 GEMM needs BF16 weights, got " + w.dtype());
        }
        Objects.checkFromIndexSize(inOff, (long) m * inWidth, in.length);
        Objects.checkFromIndexSize(outOff, (long) m * outWidth, out.length);
        if (m == 0 || outWidth == 0) {
            return;
        }
        MemorySegment is = MemorySegment.ofArray(in).asSlice(inOff * 4L, (long) m * inWidth * 4);
        MemorySegment os = MemorySegment.ofArray(out).asSlice(outOff * 4L, (long) m * outWidth * 4);
        MemorySegment ws = w.data();
        int panels = (outWidth + PANEL - 1) / PANEL;
        int grain = (int) Math.max(1, MIN_CHUNK_FLOPS / Math.max(1, 2L * m * inWidth * PANEL));
        pool.forRange(panels, grain, (p0, p1) -> {
            int rc;
            try {
                rc = (int) h.invokeExact(path.code, is, m, inWidth, ws, outWidth, p0 * PANEL, Math.min(outWidth, p1 * PANEL), os);
            } catch (Throwable e) {
                throw new IllegalStateException("native BF16 GEMM call failed: " + e, e);
            }
            if (rc == -2) {
                throw new OutOfMemoryError("native BF16 GEMM: no memory for its scratch (" + m + " x " + inWidth + ")");
            }
            if (rc != 0) {
                throw new IllegalStateException("native BF16 GEMM refused path " + path.label + " (code " + rc + ")");
            }
        });
    }

    private static Library library(Path path) {
        String why = refusal(path);
        if (why != null) {
            throw new IllegalStateException("native BF16 GEMM path " + path.label + " unavailable: " + why);
        }
        return (Library) Holder.LOADED;
    }

    private static Object load() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "the native BF16 GEMM exists for x86-64 Linux only (this is " + os + "/" + arch + ")";
        }
        URL url = NativeBf16.class.getResource(RESOURCE);
        if (url == null) {
            return "the native BF16 GEMM is not in this build (it is compiled only where gcc was present)";
        }
        try {
            java.nio.file.Path file;
            boolean temporary = false;
            if ("file".equals(url.getProtocol())) {
                file = java.nio.file.Path.of(url.toURI());
            } else {
                file = Files.createTempFile("ipg-bf16-", ".so");
                temporary = true;
                try (InputStream in = url.openStream()) {
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            SymbolLookup lookup;
            try {
                lookup = SymbolLookup.libraryLookup(file, Arena.global());
            } finally {
                if (temporary) {
                    Files.deleteIfExists(file); // the mapping stays valid
                }
            }
            Linker linker = Linker.nativeLinker();
            MethodHandle caps = linker.downcallHandle(lookup.findOrThrow("ipg_bf16_caps"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT));
            MethodHandle matmul = linker.downcallHandle(lookup.findOrThrow("ipg_bf16_matmul"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS),
                    Linker.Option.critical(true));
            MethodHandle inputGrad = linker.downcallHandle(lookup.findOrThrow("ipg_bf16_matmul_input_grad"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS),
                    Linker.Option.critical(true));
            return new Library(matmul, inputGrad, (int) caps.invokeExact());
        } catch (Throwable e) { // an I/O failure, a library the linker refuses, a missing symbol
            return "the native BF16 GEMM failed to load: " + e;
        }
    }
}
