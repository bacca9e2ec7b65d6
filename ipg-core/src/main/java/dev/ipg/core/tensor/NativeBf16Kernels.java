package dev.ipg.core.tensor;

/**
 * {@link Kernels} whose forward products with BF16 weights and their input gradients run on the
 * native BF16 GEMM ({@link NativeBf16}, one instruction path), every other kernel (the weight
 * gradient, and products with F32 or F16 weights) on the kernels it wraps. Made by {@link KernelsProvider#lookup(Bf16Compute)} for a
 * native {@link Bf16Compute}; its precision contract is stated there.
 */
final class NativeBf16Kernels implements Kernels {

    private final Kernels base;
    private final NativeBf16.Path path;

    NativeBf16Kernels(Kernels base, NativeBf16.Path path) {
        String why = NativeBf16.refusal(path);
        if (why != null) {
            throw new IllegalStateException("native BF16 GEMM path " + path.label + " unavailable: " + why);
        }
        this.base = base;
        this.path = path;
    }

    /** The kernels every other call goes to. */
    Kernels base() {
        return base;
    }

    /** The instruction path of the BF16 products. */
    NativeBf16.Path path() {
        return path;
    }

    @Override
    public String name() {
        return base.name() + "+bf16-" + path.label;
    }

    @Override
    public void matmul(Parallel pool, float[] x, int xOff, int m, Matrix w, float[] out, int outOff) {
        if (w.dtype() == DType.BF16 && w.cols() > 0) {
            NativeBf16.matmul(path, pool, x, xOff, m, w, out, outOff);
        } else {
            base.matmul(pool, x, xOff, m, w, out, outOff);
        }
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        return base.dot(a, ao, b, bo, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        base.axpy(alpha, x, xo, y, yo, n);
    }

    @Override
    public void scale(float[] x, int off, int n, float alpha) {
        base.scale(x, off, n, alpha);
    }

    @Override
    public float rmsnorm(float[] x, int xo, Matrix weight, float weightOffset, float eps, float[] out, int oo, int n) {
        return base.rmsnorm(x, xo, weight, weightOffset, eps, out, oo, n);
    }

    @Override
    public float layernorm(float[] x, int xo, Matrix weight, Matrix bias, float eps, float[] out, int oo, int n) {
        return base.layernorm(x, xo, weight, bias, eps, out, oo, n);
    }

    @Override
    public void gemm(int m, int n, int depth, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
        base.gemm(m, n, depth, a, ao, ars, acs, b, bo, ldb, c, co, ldc);
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        base.softmax(x, off, n);
    }

    @Override
    public double logSoftmaxRow(float[] x, int off, int n, double scale, float alpha, boolean write) {
        return base.logSoftmaxRow(x, off, n, scale, alpha, write);
    }

    @Override
    public void matmulInputGrad(Parallel pool, float[] dy, int dyOff, int m, Matrix w, float[] dx, int dxOff) {
        if (w.dtype() == DType.BF16 && w.cols() > 0) {
            NativeBf16.matmulInputGrad(path, pool, dy, dyOff, m, w, dx, dxOff);
        } else {
            base.matmulInputGrad(pool, dy, dyOff, m, w, dx, dxOff);
        }
    }

    @Override
    public void matmulWeightGrad(Parallel pool, float[] dy, int m, int n, float[] x, int k, float[] dw) {
        base.matmulWeightGrad(pool, dy, m, n, x, k, dw);
    }

    @Override
    public void siluMul(float[] gate, int go, float[] up, int uo, float[] out, int oo, int n) {
        base.siluMul(gate, go, up, uo, out, oo, n);
    }

    @Override
    public void geluTanh(float[] x, int off, int n) {
        base.geluTanh(x, off, n);
    }

    @Override
    public void silu(float[] x, int off, int n) {
        base.silu(x, off, n);
    }

    @Override
    public void siluGrad(float[] x, int xo, float[] out, int oo, int n) {
        base.siluGrad(x, xo, out, oo, n);
    }

    @Override
    public void geluTanhGrad(float[] x, int xo, float[] out, int oo, int n) {
        base.geluTanhGrad(x, xo, out, oo, n);
    }
}
