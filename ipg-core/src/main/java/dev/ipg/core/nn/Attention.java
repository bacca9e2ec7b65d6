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
        pool.forRange(rows * heads, 1, (from, to) -> {
            float[] p = new float[maxLen];
            for (int i = from; i < to; i++) {
                int r = i / heads;
                int h = i % heads;
                float[] kk = keys.apply(seq[r]);
                float[] vv = values.apply(seq[r]);
                int start = sh.start(pos[r]);
                int n = pos[r] + 1 - start;
                int kvOff = (h / sh.group()) * hd;
                int qOff = r * qw + h * hd;
                for (int t = 0; t < n; t++) {
                    p[t] = k.dot(q, qOff, kk, (start + t) * kvw + kvOff, hd) * scale;
                }
                k.softmax(p, 0, n);
                for (int t = 0; t < n; t++) {
                    k.axpy(p[t], vv, (start + t) * kvw + kvOff, z, qOff, hd);
                }
            }
        });
        return z;
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
        int heads = sh.heads();
        int hd = sh.hd();
        int qw = sh.qWidth();
        int kvw = sh.kvWidth();
        int group = sh.group();
        float scale = (float) (1.0 / Math.sqrt(hd));
        Map<Integer, List<Integer>> rowsOf = new LinkedHashMap<>();
        for (int r = 0; r < seq.length; r++) {
            rowsOf.computeIfAbsent(seq[r], s -> new ArrayList<>()).add(r);
        }
        List<int[]> tasks = new ArrayList<>();   // (sequence, kv head)
        for (int s : rowsOf.keySet()) {
            for (int g = 0; g < sh.kvHeads(); g++) {
                tasks.add(new int[] {s, g});
            }
        }
        int maxLen = maxPos(pos) + 1;
        pool.forRange(tasks.size(), 1, (from, to) -> {
            float[] p = new float[maxLen];
            float[] dp = new float[maxLen];
            for (int ti = from; ti < to; ti++) {
                int s = tasks.get(ti)[0];
                int g = tasks.get(ti)[1];
                float[] kk = keys.apply(s);
                float[] vv = values.apply(s);
                float[] dk = dKeys.apply(s);
                float[] dv = dValues.apply(s);
                int kvOff = g * hd;
                for (int r : rowsOf.get(s)) {
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
        });
    }

    private static int maxPos(int[] pos) {
        int m = 0;
        for (int p : pos) {
            m = Math.max(m, p);
        }
        return m;
    }
}
