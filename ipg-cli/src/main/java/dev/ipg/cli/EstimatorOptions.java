package dev.ipg.cli;

import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options of the IPG estimator (and of the pg and ig baselines, which share parts of it), as
 * mixins, with their defaults defined here once; they equal {@link IpgOptions#paper()}'s.
 */
final class EstimatorOptions {

    private EstimatorOptions() {
    }

    /** Path points q (IPG's, and ig's quadrature points). */
    static final String STEPS = "10";

    /** The quadrature rule over the path (the paper's). */
    static final String QUADRATURE = "riemann-right";

    /** {@code --steps} and {@code --quadrature}: the integral over alpha. */
    static final class Path {

        @Option(names = "--steps", paramLabel = "N", defaultValue = STEPS,
                description = "q, points of the integral over alpha on the path (default: ${DEFAULT-VALUE}).")
        int steps;

        @Option(names = "--quadrature", paramLabel = "RULE", defaultValue = QUADRATURE,
                converter = Choice.Quadratures.class, completionCandidates = Choice.Quadratures.class,
                description = "Quadrature rule of that integral: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}, the paper's).")
        Quadrature quadrature;
    }

    /** {@code --samples} and {@code --advantage}: the group of trajectories sampled at a path point. */
    static final class Group {

        @Option(names = "--samples", paramLabel = "N", defaultValue = "5",
                description = "N, trajectories sampled per path point (default: ${DEFAULT-VALUE}).")
        int samples;

        @Option(names = "--advantage", paramLabel = "grpo|rloo", defaultValue = "grpo",
                converter = Choice.Advantages.class, completionCandidates = Choice.Advantages.class,
                description = "Advantage of the N rewards of a group: ${COMPLETION-CANDIDATES}; grpo is the paper's, rloo is unbiased "
                        + "(completeness holds) (default: ${DEFAULT-VALUE}).")
        Advantage advantage;
    }

    /** {@code --baseline} and {@code --positions}: what the path interpolates. */
    static final class Interpolation {

        @Option(names = "--baseline", paramLabel = "zero|mean", defaultValue = "zero",
                converter = Choice.Baselines.class, completionCandidates = Choice.Baselines.class,
                description = "The baseline h' the path starts from: ${COMPLETION-CANDIDATES} (mean: the site's mean activation) "
                        + "(default: ${DEFAULT-VALUE}).")
        IpgOptions.BaselineKind baseline;

        @Option(names = "--positions", paramLabel = "all|generated", defaultValue = "all",
                converter = Choice.Positions.class, completionCandidates = Choice.Positions.class,
                description = "Positions interpolated and summed over: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        IpgOptions.Positions positions;
    }

    /** {@code --sampling}: where the trajectories of a path point come from. */
    static final class Sampling {

        @Option(names = "--sampling", paramLabel = "on-path|reuse-weighted", defaultValue = "on-path",
                converter = Choice.SamplingModes.class, completionCandidates = Choice.SamplingModes.class,
                description = "Where the trajectories of a path point come from (${COMPLETION-CANDIDATES}): sampled at every "
                        + "point, or sampled once at alpha = 1 and reweighted by pi_alpha / pi_1 (default: ${DEFAULT-VALUE}).")
        IpgOptions.SamplingMode mode;
    }

    /** {@code --policy-gradient}: which log-probability is differentiated. */
    static final class Gradient {

        @Option(names = "--policy-gradient", paramLabel = "WHICH", defaultValue = "tempered",
                converter = Choice.PolicyGradients.class, completionCandidates = Choice.PolicyGradients.class,
                description = "Log-probability differentiated (${COMPLETION-CANDIDATES}): tempered (softmax(logits/T) without "
                        + "top-k/top-p truncation) or truncated (the truncated sampling distribution; log pi = 0 on one-token nuclei). "
                        + "Tokens are drawn from the truncated policy either way (default: ${DEFAULT-VALUE}).")
        IpgOptions.PolicyGradient gradient;
    }

    /** The estimator as attribute and compare take it: the integral, the group, the sampled policy and its budget, what is interpolated, the sampling. */
    static final class Ipg {

        @Mixin
        Path path;

        @Mixin
        Group group;

        @Mixin
        SamplingOptions.Policy policy;

        @Mixin
        SamplingOptions.Budget budget;

        @Mixin
        Interpolation interpolation;

        @Mixin
        Sampling sampling;

        /** The estimator's options (the default, tempered gradient over the whole path). */
        IpgOptions options(int topK, long seed) {
            return new IpgOptions(path.steps, group.samples, policy.temperature, policy.topP, topK, budget.maxNewTokens, group.advantage,
                    interpolation.baseline, sampling.mode, interpolation.positions, path.quadrature, seed);
        }
    }
}
