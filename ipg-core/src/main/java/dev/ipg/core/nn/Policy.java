package dev.ipg.core.nn;

import java.util.Arrays;

/**
 * The distribution a sampler draws the next token from, as a function of the logits: divide by
 * the temperature, keep the top-k (k = 0: all), then the smallest prefix of the sorted
 * distribution whose mass reaches top-p (1: all), renormalize. The sampler draws from it; a
 * policy gradient differentiates either it (its kept set held fixed) or its untruncated
 * {@link #tempered()} counterpart, {@code softmax(logits / T)} (ipg-method.md §3: the truncated
 * log-probability is exactly 0 wherever the kept set holds one token, and so is its gradient).
 *
 * <p>A policy is made from sampling parameters that were validated once, where they are built
 * ({@code generate.SamplingParams}, whose {@code policy()} makes this record): temperature finite
 * and {@code > 0} here (greedy decoding has no policy), top-k {@code >= 0}, top-p in {@code (0, 1]}.
 * It does not check them again.
 */
public record Policy(double temperature, int topK, double topP) {

    /** The plain softmax policy (temperature 1, nothing truncated). */
    public static Policy softmax() {
        return new Policy(1, 0, 1);
    }

    /** The same temperature with nothing truncated: {@code softmax(logits / T)} over every token. */
    public Policy tempered() {
        return untruncated() ? this : new Policy(temperature, 0, 1);
    }

    /** Whether every token stays in the support. */
    public boolean untruncated() {
        return (topK == 0) && topP >= 1;
    }

    /**
     * The kept tokens and their renormalized probabilities for one row of logits. Tokens in
     * {@code ids[0..n)}, probabilities in {@code probs[0..n)} (same order: descending
     * probability, ties by id), n returned. {@code scratch} must have room for vocab floats and
     * {@code ids} for vocab ints.
     */
    public int distribution(float[] logits, int off, int vocab, float[] scratch, int[] ids, float[] probs) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double invT = 1.0 / temperature;
        double total = 0;
        for (int i = 0; i < vocab; i++) {
            float p = (float) Math.exp((logits[off + i] - max) * invT);
            scratch[i] = p;
            total += p;
        }
        int n;
        if (untruncated()) {
            for (int i = 0; i < vocab; i++) {
                ids[i] = i;
                probs[i] = (float) (scratch[i] / total);
            }
            return vocab;
        }
        if (topK > 0 && topK < vocab) {
            n = topKIds(scratch, vocab, topK, ids);
            total = 0;
            for (int i = 0; i < n; i++) {
                total += scratch[ids[i]];
            }
        } else {
            n = nucleusSuperset(scratch, vocab, total, ids);
        }
        sortByProbability(scratch, ids, n);
        if (topP < 1) {
            double target = topP * total;
            double cum = 0;
            int kept = 0;
            while (kept < n && cum < target) {
                cum += scratch[ids[kept++]];
            }
            n = Math.max(1, kept);
        }
        double mass = 0;
        for (int i = 0; i < n; i++) {
            mass += scratch[ids[i]];
        }
        for (int i = 0; i < n; i++) {
            probs[i] = (float) (scratch[ids[i]] / mass);
        }
        return n;
    }

    /**
     * {@code log pi(target)} for one row of logits as a sampling distribution: the log of the
     * target's renormalized probability when it is kept, {@code -infinity} when top-k or top-p
     * drop it (it cannot be drawn). Buffers as in {@link #distribution}.
     */
    public double logProbability(float[] logits, int off, int vocab, int target, float[] scratch, int[] ids, float[] probs) {
        if (untruncated()) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) {
                max = Math.max(max, logits[off + i]);
            }
            double sum = 0;
            for (int i = 0; i < vocab; i++) {
                sum += Math.exp((logits[off + i] - max) / temperature);
            }
            return (logits[off + target] - max) / temperature - Math.log(sum);
        }
        int n = distribution(logits, off, vocab, scratch, ids, probs);
        for (int j = 0; j < n; j++) {
            if (ids[j] == target) {
                return Math.log(probs[j]);
            }
        }
        return Double.NEGATIVE_INFINITY;
    }

    private static int topKIds(float[] p, int vocab, int k, int[] ids) {
        float[] copy = Arrays.copyOf(p, vocab);
        Arrays.sort(copy);
        float kth = copy[vocab - k];
        int n = 0;
        for (int i = 0; i < vocab && n < k; i++) {
            if (p[i] > kth) {
                ids[n++] = i;
            }
        }
        for (int i = 0; i < vocab && n < k; i++) {
            if (p[i] == kth) {
                ids[n++] = i;
            }
        }
        return n;
    }

    /**
     * All ids with weight at least t, for the largest t in a decreasing ladder whose set already
     * holds topP of the mass (every id outside is lighter than every id inside, so the nucleus is
     * a prefix of this set once sorted).
     */
    private int nucleusSuperset(float[] p, int vocab, double total, int[] ids) {
        float max = 0;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, p[i]);
        }
        double target = topP * total;
        for (double t = max * 1e-2; t > max * 1e-12; t *= 1e-2) {
            int n = 0;
            double mass = 0;
            for (int i = 0; i < vocab; i++) {
                if (p[i] >= t) {
                    ids[n++] = i;
                    mass += p[i];
                }
            }
            if (mass >= target) {
                return n;
            }
        }
        for (int i = 0; i < vocab; i++) {
            ids[i] = i;
        }
        return vocab;
    }

    private static void sortByProbability(float[] p, int[] ids, int n) {
        // p >= 0, so its float bits order like its values: one primitive sort of
        // (inverted bits, id) keys gives descending probability, ties by ascending id
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = ((long) (Integer.MAX_VALUE - Float.floatToRawIntBits(p[ids[i]])) << 32) | ids[i];
        }
        Arrays.sort(keys);
        for (int i = 0; i < n; i++) {
            ids[i] = (int) keys[i];
        }
    }
}
