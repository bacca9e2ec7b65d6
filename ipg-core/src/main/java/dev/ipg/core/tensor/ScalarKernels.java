package dev.ipg.core.tensor;

/**
 * The reference implementation of {@link Kernels}, and so its specification: every kernel as
 * plain loops, float accumulation in index order. Every other implementation is tested against
 * this one, kernel by kernel.
 */
public final class ScalarKernels implements Kernels {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void matmul(Parallel pool, float[] x, int xOff, int m, Matrix w, float[] out, int outOff) {
        // x is (m, K), w is (N, K), out is (m, N)
        int n = w.rows();
        int k = w.cols();
        pool.forRange(n, 16, (j0, j1) -> {
            float[] row = new float[k];
            for (int j = j0; j < j1; j++) {
                w.copyRow(j, row, 0);
                for (int i = 0; i < m; i++) {
                    out[outOff + i * n + j] = dot(x, xOff + i * k, row, 0, k);
                }
            }
        });
    }

    @Override
    public void gemm(int m, int n, int depth, float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                     float[] c, int co, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int s = 0; s < depth; s++) {
                    sum = Math.fma(a[ao + i * ars + s * acs], b[bo + s * ldb + j], sum);
                }
                c[co + i * ldc + j] += sum;
            }
        }
    }

    /** Streams each weight row once and accumulates with {@link #axpy}. */
    @Override
    public void matmulInputGrad(Parallel pool, float[] dy, int dyOff, int m, Matrix w, float[] dx, int dxOff) {
        int n = w.rows();
        int k = w.cols();
        pool.forRange(k, 64, (k0, k1) -> {
            int len = k1 - k0;
            float[] row = new float[len];
            for (int j = 0; j < n; j++) {
                w.copyRow(j, k0, row, 0, len);
                for (int i = 0; i < m; i++) {
                    float g = dy[dyOff + i * n + j];
                    if (g != 0f) {
                        axpy(g, row, 0, dx, dxOff + i * k + k0, len);
                    }
                }
            }
        });
    }

    @Override
    public void matmulWeightGrad(Parallel pool, float[] dy, int m, int n, float[] x, int k, float[] dw) {
        pool.forRange(n, 8, (j0, j1) -> {
            for (int j = j0; j < j1; j++) {
                for (int i = 0; i < m; i++) {
                    float g = dy[i * n + j];
                    if (g != 0f) {
                        axpy(g, x, i * k, dw, j * k, k);
                    }
                }
            }
        });
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float alpha) {
        for (int i = 0; i < n; i++) {
            x[off + i] *= alpha;
        }
    }

    @Override
    public float rmsnorm(float[] x, int xo, Matrix weight, float weightOffset, float eps, float[] out, int oo, int n) {
        float ss = 0f;
        for (int i = 0; i < n; i++) {
            ss += x[xo + i] * x[xo + i];
        }
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) {
            out[oo + i] = x[xo + i] * inv * (weightOffset + weight.getFlat(i));
        }
        return inv;
    }

    @Override
    public float layernorm(float[] x, int xo, Matrix weight, Matrix bias, float eps, float[] out, int oo, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += x[xo + i];
        }
        float mean = sum / n;
        float var = 0f;
        for (int i = 0; i < n; i++) {
            float d = x[xo + i] - mean;
            var += d * d;
        }
        float inv = (float) (1.0 / Math.sqrt(var / n + eps));
        for (int i = 0; i < n; i++) {
            float v = (x[xo + i] - mean) * inv * weight.getFlat(i);
            out[oo + i] = bias == null ? v : v + bias.getFlat(i);
        }
        return inv;
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    @Override
    public double logSoftmaxRow(float[] x, int off, int n, double scale, float alpha, boolean write) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, x[off + j]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            sum += Math.exp((x[off + j] - max) * scale);
        }
        double lse = max * scale + Math.log(sum);
        if (write) {
            for (int j = 0; j < n; j++) {
                float g = (float) (alpha * Math.exp(x[off + j] * scale - lse));
                x[off + j] = Math.abs(g) < Float.MIN_NORMAL ? 0f : g;
            }
        }
        return lse;
    }

    @Override
    public void siluMul(float[] gate, int go, float[] up, int uo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[go + i];
            out[oo + i] = g / (1f + (float) Math.exp(-g)) * up[uo + i];
        }
    }

    /** {@code sqrt(2 / pi)}. */
    static final float GELU_C = 0.7978845608028654f;

    @Override
    public void geluTanh(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            float t = (float) Math.tanh(GELU_C * (v + 0.044715f * v * v * v));
            x[off + i] = 0.5f * v * (1f + t);
        }
    }

    @Override
    public void silu(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            x[off + i] = v / (1f + (float) Math.exp(-v));
        }
    }

    @Override
    public void siluGrad(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            float s = 1f / (1f + (float) Math.exp(-v));
            out[oo + i] = s * (1f + v * (1f - s));
        }
    }

    /** {@code 3 * 0.044715}: the derivative of the cubic term of GELU's tanh approximation. */
    static final float GELU_K3 = 0.134145f;

    @Override
    public void geluTanhGrad(float[] x, int xo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            float t = (float) Math.tanh(GELU_C * (v + 0.044715f * v * v * v));
            float sech2 = (1f - t) * (1f + t);
            float inner = GELU_C * (1f + GELU_K3 * v * v);
            out[oo + i] = 0.5f * (1f + t) + (sech2 == 0f ? 0f : 0.5f * v * sech2 * inner);
        }
    }
}
