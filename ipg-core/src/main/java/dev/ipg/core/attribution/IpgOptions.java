package dev.ipg.core.attribution;

import dev.ipg.core.IpgException;
import dev.ipg.core.nn.Policy;

/**
 * Hyperparameters of Integrated Policy Gradient (defaults: the paper's).
 *
 * @param steps         q, number of path points
 * @param samples       N, trajectories per path point
 * @param temperature   sampling temperature (> 0)
 * @param topP          nucleus mass
 * @param topK          top-k (0: off)
 * @param maxNewTokens  generation budget
 * @param advantage     grpo or rloo
 * @param baseline      zero or mean
 * @param sampling      on-path or reuse-weighted
 * @param positions     all positions or generated ones only
 * @param quadrature    nodes and weights along the path
 * @param seed          master seed
 */
public record IpgOptions(int steps, int samples, double temperature, double topP, int topK, int maxNewTokens,
                         Advantage advantage, BaselineKind baseline, SamplingMode sampling, Positions positions,
                         Quadrature quadrature, long seed) {

    /** The baseline h'. */
    public enum BaselineKind { ZERO, MEAN }

    /** Where the trajectories come from. */
    public enum SamplingMode {
        /** Sample N trajectories from the intervened model at every path point (the default). */
        ON_PATH,
        /** Sample once at alpha = 1 and reweight by pi_alpha / pi_1 (self-normalized) at every point. */
        REUSE_WEIGHTED
    }

    /** Which positions are interpolated (and summed over). */
    public enum Positions { ALL, GENERATED }

    public IpgOptions {
        if (steps < 1) {
            throw new IpgException("--steps must be >= 1, got " + steps);
        }
        if (samples < 2) {
            throw new IpgException("--samples must be >= 2 (advantages compare samples within a group), got " + samples);
        }
        if (!(temperature > 0)) {
            throw new IpgException("--temperature must be > 0 for a policy gradient (greedy decoding has none), got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IpgException("--top-p must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IpgException("--top-k must be >= 0, got " + topK);
        }
        if (maxNewTokens < 1) {
            throw new IpgException("--max-new-tokens must be >= 1, got " + maxNewTokens);
        }
        quadrature.rule(steps);
    }

    /** The paper's defaults. */
    public static IpgOptions paper() {
        return new IpgOptions(10, 5, 0.6, 0.8, 0, 512, Advantage.GRPO, BaselineKind.ZERO, SamplingMode.ON_PATH, Positions.ALL,
                Quadrature.RIEMANN_RIGHT, 0);
    }

    /** The sampling distribution, which is also the policy differentiated. */
    public Policy policy() {
        return new Policy(temperature, topK, topP);
    }
}
