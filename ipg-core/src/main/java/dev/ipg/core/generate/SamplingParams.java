package dev.ipg.core.generate;

import dev.ipg.core.IpgException;
import dev.ipg.core.nn.Policy;

/**
 * How the next token is chosen. Temperature 0 means greedy (argmax, lowest id on ties). Otherwise
 * logits are divided by the temperature, restricted to the top-k (k = 0: off), then to the
 * nucleus of mass top-p (1: off), renormalized and sampled, in that order (as Hugging Face's
 * warpers do). The parameters are validated here, once: the {@link Policy} drawn from is made
 * by {@link #policy()} and does not check them again.
 */
public record SamplingParams(double temperature, int topK, double topP, long seed) implements java.io.Serializable {

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IpgException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IpgException("top-k must be >= 0 (0 turns it off), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IpgException("top-p must be in (0, 1], got " + topP);
        }
    }

    /** Greedy decoding. */
    public static SamplingParams greedy() {
        return new SamplingParams(0, 0, 1, 0);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    /** The distribution a draw is taken from (temperature, top-k, top-p); greedy decoding has none. */
    public Policy policy() {
        if (isGreedy()) {
            throw new IpgException("temperature 0 is greedy decoding: there is no distribution to sample from");
        }
        return new Policy(temperature, topK, topP);
    }
}
