package dev.ipg.core.tensor;

import static dev.ipg.core.tensor.VectorLanes.F;
import static dev.ipg.core.tensor.VectorLanes.L;
import static dev.ipg.core.tensor.VectorLanes.sum;
import static dev.ipg.core.tensor.VectorLanes.toFloats;

import dev.ipg.core.tensor.VectorLanes.Scratch;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The element-wise kernels and row reductions on the Vector API: dot, axpy, scale, the norms,
 * softmax and the activations, with a lane-wise {@code exp} made of adds, multiplies and bit
 * operations. Masked tails, no scalar remainder loops except where the order of a sum is part of
 * the result. Only {@link VectorKernels} calls this class.
 */
final class VectorElementwise {

    private VectorElementwise() {
    }

    /** A row of a norm's weight as f32 (a scratch array; valid until the next call on this thread). */
    private static float[] weights(Matrix w, int n, Scratch s, boolean second) {
        if (w.size() < n) {
            throw new IllegalArgumentException("norm weight of " + w.size() + " elements, row of " + n);
        }
        float[] dst;
        if (second) {
            if (s.bias.length < n) {
                s.bias = new float[n];
            }
            dst = s.bias;
        } else {
            if (s.norm.length < n) {
                s.norm = new float[n];
            }
            dst = s.norm;
        }
        if (w.dtype() == DType.F16 && s.half.length < n) {
            s.half = new short[n];
        }
        toFloats(w, 0, n, dst, 0, s);
        return dst;
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        Objects.checkFromIndexSize(ao, n, a.length);
        Objects.checkFromIndexSize(bo, n, b.length);
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
            s1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), s1);
        }
        for (; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            s0 = FloatVector.fromArray(F, a, ao + i, mk).fma(FloatVector.fromArray(F, b, bo + i, mk), s0);
        }
        return sum(s0.add(s1));
    }

    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        Objects.checkFromIndexSize(xo, n, x.length);
        Objects.checkFromIndexSize(yo, n, y.length);
        FloatVector a = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (; i <= n - L; i += L) {
            // y + alpha * x, rounded as the scalar loop rounds it (product, then sum)
            FloatVector.fromArray(F, x, xo + i).mul(a).add(FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, xo + i, mk).mul(a).add(FloatVector.fromArray(F, y, yo + i, mk))
                    .intoArray(y, yo + i, mk);
        }
    }

    static void scale(float[] x, int off, int n, float alpha) {
        Objects.checkFromIndexSize(off, n, x.length);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, x, off + i).mul(alpha).intoArray(x, off + i);
        }
        if (i < n) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, off + i, mk).mul(alpha).intoArray(x, off + i, mk);
        }
    }

    static float rmsnorm(float[] x, int xo, Matrix weight, float weightOffset, float eps, float[] out, int oo, int n) {
        Objects.checkFromIndexSize(xo, n, x.length);
        Objects.checkFromIndexSize(oo, n, out.length);
        float[] wt = weights(weight, n, Scratch.local(), false);
        FloatVector ss = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            ss = v.fma(v, ss);
        }
        if (i < n) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i, F.indexInRange(i, n));
            ss = v.fma(v, ss);
        }
        float inv = (float) (1.0 / Math.sqrt(sum(ss) / n + eps));
        // out = x * inv * (weightOffset + w), in the scalar loop's order
        for (i = 0; i <= n - L; i += L) {
            FloatVector.fromArray(F, x, xo + i).mul(inv).mul(FloatVector.fromArray(F, wt, i).add(weightOffset))
                    .intoArray(out, oo + i);
        }
        if (i < n) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, xo + i, mk).mul(inv).mul(FloatVector.fromArray(F, wt, i, mk).add(weightOffset))
                    .intoArray(out, oo + i, mk);
        }
        return inv;
    }

    static float layernorm(float[] x, int xo, Matrix weight, Matrix bias, float eps, float[] out, int oo, int n) {
        Objects.checkFromIndexSize(xo, n, x.length);
        Objects.checkFromIndexSize(oo, n, out.length);
        Scratch s = Scratch.local();
        float[] wt = weights(weight, n, s, false);
        float[] bs = bias == null ? null : weights(bias, n, s, true);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = acc.add(FloatVector.fromArray(F, x, xo + i));
        }
        if (i < n) {
            acc = acc.add(FloatVector.fromArray(F, x, xo + i, F.indexInRange(i, n)));
        }
        float mean = sum(acc) / n;
        FloatVector mv = FloatVector.broadcast(F, mean);
        acc = FloatVector.zero(F);
        for (i = 0; i <= n - L; i += L) {
            FloatVector d = FloatVector.fromArray(F, x, xo + i).sub(mv);
            acc = d.fma(d, acc);
        }
        if (i < n) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector d = FloatVector.fromArray(F, x, xo + i, mk).sub(mv, mk); // lanes past n stay 0
            acc = d.fma(d, acc);
        }
        float inv = (float) (1.0 / Math.sqrt(sum(acc) / n + eps));
        for (i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(F, x, xo + i, mk).sub(mv).mul(inv).mul(FloatVector.fromArray(F, wt, i, mk));
            if (bs != null) {
                v = v.add(FloatVector.fromArray(F, bs, i, mk));
            }
            v.intoArray(out, oo + i, mk);
        }
        return inv;
    }

    static void softmax(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        if (n == 0) {
            return;
        }
        float max = max(x, off, n);
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector e = exp(FloatVector.fromArray(F, x, off + i, mk).sub(max));
            e.intoArray(x, off + i, mk);
            acc = acc.add(e, mk);
        }
        float inv = 1f / sum(acc);
        scale(x, off, n, inv);
    }

    /**
     * {@code max(x[off .. off + n))} ({@link Math#max} lane-wise, -infinity when n = 0). Four
     * accumulators, so that the latency of the lane-wise max does not bound the loop, each the
     * receiver of a freshly loaded vector: a running maximum of the static type {@code FloatVector}
     * as receiver is a call the JIT cannot bind to the species' class, which then runs the lane-wise
     * operation as Java code, an order of magnitude slower (seen in attention's softmax).
     */
    static float max(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        int i = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (n >= 4 * L) {
            FloatVector m0 = FloatVector.fromArray(F, x, off);
            FloatVector m1 = FloatVector.fromArray(F, x, off + L);
            FloatVector m2 = FloatVector.fromArray(F, x, off + 2 * L);
            FloatVector m3 = FloatVector.fromArray(F, x, off + 3 * L);
            for (i = 4 * L; i <= n - 4 * L; i += 4 * L) {
                m0 = FloatVector.fromArray(F, x, off + i).max(m0);
                m1 = FloatVector.fromArray(F, x, off + i + L).max(m1);
                m2 = FloatVector.fromArray(F, x, off + i + 2 * L).max(m2);
                m3 = FloatVector.fromArray(F, x, off + i + 3 * L).max(m3);
            }
            max = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
        }
        for (; i <= n - L; i += L) {
            max = Math.max(max, FloatVector.fromArray(F, x, off + i).reduceLanes(VectorOperators.MAX));
        }
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        return max;
    }

    /**
     * {@link Kernels#logSoftmaxRow}: the exponentials are the lane-wise {@link #exp} of the F32
     * argument {@code s (l_j - m)} (then {@code s (l_j - m) - log sum}), summed per vector in F32
     * and those sums in double.
     */
    static double logSoftmaxRow(float[] x, int off, int n, double scale, float alpha, boolean write) {
        Objects.checkFromIndexSize(off, n, x.length);
        float max = max(x, off, n);
        float s = (float) scale;
        double logSum = Math.log(sumExp(x, off, n, max, s));
        if (write) {
            writeExp(x, off, n, max, s, (float) logSum, alpha);
        }
        return max * scale + logSum;
    }

    // The two passes of logSoftmaxRow are methods of their own, each with one inlined exp: with
    // both in one method the JIT stops inlining at its node budget and calls exp out of line, on
    // boxed vectors, several times slower.

    /** {@code sum_j exp(s (x_j - max))}: F32 within a vector, the vectors' sums in double. */
    private static double sumExp(float[] x, int off, int n, float max, float s) {
        double sum = 0;
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector e = exp(FloatVector.fromArray(F, x, off + i, mk).sub(max).mul(s));
            sum += e.reduceLanes(VectorOperators.ADD, mk);
        }
        return sum;
    }

    /** {@code x_j = alpha exp(s (x_j - max) - logSum)}, 0 where subnormal. */
    private static void writeExp(float[] x, int off, int n, float max, float s, float logSum, float alpha) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector g = exp(FloatVector.fromArray(F, x, off + i, mk).sub(max).mul(s).sub(logSum)).mul(alpha);
            g.blend(0f, g.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(x, off + i, mk);
        }
    }

    static void siluMul(float[] gate, int go, float[] up, int uo, float[] out, int oo, int n) {
        Objects.checkFromIndexSize(go, n, gate.length);
        Objects.checkFromIndexSize(uo, n, up.length);
        Objects.checkFromIndexSize(oo, n, out.length);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector g = FloatVector.fromArray(F, gate, go + i, mk);
            FloatVector e = exp(g.neg()).add(1f);
            g.div(e).mul(FloatVector.fromArray(F, up, uo + i, mk)).intoArray(out, oo + i, mk);
        }
    }

    static void geluTanh(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(F, x, off + i, mk);
            FloatVector y = v.mul(v).mul(v).mul(0.044715f).add(v).mul(ScalarKernels.GELU_C);
            // tanh(y) = 1 - 2 / (e^{2y} + 1): exact limits at both ends, no overflow (exp saturates)
            FloatVector th = FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(exp(y.add(y)).add(1f)));
            v.mul(0.5f).mul(th.add(1f)).intoArray(x, off + i, mk);
        }
    }

    static void silu(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector g = FloatVector.fromArray(F, x, off + i, mk);
            g.div(exp(g.neg()).add(1f)).intoArray(x, off + i, mk);
        }
    }

    static void siluGrad(float[] x, int xo, float[] out, int oo, int n) {
        Objects.checkFromIndexSize(xo, n, x.length);
        Objects.checkFromIndexSize(oo, n, out.length);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(F, x, xo + i, mk);
            FloatVector s = one.div(exp(v.neg()).add(1f));
            // s (1 + x (1 - s)), in the scalar loop's order
            s.mul(one.sub(s).mul(v).add(1f)).intoArray(out, oo + i, mk);
        }
    }

    static void geluTanhGrad(float[] x, int xo, float[] out, int oo, int n) {
        Objects.checkFromIndexSize(xo, n, x.length);
        Objects.checkFromIndexSize(oo, n, out.length);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> mk = F.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(F, x, xo + i, mk);
            FloatVector y = v.mul(v).mul(v).mul(0.044715f).add(v).mul(ScalarKernels.GELU_C);
            FloatVector th = one.sub(FloatVector.broadcast(F, 2f).div(exp(y.add(y)).add(1f)));
            FloatVector sech2 = one.sub(th).mul(one.add(th));
            FloatVector inner = v.mul(v).mul(ScalarKernels.GELU_K3).add(1f).mul(ScalarKernels.GELU_C);
            FloatVector second = v.mul(0.5f).mul(sech2).mul(inner).blend(0f, sech2.compare(VectorOperators.EQ, 0f));
            th.add(1f).mul(0.5f).add(second).intoArray(out, oo + i, mk);
        }
    }

    // Cephes-style expf: x = n ln2 + r, |r| <= ln2 / 2, exp(r) by a degree-7 polynomial, times 2^n.
    private static final float EXP_HI = 88.72283905206835f; // ln(Float.MAX_VALUE)
    private static final float EXP_LO = -87.33654475055310f; // ln(Float.MIN_NORMAL)
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: adding and subtracting rounds to an integer

    /**
     * {@code e^x} lane-wise from adds, multiplies and bit operations only, so its bits do not depend
     * on whether the JIT replaced a library call; within 2 ulp of {@link Math#exp}. Lanes above
     * {@code ln(Float.MAX_VALUE)} give +inf, lanes below {@code ln(Float.MIN_NORMAL)} (including -inf)
     * give 0 where Math.exp would give a subnormal. NaN stays NaN.
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_LO);
        VectorMask<Float> over = x.compare(VectorOperators.GT, EXP_HI);
        FloatVector c = x.max(EXP_LO).min(EXP_HI);
        FloatVector fn = c.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = fn.fma(FloatVector.broadcast(F, -LN2_HI), c);
        r = fn.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, 1.9875691500e-4f);
        p = p.fma(r, FloatVector.broadcast(F, 1.3981999507e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        // 2^n as 2^h * 2^(n-h), h = n >> 1: both factors are normal for n in [-126, 128]
        IntVector n = (IntVector) fn.convert(VectorOperators.F2I, 0);
        IntVector h = n.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = h.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = n.sub(h).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(s1).mul(s2).blend(0f, under).blend(Float.POSITIVE_INFINITY, over);
    }
}
