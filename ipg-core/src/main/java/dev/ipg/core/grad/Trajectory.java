package dev.ipg.core.grad;

import dev.ipg.core.IpgException;

/**
 * A token sequence and which of its tokens are scored: the objective is
 * {@code L = sum_{t=from}^{T-1} w_t log p(x_t | x_<t)}, tokens before {@code from} (the prompt)
 * being conditioning only.
 *
 * @param tokens  x_0 .. x_{T-1}
 * @param from    K, the first scored position (1 &lt;= K &lt;= T)
 * @param weights w_t for t = K .. T-1 (length T - K), or null for all ones
 */
public record Trajectory(int[] tokens, int from, float[] weights) {

    public Trajectory {
        if (tokens.length < 1) {
            throw new IpgException("a trajectory needs at least one token");
        }
        if (from < 1 || from > tokens.length) {
            throw new IpgException("first scored position " + from + " must be in 1.." + tokens.length
                    + " (position 0 has no prefix to condition on)");
        }
        if (weights != null && weights.length != tokens.length - from) {
            throw new IpgException("weights has " + weights.length + " entries for " + (tokens.length - from) + " scored tokens");
        }
    }

    /** Unit weights. */
    public Trajectory(int[] tokens, int from) {
        this(tokens, from, null);
    }

    /** Number of scored tokens. */
    public int scored() {
        return tokens.length - from;
    }

    float weight(int t) {
        return weights == null ? 1f : weights[t - from];
    }
}
