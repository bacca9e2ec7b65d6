package dev.ipg.core.nn;

import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Parallel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Causal multi-head attention with grouped key/value heads over per-sequence key and value
 * stores. Row r (of sequence seq[r], at position pos[r]) attends to positions
 * [max(0, pos - window + 1), pos] of its sequence (window 0: no limit). Keys and values of
 * sequence s are (len, kvHeads * hd), keys already rotated.
 *
 * <pre>
 *   s_t = q · k_t / sqrt(hd),  P = softmax(s),  z = sum_t P_t v_t
 * </pre>
 */
public final class Attention {

    /** Shape of the attention. */
    public record Shape(int heads, int kvHeads, int hd, int window) {
        int group() {
            return heads / kvHeads;
        }

        int qWidth() {
            return heads * hd;
        }

        int kvWidth() {
            return kvHeads * hd;
        }

        int start(int pos) {
            return window > 0 ? Math.max(0, pos - window + 1) : 0;
        }
    }

    private Attention() {
    }

    /**
     * Rows of one sequence at consecutive positions are processed in blocks of up to this many
     * queries as small matrix products (scores {@code Q Kᵀ}, then {@code P V}); shorter runs (decode
     * steps) row by row with dot products.
     */
    static final int BLOCK = 32;
    /** Runs shorter than this are processed row by row. */
    static final int MIN_BLOCK = 4;

    /** q is (R, heads * hd); returns z (R, heads * hd). */
    public static float[] forward(Kernels k, Parallel pool, Shape sh, float[] q, int[] seq, int[] pos,
                                  IntFunction<float[]> keys, IntFunction<float[]> values) {
        int rows = seq.length;
        int heads = sh.heads();
        int hd = sh.hd();
        int qw = sh.qWidth();
        int kvw = sh.kvWidth();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] z = new float[rows * qw];
        int maxLen = maxPos(pos) + 1;
        List<int[]> blocks = blocks(seq, pos);
        // transposed keys (hd, len) per (sequence, kv head) of every sequence with a blocked run
        Map<Integer, Integer> lenOf = new LinkedHashMap<>();
        for (int[] b : blocks) {
            if (b[1] >= MIN_BLOCK) {
                lenOf.merge(seq[b[0]], pos[b[0] + b[1] - 1] + 1, Math::max);
            }
        }
        List<Integer> tSeqs = new ArrayList<>(lenOf.keySet());
        Map<Integer, float[][]> kt = new LinkedHashMap<>();
        for (int s : tSeqs) {
            kt.put(s, new float[sh.kvHeads()][]);
        }
        pool.forRange(tSeqs.size() * sh.kvHeads(), 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                int s = tSeqs.get(i / sh.kvHeads());
                int g = i % sh.kvHeads();
                kt.get(s)[g] = transpose(keys.apply(s), lenOf.get(s), kvw, g * hd, hd);
            }
        });
        int pRows = lenOf.isEmpty() ? 1 : BLOCK;   // decode steps need one row of probabilities
        pool.forRange(blocks.size() * heads, 1, (from, to) -> {
            float[] p = new float[pRows * maxLen];
            for (int i = from; i < to; i++) {
                int[] b = blocks.get(i / heads);
                int h = i % heads;
                int r0 = b[0];
                int cnt = b[1];
                int kvOff = (h / sh.group()) * hd;
                float[] kk = keys.apply(seq[r0]);
                float[] vv = values.apply(seq[r0]);
                if (cnt < MIN_BLOCK) {
                    for (int r = r0; r < r0 + cnt; r++) {
                        int start = sh.start(pos[r]);
                        int n = pos[r] + 1 - start;
                        int qOff = r * qw + h * hd;
                        for (int t = 0; t < n; t++) {
                            p[t] = k.dot(q, qOff, kk, (start + t) * kvw + kvOff, hd) * scale;
                        }
                        k.softmax(p, 0, n);
                        for (int t = 0; t < n; t++) {
                            k.axpy(p[t], vv, (start + t) * kvw + kvOff, z, qOff, hd);
                        }
                    }
                } else {
                    float[] ktg = kt.get(seq[r0])[h / sh.group()];
                    int ldk = lenOf.get(seq[r0]);
                    int kStart = sh.start(pos[r0]);
                    int nk = pos[r0 + cnt - 1] + 1 - kStart;
                    int qOff = r0 * qw + h * hd;
                    probabilities(k, sh, q, qOff, qw, ktg, ldk, pos, r0, cnt, kStart, nk, scale, p);
                    // z (cnt, hd) = P (cnt, nk) · V (nk, hd)
                    k.gemm(cnt, hd, nk, p, 0, nk, 1, vv, kStart * kvw + kvOff, kvw, z, qOff, qw);
                }
            }
        });
        return z;
    }

    /**
     * The attention probabilities of every row, as the forward pass computes them: (R, heads, W)
     * with W = max(pos) + 1; row r's head h holds {@code P_t} at key t for t in its causal (and
     * window) range and 0 elsewhere. Recomputed from q and the keys (for reading only).
     */
    public static float[] pattern(Kernels k, Shape sh, float[] q, int[] seq, int[] pos, IntFunction<float[]> keys) {
        int rows = seq.length;
        int heads = sh.heads();
        int hd = sh.hd();
        int qw = sh.qWidth();
        int kvw = sh.kvWidth();
        int w = maxPos(pos) + 1;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] out = new float[rows * heads * w];
        for (int r = 0; r < rows; r++) {
            float[] kk = keys.apply(seq[r]);
            int start = sh.start(pos[r]);
            int n = pos[r] + 1 - start;
            for (int h = 0; h < heads; h++) {
                int o = (r * heads + h) * w + start;
                int qOff = r * qw + h * hd;
                int kvOff = (h / sh.group()) * hd;
                for (int t = 0; t < n; t++) {
                    out[o + t] = k.dot(q, qOff, kk, (start + t) * kvw + kvOff, hd) * scale;
                }
                k.softmax(out, o, n);
            }
        }
        return out;
    }

    /**
     * The attention probabilities of rows r0 .. r0 + cnt - 1 (consecutive positions of one
     * sequence) over keys kStart .. kStart + nk - 1 into p (cnt, nk): scores {@code Q Kᵀ} by one
     * product against the transposed keys kt (hd, ldk), scaled, softmax over each row's own causal
     * (and window) range, zero outside it.
     */
    private static void probabilities(Kernels k, Shape sh, float[] q, int qOff, int qw, float[] kt, int ldk, int[] pos,
                                      int r0, int cnt, int kStart, int nk, float scale, float[] p) {
        java.util.Arrays.fill(p, 0, cnt * nk, 0f);
        k.gemm(cnt, nk, sh.hd(), q, qOff, qw, 1, kt, kStart, ldk, p, 0, nk);
        for (int i = 0; i < cnt; i++) {
            int lo = sh.start(pos[r0 + i]) - kStart;
            int hi = pos[r0 + i] + 1 - kStart;
            int row = i * nk;
            java.util.Arrays.fill(p, row, row + lo, 0f);
            java.util.Arrays.fill(p, row + hi, row + nk, 0f);
            k.scale(p, row + lo, hi - lo, scale);
            k.softmax(p, row + lo, hi - lo);
        }
    }

    /**
     * dz is (R, heads * hd). Accumulates dq (R, heads * hd) and, per sequence, dKeys and
     * dValues (len, kvHeads * hd). The attention probabilities are recomputed, not stored.
     * Work is split over (sequence, key/value head) pairs, each owning its slice of dKeys and
     * dValues, so the result is deterministic.
     */
    public static void backward(Kernels k, Parallel pool, Shape sh, float[] dz, float[] q, int[] seq, int[] pos,
                                IntFunction<float[]> keys, IntFunction<float[]> values, float[] dq,
                                IntFunction<float[]> dKeys, IntFunction<float[]> dValues) {
        int hd = sh.hd();
        int qw = sh.qWidth();
        int kvw = sh.kvWidth();
        int group = sh.group();
        float scale = (float) (1.0 / Math.sqrt(hd));
        Map<Integer, List<int[]>> blocksOf = new LinkedHashMap<>();
        for (int[] b : blocks(seq, pos)) {
            blocksOf.computeIfAbsent(seq[b[0]], s -> new ArrayList<>()).add(b);
        }
        List<int[]> tasks = new ArrayList<>();   // (sequence, kv head)
        for (int s : blocksOf.keySet()) {
            for (int g = 0; g < sh.kvHeads(); g++) {
                tasks.add(new int[] {s, g});
            }
        }
        int maxLen = maxPos(pos) + 1;
        boolean anyBlocked = blocksOf.values().stream().flatMap(List::stream).anyMatch(b -> b[1] >= MIN_BLOCK);
        int pRows = anyBlocked ? BLOCK : 1;
        pool.forRange(tasks.size(), 1, (from, to) -> {
            float[] p = new float[pRows * maxLen];
            float[] dp = new float[pRows * maxLen];
            for (int ti = from; ti < to; ti++) {
                int s = tasks.get(ti)[0];
                int g = tasks.get(ti)[1];
                float[] kk = keys.apply(s);
                float[] vv = values.apply(s);
                float[] dk = dKeys.apply(s);
                float[] dv = dValues.apply(s);
                int kvOff = g * hd;
                float[] kt = null;
                float[] vt = null;
                int ldk = 0;
                for (int[] b : blocksOf.get(s)) {
                    if (b[1] >= MIN_BLOCK) {
                        ldk = Math.max(ldk, pos[b[0] + b[1] - 1] + 1);
                    }
                }
                if (ldk > 0) {
                    kt = transpose(kk, ldk, kvw, kvOff, hd);
                    vt = transpose(vv, ldk, kvw, kvOff, hd);
                }
                for (int[] b : blocksOf.get(s)) {
                    int r0 = b[0];
                    int cnt = b[1];
                    if (cnt >= MIN_BLOCK) {
                        int kStart = sh.start(pos[r0]);
                        int nk = pos[r0 + cnt - 1] + 1 - kStart;
                        int kvo = kStart * kvw + kvOff;
                        for (int h = g * group; h < (g + 1) * group; h++) {
                            int qOff = r0 * qw + h * hd;
                            probabilities(k, sh, q, qOff, qw, kt, ldk, pos, r0, cnt, kStart, nk, scale, p);
                            // dP (cnt, nk) = dZ · Vᵀ
                            java.util.Arrays.fill(dp, 0, cnt * nk, 0f);
                            k.gemm(cnt, nk, hd, dz, qOff, qw, 1, vt, kStart, ldk, dp, 0, nk);
                            // dS = P (dP - D) scale, D = sum_t P_t dP_t; zero outside each row's range
                            for (int i = 0; i < cnt; i++) {
                                int row = i * nk;
                                int lo = sh.start(pos[r0 + i]) - kStart;
                                int hi = pos[r0 + i] + 1 - kStart;
                                double d = 0;
                                for (int t = lo; t < hi; t++) {
                                    d += (double) p[row + t] * dp[row + t];
                                }
                                float df = (float) d;
                                java.util.Arrays.fill(dp, row, row + lo, 0f);
                                java.util.Arrays.fill(dp, row + hi, row + nk, 0f);
                                for (int t = lo; t < hi; t++) {
                                    dp[row + t] = p[row + t] * (dp[row + t] - df) * scale;
                                }
                            }
                            // dV += Pᵀ dZ ; dQ += dS K ; dK += dSᵀ Q
                            k.gemm(nk, hd, cnt, p, 0, 1, nk, dz, qOff, qw, dv, kvo, kvw);
                            k.gemm(cnt, hd, nk, dp, 0, nk, 1, kk, kvo, kvw, dq, qOff, qw);
                            k.gemm(nk, hd, cnt, dp, 0, 1, nk, q, qOff, qw, dk, kvo, kvw);
                        }
                        continue;
                    }
                    for (int r = r0; r < r0 + cnt; r++) {
                        int start = sh.start(pos[r]);
                        int n = pos[r] + 1 - start;
                        for (int h = g * group; h < (g + 1) * group; h++) {
                            int qOff = r * qw + h * hd;
                            for (int t = 0; t < n; t++) {
                                p[t] = k.dot(q, qOff, kk, (start + t) * kvw + kvOff, hd) * scale;
                            }
                            k.softmax(p, 0, n);
                            // dP_t = dz · v_t ; dV_t += P_t dz ; D = sum_t P_t dP_t
                            double d = 0;
                            for (int t = 0; t < n; t++) {
                                int vo = (start + t) * kvw + kvOff;
                                dp[t] = k.dot(dz, qOff, vv, vo, hd);
                                k.axpy(p[t], dz, qOff, dv, vo, hd);
                                d += (double) p[t] * dp[t];
                            }
                            // dS_t = P_t (dP_t - D) ; dq += scale dS_t k_t ; dK_t += scale dS_t q
                            for (int t = 0; t < n; t++) {
                                float ds = p[t] * (dp[t] - (float) d) * scale;
                                int ko = (start + t) * kvw + kvOff;
                                k.axpy(ds, kk, ko, dq, qOff, hd);
                                k.axpy(ds, q, qOff, dk, ko, hd);
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * Runs of rows of one sequence at consecutive positions, cut into blocks of at most
     * {@link #BLOCK}: each {@code [first row, count]}.
     */
    static List<int[]> blocks(int[] seq, int[] pos) {
        List<int[]> out = new ArrayList<>();
        int r = 0;
        while (r < seq.length) {
            int e = r + 1;
            while (e < seq.length && e - r < BLOCK && seq[e] == seq[r] && pos[e] == pos[e - 1] + 1) {
                e++;
            }
            out.add(new int[] {r, e - r});
            r = e;
        }
        return out;
    }

    /** Columns off .. off + width of rows 0 .. len - 1 of x (row stride ld), transposed: (width, len). */
    private static float[] transpose(float[] x, int len, int ld, int off, int width) {
        float[] t = new float[width * len];
        for (int r = 0; r < len; r++) {
            int xo = r * ld + off;
            for (int c = 0; c < width; c++) {
                t[c * len + r] = x[xo + c];
            }
        }
        return t;
    }

    private static int maxPos(int[] pos) {
        int m = 0;
        for (int p : pos) {
            m = Math.max(m, p);
        }
        return m;
    }
}
