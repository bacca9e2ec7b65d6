package dev.ipg.core.tensor;

/**
 * The float kernels of the engine, the one facade the rest of the engine calls. Two
 * implementations exist: {@link ScalarKernels}, the specification (every kernel's plain-loop
 * definition), and {@code VectorKernels} (Vector API), which overrides each of them and is tested
 * against it; {@link KernelsProvider#lookup()} picks one at start-up, wrapped, when the user opts in
 * ({@link Bf16Compute}), so that products with BF16 weights run on the native BF16 GEMM. The interface has no default
 * methods: a kernel added here is defined in both. Arrays are flat row-major; offsets are in
 * elements.
 *
 * <p>Every kernel is deterministic: its result does not depend on the number of threads of the
 * {@link Parallel} pool it runs on (work is split over outputs, never over a reduction).
 */
public interface Kernels {

    /** A short name for logs and benchmark reports, e.g. "vector-512" or "scalar". */
    String name();

    /**
     * {@code out[i, j] = sum_k x[i, k] * w[j, k]} for {@code i < m}, {@code j < w.rows()}: the
     * product {@code x · wᵀ} of {@code nn.Linear}. {@code x} is {@code [m, w.cols()]} at {@code xOff},
     * {@code out} is {@code [m, w.rows()]} at {@code outOff}. Runs on {@code pool}.
     */
    void matmul(Parallel pool, float[] x, int xOff, int m, Matrix w, float[] out, int outOff);

    /** {@code sum_i a[ao + i] * b[bo + i]} for {@code i < n}. */
    float dot(float[] a, int ao, float[] b, int bo, int n);

    /** {@code y[yo + i] += alpha * x[xo + i]} for {@code i < n}. */
    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n);

    /** {@code x[off + i] *= alpha} for {@code i < n}. */
    void scale(float[] x, int off, int n, float alpha);

    /**
     * RMSNorm of one row: {@code out[i] = x[i] / sqrt(mean(x²) + eps) * (weightOffset + w[i])};
     * returns the reciprocal root-mean-square {@code 1/sqrt(mean(x²) + eps)} (backward needs it).
     * {@code weightOffset} is 0 for Llama-style norms. {@code out} may equal {@code x}.
     */
    float rmsnorm(float[] x, int xo, Matrix weight, float weightOffset, float eps, float[] out, int oo, int n);

    /**
     * LayerNorm of one row: {@code out[i] = (x[i] - mean) / sqrt(var + eps) * w[i] + b[i]}
     * (biased variance, as torch); returns the reciprocal standard deviation. {@code bias} may be null.
     */
    float layernorm(float[] x, int xo, Matrix weight, Matrix bias, float eps, float[] out, int oo, int n);

    /**
     * A small dense product on flat arrays, accumulated into {@code c}:
     * {@code c[co + i*ldc + j] += sum_{s < depth} a[ao + i*ars + s*acs] * b[bo + s*ldb + j]} for
     * {@code i < m}, {@code j < n}. The strides of {@code a} let it be read transposed
     * ({@code ars = 1}). Each element's sum starts from zero and accumulates
     * {@code fma(a, b, sum)} in increasing {@code s}, then is added to {@code c}: implementations
     * agree bit for bit. Runs on the calling thread (attention calls it from its own tasks).
     */
    void gemm(int m, int n, int depth, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
              float[] c, int co, int ldc);

    /** In-place numerically stable softmax of {@code x[off .. off + n)}. */
    void softmax(float[] x, int off, int n);

    /**
     * One row of a tempered log-softmax and its gradient, the LM head's: with
     * {@code l = x[off .. off + n)}, {@code m = max(l)} and {@code s = scale > 0}, returns
     * {@code lse = s m + log sum_j exp(s (l_j - m))} (sum in double); when {@code write}, overwrites
     * {@code x[off + j] = alpha exp(s l_j - lse)}, 0 where that is subnormal (a probability this small
     * is below the rounding of the others, and subnormal operands slow the following product).
     */
    double logSoftmaxRow(float[] x, int off, int n, double scale, float alpha, boolean write);

    /**
     * Backward of {@link #matmul} with respect to its input: {@code dx[i, k] += sum_j dy[i, j] * w[j, k]}
     * for {@code i < m}. {@code dy} is {@code [m, w.rows()]} at {@code dyOff}, {@code dx} is
     * {@code [m, w.cols()]} at {@code dxOff}. Split over columns k, so deterministic.
     */
    void matmulInputGrad(Parallel pool, float[] dy, int dyOff, int m, Matrix w, float[] dx, int dxOff);

    /**
     * Backward of {@link #matmul} with respect to the weight: {@code dw[j, k] += sum_i dy[i, j] * x[i, k]}
     * for {@code i < m}; {@code dy} is {@code [m, n]}, {@code x} is {@code [m, k]}, {@code dw} is
     * {@code [n, k]}. Split over rows j of dw, so deterministic.
     */
    void matmulWeightGrad(Parallel pool, float[] dy, int m, int n, float[] x, int k, float[] dw);

    /**
     * The SwiGLU gate of Llama/Qwen MLPs: {@code out[oo + i] = silu(gate[go + i]) * up[uo + i]} with
     * {@code silu(g) = g / (1 + e^-g)}, for {@code i < n}. {@code out} may be {@code gate} or {@code up}
     * at the same offset.
     */
    void siluMul(float[] gate, int go, float[] up, int uo, float[] out, int oo, int n);

    /**
     * In-place GELU, tanh approximation (GPT-2's {@code gelu_new}, torch {@code approximate="tanh"}):
     * {@code x = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))} for {@code x[off .. off + n)}.
     */
    void geluTanh(float[] x, int off, int n);

    /** In-place SiLU: {@code x = x / (1 + e^-x)} for {@code x[off .. off + n)}, as in {@link #siluMul}. */
    void silu(float[] x, int off, int n);

    /**
     * The derivative of SiLU: {@code out[oo + i] = s (1 + x (1 - s))} with {@code s = 1 / (1 + e^-x)},
     * {@code x = x[xo + i]}, for {@code i < n}. {@code out} may be {@code x} at the same offset.
     */
    void siluGrad(float[] x, int xo, float[] out, int oo, int n);

    /**
     * The derivative of {@link #geluTanh}: {@code out[oo + i] = (1 + t) / 2 + x (1 - t) (1 + t) c (1 + 3 k x^2) / 2}
     * with {@code t = tanh(c (x + k x^3))}, {@code c = sqrt(2/pi)}, {@code k = 0.044715},
     * {@code x = x[xo + i]}, for {@code i < n}. The second term is zero where {@code t} is exactly
     * ±1, so large {@code |x|} gives the limits 1 and 0 (not {@code inf * 0}).
     * {@code out} may be {@code x} at the same offset.
     */
    void geluTanhGrad(float[] x, int xo, float[] out, int oo, int n);
}
