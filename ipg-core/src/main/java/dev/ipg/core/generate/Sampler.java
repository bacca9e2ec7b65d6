package dev.ipg.core.generate;

import dev.ipg.core.nn.Policy;
import java.util.SplittableRandom;

/**
 * Chooses a token from one row of logits under {@link SamplingParams}: greedy, or a draw from
 * the {@link Policy} distribution (temperature, top-k, top-p). Pure function of the logits, the
 * parameters and the random stream, so the same seed gives the same tokens whatever the thread
 * count.
 */
public final class Sampler {

    private final SamplingParams params;
    private final Policy policy;
    private float[] scratch = new float[0];
    private float[] probs = new float[0];
    private int[] ids = new int[0];

    public Sampler(SamplingParams params) {
        this.params = params;
        this.policy = params.isGreedy() ? null : params.policy();
    }

    /** Samples from {@code logits[off .. off + vocab)}. */
    public int sample(float[] logits, int off, int vocab, SplittableRandom rng) {
        if (policy == null) {
            return argmax(logits, off, vocab);
        }
        if (scratch.length < vocab) {
            scratch = new float[vocab];
            probs = new float[vocab];
            ids = new int[vocab];
        }
        int n = policy.distribution(logits, off, vocab, scratch, ids, probs);
        double u = rng.nextDouble();
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (u < cum) {
                return ids[i];
            }
        }
        return ids[n - 1];
    }

    /** Argmax, lowest index on ties. */
    public static int argmax(float[] logits, int off, int vocab) {
        int best = 0;
        float bv = logits[off];
        for (int i = 1; i < vocab; i++) {
            if (logits[off + i] > bv) {
                bv = logits[off + i];
                best = i;
            }
        }
        return best;
    }
}
