package dev.ipg.core.attribution;

import dev.ipg.core.run.Seeds;

import dev.ipg.core.IpgException;
import dev.ipg.core.generate.SamplingParams;
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
 * @param gradient      which log-probability is differentiated (default: tempered)
 * @param alphaMin      the path runs over alpha in [alphaMin, 1] (default 0: from the baseline)
 * @param candidates    the components that move along the path (default: all; the rest stay at alpha = 1)
 * @param streams       the label the random streams are derived from ({@link Seeds#forPrompt}); "ipg" for IPG
 */
public record IpgOptions(int steps, int samples, double temperature, double topP, int topK, int maxNewTokens,
                         Advantage advantage, BaselineKind baseline, SamplingMode sampling, Positions positions,
                         Quadrature quadrature, long seed, PolicyGradient gradient, double alphaMin, Candidates candidates,
                         String streams) implements java.io.Serializable {

    /**
     * Which log pi(a_t | s_t) the policy gradient differentiates (ipg-method.md §3, "which
     * log-probability is differentiated"). Tokens are always drawn from the truncated policy.
     */
    public enum PolicyGradient {
        /**
         * softmax(logits / T) without top-k / top-p truncation (the default): its gradient does not
         * vanish where the nucleus holds a single token, and with nothing truncated in sampling
         * the estimator is exact in expectation.
         */
        TEMPERED,
        /** The truncated distribution tokens are drawn from (the paper's reading; log pi = 0 on one-token nuclei). */
        TRUNCATED;

        /** The command-line spelling. */
        public String cliName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The options of the paper's estimator plus this project's defaults for the rest (tempered gradient, whole path). */
    public IpgOptions(int steps, int samples, double temperature, double topP, int topK, int maxNewTokens, Advantage advantage,
                      BaselineKind baseline, SamplingMode sampling, Positions positions, Quadrature quadrature, long seed) {
        this(steps, samples, temperature, topP, topK, maxNewTokens, advantage, baseline, sampling, positions, quadrature, seed,
                PolicyGradient.TEMPERED, 0, Candidates.ALL, Seeds.IPG);
    }

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
        if (!(alphaMin >= 0 && alphaMin < 1)) {
            throw new IpgException("--alpha-min must be in [0, 1), got " + alphaMin);
        }
        if (gradient == null || candidates == null || streams == null || streams.isBlank()) {
            throw new IllegalArgumentException("gradient, candidates and streams are required");
        }
        quadrature.rule(steps);
    }

    /** These options with another differentiated log-probability. */
    public IpgOptions withGradient(PolicyGradient g) {
        return new IpgOptions(steps, samples, temperature, topP, topK, maxNewTokens, advantage, baseline, sampling, positions,
                quadrature, seed, g, alphaMin, candidates, streams);
    }

    /** These options with the path over [a, 1] and the given moving components. */
    public IpgOptions withPath(double a, Candidates c) {
        return new IpgOptions(steps, samples, temperature, topP, topK, maxNewTokens, advantage, baseline, sampling, positions,
                quadrature, seed, gradient, a, c, streams);
    }

    /** The paper's defaults. */
    public static IpgOptions paper() {
        return new IpgOptions(10, 5, 0.6, 0.8, 0, 512, Advantage.GRPO, BaselineKind.ZERO, SamplingMode.ON_PATH, Positions.ALL,
                Quadrature.RIEMANN_RIGHT, 0);
    }

    /** The distribution tokens are drawn from (temperature, top-k, top-p). */
    public Policy samplingPolicy() {
        return new SamplingParams(temperature, topK, topP, seed).policy();
    }

    /** The policy whose log-probability is differentiated: the sampling one, untruncated unless {@code truncated}. */
    public Policy gradientPolicy() {
        return gradient == PolicyGradient.TEMPERED ? samplingPolicy().tempered() : samplingPolicy();
    }

    /** The quadrature rule over the path [alphaMin, 1]. */
    public Quadrature.Rule rule() {
        return quadrature.rule(steps, alphaMin);
    }
}
