package dev.ipg.core.tensor;

import static dev.ipg.core.tensor.TensorFixtures.U;
import static dev.ipg.core.tensor.TensorFixtures.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ipg.core.testutil.PyTorchReference;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The activation kernels (SiLU, the tanh GELU and their derivatives), scalar and vector, against
 * PyTorch's {@code silu} and {@code gelu(approximate="tanh")} and their autograd derivatives in
 * float32, on a grid of moderate values and on large {@code |x|} up to the float range; and each
 * vector kernel against its scalar definition on sizes with tails and offsets.
 *
 * <p>Tolerances follow the formulas' conditioning: each side rounds a handful of operations
 * (a few u relative); the tanh GELU and its derivative also inherit the absolute error of
 * {@code tanh} near ±1 (about u), scaled by {@code |x| / 2} in the value and by
 * {@code |x| c (1 + 3k x^2) / 2} in the derivative. Where PyTorch's derivative is NaN (its
 * {@code (1 - t^2) * x^2} is {@code 0 * inf} for {@code |x| >= 1e20}), the kernels must give the
 * exact limits 1 and 0.
 */
class ActivationKernelsTest {

    private static final int[] SIZES = {1, 7, 15, 16, 17, 31, 33, 100, 257, 1000};
    private static final double C = Math.sqrt(2 / Math.PI);

    private static float[] xs;
    /** torch: silu, d silu, gelu_tanh, d gelu_tanh at {@link #xs}. */
    private static float[][] torch;

    private final Kernels vec = new VectorKernels();
    private final Kernels ref = new ScalarKernels();

    /** Moderate values on a fine grid, then large magnitudes of both signs. */
    private static float[] inputs() {
        List<Float> v = new ArrayList<>();
        for (int i = -2400; i <= 2400; i++) {
            v.add(i / 200f + 0.0013f);
        }
        float[] big = {0f, 1e-30f, 1e-7f, 15f, 20f, 30f, 50f, 80f, 87f, 88f, 88.5f, 89f, 90f, 100f, 500f, 1e3f, 1e4f,
                1e6f, 1e7f, 1e12f, 1e13f, 1e19f, 1e20f, 1e30f, Float.MAX_VALUE};
        for (float b : big) {
            v.add(b);
            v.add(-b);
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    @BeforeAll
    static void askTorch(@TempDir Path dir) throws IOException, InterruptedException {
        xs = inputs();
        Path in = dir.resolve("x.f32");
        Path out = dir.resolve("y.f32");
        ByteBuffer b = ByteBuffer.allocate(4 * xs.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : xs) {
            b.putFloat(x);
        }
        Files.write(in, b.array());
        String script = String.join("\n",
                "import sys, numpy as np, torch",
                "x = torch.from_numpy(np.fromfile(sys.argv[1], dtype='<f4')).requires_grad_(True)",
                "outs = []",
                "for f in (torch.nn.functional.silu, lambda t: torch.nn.functional.gelu(t, approximate='tanh')):",
                "    x.grad = None",
                "    y = f(x)",
                "    y.sum().backward()",
                "    outs += [y.detach().numpy(), x.grad.numpy()]",
                "np.concatenate(outs).astype('<f4').tofile(sys.argv[2])");
        Process p = new ProcessBuilder(PyTorchReference.python().toString(), "-c", script, in.toString(), out.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "torch did not finish");
        assertEquals(0, p.exitValue(), log);
        ByteBuffer r = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(16L * xs.length, r.capacity(), "torch output size");
        torch = new float[4][xs.length];
        for (float[] row : torch) {
            for (int i = 0; i < xs.length; i++) {
                row[i] = r.getFloat();
            }
        }
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    /** The four kernels of {@code k} at {@link #xs}, at an offset so that the vector tails differ. */
    private static float[][] evaluate(Kernels k) {
        int n = xs.length;
        float[][] r = new float[4][];
        float[] a = new float[n + 3];
        System.arraycopy(xs, 0, a, 3, n);
        k.silu(a, 3, n);
        r[0] = java.util.Arrays.copyOfRange(a, 3, n + 3);
        float[] d = new float[n + 1];
        k.siluGrad(xs, 0, d, 1, n);
        r[1] = java.util.Arrays.copyOfRange(d, 1, n + 1);
        a = new float[n + 5];
        System.arraycopy(xs, 0, a, 5, n);
        k.geluTanh(a, 5, n);
        r[2] = java.util.Arrays.copyOfRange(a, 5, n + 5);
        d = xs.clone();
        k.geluTanhGrad(d, 0, d, 0, n);   // in place
        r[3] = d;
        return r;
    }

    private static void within(String what, float x, float want, float got, double tol) {
        if (!(Math.abs((double) want - got) <= tol)) {
            fail(what + " at x=" + x + ": torch " + want + ", ipg " + got + ", tolerance " + tol);
        }
    }

    private static void checkAgainstTorch(Kernels k) {
        float[][] got = evaluate(k);
        String name = k.name();
        int limits = 0;
        for (int i = 0; i < xs.length; i++) {
            float x = xs[i];
            double ax = Math.abs(x);
            double s = sigmoid(x);
            within(name + " silu", x, torch[0][i], got[0][i], 8 * U * Math.abs(torch[0][i]) + Float.MIN_NORMAL);
            within(name + " silu'", x, torch[1][i], got[1][i],
                    8 * U * (Math.abs(torch[1][i]) + s * (1 + ax)) + Float.MIN_NORMAL);
            within(name + " gelu_tanh", x, torch[2][i], got[2][i], 8 * U * (Math.abs(torch[2][i]) + ax) + Float.MIN_NORMAL);
            if (Float.isNaN(torch[3][i])) {
                assertTrue(ax >= 1e19, "torch's derivative is NaN only where x^2 overflows: x=" + x);
                assertEquals(x > 0 ? 1f : 0f, got[3][i], name + " gelu_tanh' limit at x=" + x);
                limits++;
            } else if (ax >= 10) {
                // tanh is ±1 in float: both give the limits exactly
                assertEquals(x > 0 ? 1f : 0f, torch[3][i], 0f, "torch gelu_tanh' at x=" + x);
                assertEquals(x > 0 ? 1f : 0f, got[3][i], 0f, name + " gelu_tanh' at x=" + x);
            } else {
                double inner = C * (1 + 3 * 0.044715 * ax * ax);
                within(name + " gelu_tanh'", x, torch[3][i], got[3][i], 8 * U * (Math.abs(torch[3][i]) + 1 + ax * inner));
            }
            assertTrue(Float.isFinite(got[0][i]) && Float.isFinite(got[1][i]) && Float.isFinite(got[2][i])
                    && Float.isFinite(got[3][i]), name + " non-finite at x=" + x);
        }
        assertTrue(limits >= 4, "the grid reaches |x| where torch's derivative overflows");
    }

    @Test
    void scalarKernelsMatchTorch() {
        checkAgainstTorch(ref);
    }

    @Test
    void vectorKernelsMatchTorch() {
        checkAgainstTorch(vec);
    }

    @Test
    void siluIsSiluMulWithoutTheProduct() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (Kernels k : new Kernels[] {ref, vec}) {
            for (int n : SIZES) {
                float[] g = uniform(rnd, n);
                float[] u = new float[n];
                java.util.Arrays.fill(u, 1f);
                float[] a = g.clone();
                float[] b = new float[n];
                k.silu(a, 0, n);
                k.siluMul(g, 0, u, 0, b, 0, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(Float.floatToRawIntBits(b[i]), Float.floatToRawIntBits(a[i]), k.name() + " n=" + n + " i=" + i);
                }
            }
        }
    }

    @Test
    void vectorMatchesScalarOnTailsAndOffsets() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int n : SIZES) {
            float[] x = uniform(rnd, n + 4);
            for (int i = 0; i < x.length; i++) {
                x[i] *= 14;
            }
            if (n > 3) {
                x[2] = 95f;
                x[3] = -95f;
            }
            float[][] a = {x.clone(), new float[n + 3], new float[n + 3]};
            float[][] b = {x.clone(), new float[n + 3], new float[n + 3]};
            ref.silu(a[0], 2, n);
            vec.silu(b[0], 2, n);
            ref.siluGrad(x, 1, a[1], 3, n);
            vec.siluGrad(x, 1, b[1], 3, n);
            ref.geluTanhGrad(x, 1, a[2], 3, n);
            vec.geluTanhGrad(x, 1, b[2], 3, n);
            for (int i = 0; i < n; i++) {
                float v = x[2 + i];
                String at = "n=" + n + " i=" + i + " x=" + v;
                // exp within 2 ulp of Math.exp, then a division and a product: 12 u relative
                assertEquals(a[0][2 + i], b[0][2 + i], 12 * U * Math.abs(a[0][2 + i]) + 1e-37, "silu " + at);
                float w = x[1 + i];
                double s = sigmoid(w);
                assertEquals(a[1][3 + i], b[1][3 + i], 12 * U * (Math.abs(a[1][3 + i]) + s * (1 + Math.abs(w))) + 1e-37,
                        "silu' " + at);
                double inner = C * (1 + 3 * 0.044715 * w * w);
                assertEquals(a[2][3 + i], b[2][3 + i], 16 * U * (Math.abs(a[2][3 + i]) + 1 + Math.abs(w) * inner),
                        "gelu_tanh' " + at);
            }
            // nothing written outside the range
            assertEquals(x[0], b[0][0]);
            assertEquals(x[1], b[0][1]);
            assertEquals(x[n + 2], b[0][n + 2]);
            assertEquals(0f, b[1][2]);
            assertEquals(0f, b[2][2]);
        }
    }
}
