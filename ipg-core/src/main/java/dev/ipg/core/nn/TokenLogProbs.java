package dev.ipg.core.nn;

import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;

/**
 * The LM head and the log-probability of scored tokens under a {@link Policy}, forward and
 * backward in one pass, chunked over rows so that at most {@code chunk x V} logits exist at once
 * (never T x V). With K the policy's kept set for the row (every token for the plain softmax) and
 * p the renormalized tempered distribution on it:
 *
 * <pre>
 *   l = h Wᵀ                                  // (c, V) for a chunk of c rows
 *   logp_r = l[r, y_r] / T - logsumexp_{j in K}(l[r, j] / T)
 *   L = sum_r w_r logp_r
 *   dl[r, j] = w_r (1[j = y_r] - p_j 1[j in K]) / T
 *   dh += dl W ;  dW += dlᵀ h
 * </pre>
 *
 * A target outside K (possible only when recomputed logits differ from those it was sampled
 * from by rounding) is added to K.
 *
 * <p>The same pass can also return each target's log-probability under a second policy taken as
 * a sampling distribution ({@link Policy#logProbability}: {@code -infinity} outside its kept set),
 * for importance weights between the distributions tokens are drawn from while the gradient is
 * that of another policy.
 */
public final class TokenLogProbs {

    private TokenLogProbs() {
    }

    /** Rows per chunk so that one chunk of logits takes about {@code bytes}. */
    public static int chunkRows(int vocab, long bytes) {
        return (int) Math.max(1, Math.min(512, bytes / (4L * vocab)));
    }

    /** {@link #forwardBackward(Kernels, Parallel, float[], int, Matrix, int[], float[], int, float[], float[], Policy)} under the plain softmax. */
    public static float[] forwardBackward(Kernels k, Parallel pool, float[] h, int rows, Matrix head, int[] targets,
                                          float[] weights, int chunk, float[] dh, float[] dW) {
        return forwardBackward(k, pool, h, rows, head, targets, weights, chunk, dh, dW, Policy.softmax());
    }

    /**
     * h is (R, d), the final-normed hidden states of the scored rows; targets and weights are (R).
     * Returns logp (R). Accumulates dh (R, d) when non-null and dW (V, d) when non-null.
     */
    public static float[] forwardBackward(Kernels k, Parallel pool, float[] h, int rows, Matrix head, int[] targets,
                                          float[] weights, int chunk, float[] dh, float[] dW, Policy policy) {
        return forwardBackward(k, pool, h, rows, head, targets, weights, chunk, dh, dW, policy, null, null);
    }

    /**
     * As above, and when {@code sampling} is non-null also {@code samplingLogp[r] = log pi_sampling(y_r)}
     * (R; {@code -infinity} for a target the sampling policy cannot draw), from the same logits.
     */
    public static float[] forwardBackward(Kernels k, Parallel pool, float[] h, int rows, Matrix head, int[] targets,
                                          float[] weights, int chunk, float[] dh, float[] dW, Policy policy, Policy sampling,
                                          double[] samplingLogp) {
        int d = head.cols();
        int v = head.rows();
        float[] logp = new float[rows];
        int c0 = Math.min(chunk, Math.max(rows, 1));
        float[] hc = new float[c0 * d];
        float[] l = new float[c0 * v];
        boolean grad = dh != null || dW != null;
        float[] scratch = policy.untruncated() ? null : new float[v];
        int[] ids = policy.untruncated() ? null : new int[v + 1];
        float[] probs = policy.untruncated() ? null : new float[v + 1];
        double invT = 1.0 / policy.temperature();
        float[] sScratch = sampling == null ? null : new float[v];
        int[] sIds = sampling == null ? null : new int[v];
        float[] sProbs = sampling == null ? null : new float[v];
        for (int r0 = 0; r0 < rows; r0 += chunk) {
            int c = Math.min(chunk, rows - r0);
            System.arraycopy(h, r0 * d, hc, 0, c * d);
            k.matmul(pool, hc, 0, c, head, l, 0);
            if (policy.untruncated() && sampling == null) {
                // rows are independent: split over the pool, a few rows per task
                int base = r0;
                pool.forRange(c, 4, (i0, i1) -> {
                    for (int i = i0; i < i1; i++) {
                        logp[base + i] = softmaxRow(k, l, i * v, v, targets[base + i], weights[base + i], invT, grad);
                    }
                });
            } else {
                for (int i = 0; i < c; i++) {
                    int o = i * v;
                    int y = targets[r0 + i];
                    float w = weights[r0 + i];
                    if (sampling != null) {
                        samplingLogp[r0 + i] = sampling.logProbability(l, o, v, y, sScratch, sIds, sProbs);
                    }
                    if (policy.untruncated()) {
                        logp[r0 + i] = softmaxRow(k, l, o, v, y, w, invT, grad);
                    } else {
                        int n = policy.distribution(l, o, v, scratch, ids, probs);
                        int at = -1;
                        for (int j = 0; j < n; j++) {
                            if (ids[j] == y) {
                                at = j;
                                break;
                            }
                        }
                        if (at < 0) {
                            // the target sits just outside the recomputed kept set: add it
                            double py = Math.exp((l[o + y] - l[o + ids[0]]) * invT) * probs[0];
                            double z = 1 + py;
                            for (int j = 0; j < n; j++) {
                                probs[j] = (float) (probs[j] / z);
                            }
                            ids[n] = y;
                            probs[n] = (float) (py / z);
                            at = n++;
                        }
                        logp[r0 + i] = (float) Math.log(probs[at]);
                        if (grad) {
                            java.util.Arrays.fill(l, o, o + v, 0f);
                            for (int j = 0; j < n; j++) {
                                l[o + ids[j]] = normal((float) (-w * probs[j] * invT));
                            }
                            l[o + y] += (float) (w * invT);
                        }
                    }
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

    /**
     * One row of the plain tempered softmax at {@code l[o .. o + v)}: returns {@code logp_y}; with
     * {@code grad}, overwrites the row with {@code dl = w (1[j = y] - p_j) / T}.
     */
    private static float softmaxRow(Kernels k, float[] l, int o, int v, int y, float w, double invT, boolean grad) {
        float ly = l[o + y];
        double lse = k.logSoftmaxRow(l, o, v, invT, (float) (-w * invT), grad);
        if (grad) {
            l[o + y] += (float) (w * invT);
        }
        return (float) (ly * invT - lse);
    }

    /**
     * x, or 0 when x is subnormal. The logit gradient of a token with probability below about
     * 1e-38 is far below the rounding of the others, and subnormal operands make the following
     * matrix product an order of magnitude slower on common CPUs.
     */
    static float normal(float x) {
        return Math.abs(x) < Float.MIN_NORMAL ? 0f : x;
    }
}
