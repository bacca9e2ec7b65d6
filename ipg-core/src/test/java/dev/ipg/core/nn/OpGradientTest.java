package dev.ipg.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every op's backward against central finite differences. The scalar objective is
 * {@code L = sum_i c_i y_i} with random c, summed in double; each input element is perturbed by
 * ±h (h = 1e-2 on values of order 1) and {@code (L(+h) - L(-h)) / 2h} compared with the analytic
 * gradient. float32 rounding of y (~1e-7 relative) over 2h bounds the difference error near 1e-5;
 * the h² truncation term is ~1e-4 relative; the tolerance is 2e-3 of the gradient's scale.
 */
class OpGradientTest {

    static Kernels k;
    static Parallel pool;
    static final float H = 1e-2f;

    @BeforeAll
    static void start() {
        k = KernelsProvider.lookup();
        pool = Parallel.of(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    static float[] rand(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    static double dot(float[] c, float[] y) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += (double) c[i] * y[i];
        }
        return s;
    }

    /** Central differences of f() with respect to every element of x, compared with analytic. */
    static void check(String what, float[] x, float[] analytic, Supplier<Double> f) {
        double scale = 1e-6;
        for (float a : analytic) {
            scale = Math.max(scale, Math.abs(a));
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < x.length; i++) {
            float keep = x[i];
            x[i] = keep + H;
            double up = f.get();
            x[i] = keep - H;
            double down = f.get();
            x[i] = keep;
            double fd = (up - down) / (2 * H);
            double err = Math.abs(fd - analytic[i]);
            if (err > worst) {
                worst = err;
                at = i;
            }
        }
        assertTrue(worst <= 2e-3 * scale, what + ": max |fd - analytic| = " + worst + " at " + at + " (gradient scale " + scale + ")");
    }

    @Test
    void linear() {
        SplittableRandom r = new SplittableRandom(1);
        int rows = 3;
        int in = 7;
        int out = 5;
        float[] x = rand(r, rows * in, 1);
        float[] w = rand(r, out * in, 1);
        float[] b = rand(r, out, 1);
        float[] c = rand(r, rows * out, 1);
        Supplier<Double> f = () -> dot(c, Linear.forward(k, pool, x, rows, Matrix.of(w, out, in), Matrix.of(b, 1, out)));
        float[] dx = new float[x.length];
        float[] dw = new float[w.length];
        float[] db = new float[b.length];
        Linear.backward(k, pool, c, rows, Matrix.of(w, out, in), x, dx, dw, db);
        check("linear dx", x, dx, f);
        check("linear dW", w, dw, f);
        check("linear db", b, db, f);
    }

    @Test
    void rmsNorm() {
        SplittableRandom r = new SplittableRandom(2);
        int rows = 3;
        int n = 9;
        float[] x = rand(r, rows * n, 1);
        float[] w = rand(r, n, 1);
        float[] c = rand(r, rows * n, 1);
        Supplier<Double> f = () -> {
            float[] y = new float[x.length];
            RmsNorm.forward(k, x, rows, n, Matrix.of(w, 1, n), 1e-5f, y, null);
            return dot(c, y);
        };
        float[] inv = new float[rows];
        RmsNorm.forward(k, x, rows, n, Matrix.of(w, 1, n), 1e-5f, new float[x.length], inv);
        float[] dx = new float[x.length];
        float[] dw = new float[n];
        RmsNorm.backward(c, x, rows, n, Matrix.of(w, 1, n), inv, dx, dw);
        check("rmsnorm dx", x, dx, f);
        check("rmsnorm dw", w, dw, f);
    }

    @Test
    void layerNorm() {
        SplittableRandom r = new SplittableRandom(3);
        int rows = 3;
        int n = 8;
        float[] x = rand(r, rows * n, 1);
        float[] w = rand(r, n, 1);
        float[] b = rand(r, n, 1);
        float[] c = rand(r, rows * n, 1);
        Supplier<Double> f = () -> {
            float[] y = new float[x.length];
            LayerNorm.forward(k, x, rows, n, Matrix.of(w, 1, n), Matrix.of(b, 1, n), 1e-5f, y, null);
            return dot(c, y);
        };
        float[] inv = new float[rows];
        LayerNorm.forward(k, x, rows, n, Matrix.of(w, 1, n), Matrix.of(b, 1, n), 1e-5f, new float[x.length], inv);
        float[] dx = new float[x.length];
        float[] dw = new float[n];
        float[] db = new float[n];
        LayerNorm.backward(c, x, rows, n, Matrix.of(w, 1, n), inv, dx, dw, db);
        check("layernorm dx", x, dx, f);
        check("layernorm dw", w, dw, f);
        check("layernorm db", b, db, f);
    }

    @Test
    void rope() {
        SplittableRandom r = new SplittableRandom(4);
        int rows = 4;
        int heads = 2;
        int hd = 6;
        int[] pos = {0, 3, 7, 100};
        double[] inv = {1.0, 0.1, 0.01};
        float[] x = rand(r, rows * heads * hd, 1);
        float[] c = rand(r, x.length, 1);
        Supplier<Double> f = () -> {
            float[] y = x.clone();
            Rope.forward(y, rows, heads, hd, pos, inv);
            return dot(c, y);
        };
        float[] dx = c.clone();
        Rope.backward(dx, rows, heads, hd, pos, inv);
        check("rope", x, dx, f);
    }

    @Test
    void attentionWithGroupedHeadsTwoSequencesAndAWindow() {
        SplittableRandom r = new SplittableRandom(5);
        int heads = 4;
        int kvHeads = 2;
        int hd = 3;
        for (int window : new int[] {0, 3}) {
            Attention.Shape sh = new Attention.Shape(heads, kvHeads, hd, window);
            // sequence 0: 5 positions, sequence 1: 3 positions, rows interleaved
            int[] seq = {0, 0, 1, 0, 1, 0, 1, 0};
            int[] pos = {0, 1, 0, 2, 1, 3, 2, 4};
            checkAttention("attention w=" + window, sh, seq, pos, new int[] {5, 3}, r);
        }
    }

    @Test
    void blockedAttentionOverLongRunsAndAContinuedPrefix() {
        SplittableRandom r = new SplittableRandom(15);
        int heads = 4;
        int kvHeads = 2;
        int hd = 5;
        for (int window : new int[] {0, 7}) {
            Attention.Shape sh = new Attention.Shape(heads, kvHeads, hd, window);
            // sequence 0: positions 0..39 (blocks of 32 and 8); sequence 1: positions 3..8 after
            // 3 cached ones (one block of 6); then a lone decode row of sequence 0 at position 40
            int rows = 40 + 6 + 1;
            int[] seq = new int[rows];
            int[] pos = new int[rows];
            for (int i = 0; i < 40; i++) {
                pos[i] = i;
            }
            for (int i = 0; i < 6; i++) {
                seq[40 + i] = 1;
                pos[40 + i] = 3 + i;
            }
            pos[46] = 40;
            assertEquals(List.of(32, 8, 6, 1), Attention.blocks(seq, pos).stream().map(b -> b[1]).toList());
            checkAttention("blocked attention w=" + window, sh, seq, pos, new int[] {41, 9}, r);
        }
    }

    /** Attention's dq, dK and dV against central differences; lens are the key/value lengths per sequence. */
    private void checkAttention(String label, Attention.Shape sh, int[] seq, int[] pos, int[] lens, SplittableRandom r) {
        int width = sh.heads() * sh.hd();
        int kvWidth = sh.kvHeads() * sh.hd();
        float[] q = rand(r, seq.length * width, 1);
        float[][] keys = new float[lens.length][];
        float[][] vals = new float[lens.length][];
        for (int s = 0; s < lens.length; s++) {
            keys[s] = rand(r, lens[s] * kvWidth, 1);
            vals[s] = rand(r, lens[s] * kvWidth, 1);
        }
        float[] c = rand(r, seq.length * width, 1);
        Supplier<Double> f = () -> dot(c, Attention.forward(k, pool, sh, q, seq, pos, s -> keys[s], s -> vals[s]));
        float[] dq = new float[q.length];
        float[][] dk = new float[lens.length][];
        float[][] dv = new float[lens.length][];
        for (int s = 0; s < lens.length; s++) {
            dk[s] = new float[keys[s].length];
            dv[s] = new float[vals[s].length];
        }
        Attention.backward(k, pool, sh, c, q, seq, pos, s -> keys[s], s -> vals[s], dq, s -> dk[s], s -> dv[s]);
        check(label + " dq", q, dq, f);
        for (int s = 0; s < lens.length; s++) {
            check(label + " dK seq " + s, keys[s], dk[s], f);
            check(label + " dV seq " + s, vals[s], dv[s], f);
        }
    }

    @Test
    void blockedAttentionEqualsRowByRow() {
        // the same rows given in an order that breaks every run (row-by-row path) give the same z
        SplittableRandom r = new SplittableRandom(16);
        Attention.Shape sh = new Attention.Shape(4, 2, 8, 0);
        int n = 37;
        int w = 4 * 8;
        float[] keys = rand(r, n * 2 * 8, 1);
        float[] vals = rand(r, n * 2 * 8, 1);
        float[] q = rand(r, n * w, 1);
        int[] seq = new int[n];
        int[] pos = new int[n];
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            pos[i] = i;
            order[i] = (i * 5) % n;   // a permutation with no consecutive positions side by side
        }
        float[] qp = new float[n * w];
        int[] pp = new int[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(q, order[i] * w, qp, i * w, w);
            pp[i] = order[i];
        }
        assertEquals(n, Attention.blocks(seq, pp).size(), "the permuted rows must all run row by row");
        float[] blocked = Attention.forward(k, pool, sh, q, seq, pos, s -> keys, s -> vals);
        float[] rowwise = Attention.forward(k, pool, sh, qp, seq, pp, s -> keys, s -> vals);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < w; j++) {
                assertEquals(rowwise[i * w + j], blocked[order[i] * w + j], 1e-5f, "row " + order[i]);
            }
        }
    }

    @Test
    void mlpActivations() {
        SplittableRandom r = new SplittableRandom(6);
        int n = 40;
        for (Activation act : Activation.values()) {
            float[] g = rand(r, n, 3);
            float[] u = rand(r, n, 3);
            // keep ReLU's inputs away from its kink, where differences are not derivatives
            for (int i = 0; i < n; i++) {
                if (Math.abs(g[i]) < 0.05f) {
                    g[i] += 0.1f;
                }
            }
            float[] c = rand(r, n, 1);
            float[] dg = new float[n];
            float[] du = new float[n];
            Mlp.gatedBackward(k, act, c, g, u, n, dg, du);
            check(act + " gated dg", g, dg, () -> dot(c, Mlp.gatedForward(k, act, g, u, n)));
            check(act + " gated du", u, du, () -> dot(c, Mlp.gatedForward(k, act, g, u, n)));
            float[] da = new float[n];
            Mlp.plainBackward(k, act, c, g, n, da);
            check(act + " plain", g, da, () -> dot(c, Mlp.plainForward(k, act, g, n)));
        }
    }

    @Test
    void embedding() {
        SplittableRandom r = new SplittableRandom(7);
        int v = 6;
        int d = 4;
        int[] tok = {1, 3, 1, 5};
        int[] pos = {0, 1, 2, 3};
        float[] e = rand(r, v * d, 1);
        float[] p = rand(r, 4 * d, 1);
        float[] c = rand(r, 4 * d, 1);
        Supplier<Double> f = () -> dot(c, Embedding.forward(Matrix.of(e, v, d), Matrix.of(p, 4, d), tok, pos));
        float[] de = new float[e.length];
        float[] dp = new float[p.length];
        Embedding.backward(c, d, tok, pos, de, dp);
        check("embedding dE", e, de, f);
        check("embedding dP", p, dp, f);
    }

    @Test
    void logitGradientsBelowTheNormalRangeAreZeroAndTheRestExact() {
        // one row, hidden 1, head weights spread so some tokens get probabilities ~ e^-100
        int v = 6;
        float[] h = {1f};
        float[] w = {0f, -80f, -95f, -2f, -120f, 1f};
        float[] dh = new float[1];
        float[] dw = new float[v];
        TokenLogProbs.forwardBackward(k, pool, h, 1, Matrix.of(w, v, 1), new int[] {0}, new float[] {1}, 1, dh, dw);
        double z = 0;
        for (float x : w) {
            z += Math.exp(x);
        }
        for (int j = 0; j < v; j++) {
            double g = (j == 0 ? 1 : 0) - Math.exp(w[j]) / z;   // dL/dlogit_j, and dW_j = that * h
            double expect = Math.abs((float) g) < Float.MIN_NORMAL ? 0 : g;
            assertEquals(expect, dw[j], 1e-6 * Math.abs(expect) + 1e-12, "token " + j);
            assertTrue(dw[j] == 0f || Math.abs(dw[j]) >= Float.MIN_NORMAL, "subnormal gradient at " + j);
        }
        assertTrue(dw[1] < 0f);                // p = e^-80 / z ~ 5e-36: tiny but a normal float, kept
        assertEquals(0f, dw[2]);               // p ~ 1e-42: subnormal, flushed
        assertEquals(0f, dw[4]);               // p ~ 2e-53: below float altogether
        assertEquals(0f, TokenLogProbs.normal(1e-39f));
        assertEquals(0f, TokenLogProbs.normal(-1e-40f));
        assertEquals(Float.MIN_NORMAL, TokenLogProbs.normal(Float.MIN_NORMAL));
        assertEquals(-3.5e-7f, TokenLogProbs.normal(-3.5e-7f));
    }

    @Test
    void tokenLogProbsChunkedEqualsUnchunked() {
        SplittableRandom r = new SplittableRandom(8);
        int rows = 7;
        int d = 5;
        int v = 11;
        float[] h = rand(r, rows * d, 1);
        float[] w = rand(r, v * d, 1);
        int[] y = {0, 3, 10, 3, 7, 1, 9};
        float[] wt = rand(r, rows, 1);
        Supplier<Double> f = () -> {
            float[] lp = TokenLogProbs.forwardBackward(k, pool, h, rows, Matrix.of(w, v, d), y, wt, 3, null, null);
            double s = 0;
            for (int i = 0; i < rows; i++) {
                s += (double) wt[i] * lp[i];
            }
            return s;
        };
        float[] dh = new float[h.length];
        float[] dw = new float[w.length];
        float[] lp = TokenLogProbs.forwardBackward(k, pool, h, rows, Matrix.of(w, v, d), y, wt, 3, dh, dw);
        check("logprob dh", h, dh, f);
        check("logprob dW", w, dw, f);
        float[] dh1 = new float[h.length];
        float[] lp1 = TokenLogProbs.forwardBackward(k, pool, h, rows, Matrix.of(w, v, d), y, wt, 100, dh1, null);
        for (int i = 0; i < rows; i++) {
            assertTrue(Math.abs(lp[i] - lp1[i]) < 1e-6, "chunking changed log-prob " + i);
        }
        for (int i = 0; i < dh.length; i++) {
            assertTrue(Math.abs(dh[i] - dh1[i]) < 1e-6, "chunking changed dh " + i);
        }
        // log-probs are true log-probabilities: exp sums to 1 over the vocabulary for row 0
        double total = 0;
        for (int tok = 0; tok < v; tok++) {
            float[] one = TokenLogProbs.forwardBackward(k, pool, h, 1, Matrix.of(w, v, d), new int[] {tok}, new float[] {1}, 4, null, null);
            total += Math.exp(one[0]);
        }
        assertTrue(Math.abs(total - 1) < 1e-5, "softmax sums to " + total);
    }

    @Test
    void tokenLogProbsUnderATemperedNucleusPolicy() {
        SplittableRandom r = new SplittableRandom(9);
        int rows = 4;
        int d = 6;
        int v = 12;
        float[] h = rand(r, rows * d, 1);
        float[] w = rand(r, v * d, 1);
        Policy policy = new Policy(0.7, 0, 0.8);
        // targets: the most likely token of each row (always kept)
        float[] logits = new float[rows * v];
        k.matmul(pool, h, 0, rows, Matrix.of(w, v, d), logits, 0);
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = dev.ipg.core.generate.Sampler.argmax(logits, i * v, v);
        }
        float[] wt = {1f, 0.5f, -1f, 2f};
        Supplier<Double> f = () -> {
            float[] lp = TokenLogProbs.forwardBackward(k, pool, h, rows, Matrix.of(w, v, d), y, wt, 2, null, null, policy);
            double s = 0;
            for (int i = 0; i < rows; i++) {
                s += (double) wt[i] * lp[i];
            }
            return s;
        };
        float[] dh = new float[h.length];
        TokenLogProbs.forwardBackward(k, pool, h, rows, Matrix.of(w, v, d), y, wt, 2, dh, null, policy);
        check("policy logprob dh", h, dh, f);
        // the kept tokens' probabilities sum to one and each equals exp(logp)
        float[] scratch = new float[v];
        int[] ids = new int[v];
        float[] probs = new float[v];
        int n = policy.distribution(logits, 0, v, scratch, ids, probs);
        double total = 0;
        for (int j = 0; j < n; j++) {
            float[] one = TokenLogProbs.forwardBackward(k, pool, h, 1, Matrix.of(w, v, d), new int[] {ids[j]}, new float[] {1}, 1,
                    null, null, policy);
            assertTrue(Math.abs(Math.exp(one[0]) - probs[j]) < 1e-5, "token " + ids[j]);
            total += Math.exp(one[0]);
        }
        assertTrue(n < v, "the nucleus should drop some of 12 tokens");
        assertTrue(Math.abs(total - 1) < 1e-5, "kept probabilities sum to " + total);
    }
}
