package dev.ipg.core.nn;

import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;

/**
 * The LM head and log-softmax of scored rows, forward and backward in one pass, chunked over
 * rows so that at most {@code chunk x V} logits exist at once (never T x V):
 *
 * <pre>
 *   l = h Wᵀ                     // (c, V) for a chunk of c rows
 *   logp_r = l[r, y_r] - logsumexp(l[r])
 *   L = sum_r w_r logp_r
 *   dl[r] = w_r (onehot(y_r) - softmax(l[r]))
 *   dh += dl W ;  dW += dlᵀ h
 * </pre>
 */
public final class TokenLogProbs {

    private TokenLogProbs() {
    }

    /** Rows per chunk so that one chunk of logits takes about {@code bytes}. */
    public static int chunkRows(int vocab, long bytes) {
        return (int) Math.max(1, Math.min(512, bytes / (4L * vocab)));
    }

    /**
     * h is (R, d), the final-normed hidden states of the scored rows; targets and weights are (R).
     * Returns logp (R). Accumulates dh (R, d) when non-null and dW (V, d) when non-null.
     */
    public static float[] forwardBackward(Kernels k, Parallel pool, float[] h, int rows, Matrix head, int[] targets,
                                          float[] weights, int chunk, float[] dh, float[] dW) {
        int d = head.cols();
        int v = head.rows();
        float[] logp = new float[rows];
        float[] hc = new float[Math.min(chunk, Math.max(rows, 1)) * d];
        float[] l = new float[Math.min(chunk, Math.max(rows, 1)) * v];
        for (int r0 = 0; r0 < rows; r0 += chunk) {
            int c = Math.min(chunk, rows - r0);
            System.arraycopy(h, r0 * d, hc, 0, c * d);
            k.matmul(pool, hc, 0, c, head, l, 0);
            for (int i = 0; i < c; i++) {
                int o = i * v;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < v; j++) {
                    max = Math.max(max, l[o + j]);
                }
                double sum = 0;
                for (int j = 0; j < v; j++) {
                    sum += Math.exp(l[o + j] - max);
                }
                double lse = max + Math.log(sum);
                int y = targets[r0 + i];
                logp[r0 + i] = (float) (l[o + y] - lse);
                if (dh != null || dW != null) {
                    float w = weights[r0 + i];
                    for (int j = 0; j < v; j++) {
                        l[o + j] = (float) (-w * Math.exp(l[o + j] - lse));
                    }
                    l[o + y] += w;
                }
            }
            if (dh != null) {
                k.matmulInputGrad(pool, l, 0, c, head, dh, r0 * d);
            }
            if (dW != null) {
                k.matmulWeightGrad(pool, l, c, v, hc, d, dW);
            }
        }
        return logp;
    }
}
