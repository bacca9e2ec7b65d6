package dev.ipg.core.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses a token from one row of logits under {@link SamplingParams}. Pure function of the
 * logits, the parameters and the random stream, so the same seed gives the same tokens whatever
 * the thread count.
 */
public final class Sampler {

    private final SamplingParams params;
    private float[] probs = new float[0];
    private int[] cand = new int[0];

    public Sampler(SamplingParams params) {
        this.params = params;
    }

    /** Samples from {@code logits[off .. off + vocab)}. */
    public int sample(float[] logits, int off, int vocab, SplittableRandom rng) {
        if (params.isGreedy()) {
            return argmax(logits, off, vocab);
        }
        if (probs.length < vocab) {
            probs = new float[vocab];
            cand = new int[vocab];
        }
        // p_i proportional to exp((l_i - max) / T)
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double invT = 1.0 / params.temperature();
        double total = 0;
        for (int i = 0; i < vocab; i++) {
            float p = (float) Math.exp((logits[off + i] - max) * invT);
            probs[i] = p;
            total += p;
        }
        int n;
        if (params.topK() > 0 && params.topK() < vocab) {
            n = topK(vocab, params.topK());
            total = 0;
            for (int i = 0; i < n; i++) {
                total += probs[cand[i]];
            }
        } else if (params.topP() < 1) {
            n = nucleusCandidates(vocab, total);
        } else {
            return walk(rng.nextDouble() * total, vocab);
        }
        sortCandidates(n);
        if (params.topP() < 1) {
            // keep the shortest prefix whose mass reaches topP of the total (at least one token)
            double target = params.topP() * total;
            double cum = 0;
            int kept = 0;
            while (kept < n && cum < target) {
                cum += probs[cand[kept++]];
            }
            n = Math.max(1, kept);
        }
        double mass = 0;
        for (int i = 0; i < n; i++) {
            mass += probs[cand[i]];
        }
        double u = rng.nextDouble() * mass;
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[cand[i]];
            if (u < cum) {
                return cand[i];
            }
        }
        return cand[n - 1];
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

    private int walk(double u, int vocab) {
        double cum = 0;
        int last = 0;
        for (int i = 0; i < vocab; i++) {
            if (probs[i] > 0) {
                cum += probs[i];
                last = i;
                if (u < cum) {
                    return i;
                }
            }
        }
        return last;
    }

    /** The k most probable ids into cand[0..k) (unordered). */
    private int topK(int vocab, int k) {
        // threshold = k-th largest probability, found on a copy
        float[] copy = Arrays.copyOf(probs, vocab);
        Arrays.sort(copy);
        float kth = copy[vocab - k];
        int n = 0;
        for (int i = 0; i < vocab && n < k; i++) {
            if (probs[i] > kth) {
                cand[n++] = i;
            }
        }
        for (int i = 0; i < vocab && n < k; i++) {
            if (probs[i] == kth) {
                cand[n++] = i;
            }
        }
        return n;
    }

    /**
     * A superset of the nucleus without sorting the whole vocabulary: all ids with probability
     * at least t, for the largest t in a decreasing ladder whose set already holds topP of the
     * mass (every id outside is less probable than every id inside, so the nucleus is a prefix).
     */
    private int nucleusCandidates(int vocab, double total) {
        float max = 0;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, probs[i]);
        }
        double target = params.topP() * total;
        for (double t = max * 1e-2; t > max * 1e-12; t *= 1e-2) {
            int n = 0;
            double mass = 0;
            for (int i = 0; i < vocab; i++) {
                if (probs[i] >= t) {
                    cand[n++] = i;
                    mass += probs[i];
                }
            }
            if (mass >= target) {
                return n;
            }
        }
        for (int i = 0; i < vocab; i++) {
            cand[i] = i;
        }
        return vocab;
    }

    /** Sorts cand[0..n) by probability, descending, ties by id ascending. */
    private void sortCandidates(int n) {
        Integer[] boxed = new Integer[n];
        for (int i = 0; i < n; i++) {
            boxed[i] = cand[i];
        }
        Arrays.sort(boxed, (a, b) -> {
            int c = Float.compare(probs[b], probs[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        for (int i = 0; i < n; i++) {
            cand[i] = boxed[i];
        }
    }
}
