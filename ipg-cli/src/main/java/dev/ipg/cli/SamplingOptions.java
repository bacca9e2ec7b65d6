package dev.ipg.cli;

import picocli.CommandLine.Option;

/**
 * How completions are sampled: the mixins of the commands that generate, and their defaults, each
 * defined here once. Two decodings have different defaults on purpose: the policy IPG and pg
 * differentiate is sampled ({@link Policy}: the paper's temperature 0.6, nucleus 0.8), while
 * accuracy is measured greedily ({@link Decoding}: the paper's evaluation protocol).
 */
final class SamplingOptions {

    private SamplingOptions() {
    }

    /** The temperature of the policy IPG and pg sample and differentiate (the paper's). */
    static final String POLICY_TEMPERATURE = "0.6";

    /** The nucleus mass of that policy (the paper's). */
    static final String POLICY_TOP_P = "0.8";

    /** Temperature 0: greedy decoding. */
    static final String GREEDY = "0";

    /** Nucleus mass 1: the whole distribution. */
    static final String WHOLE_NUCLEUS = "1";

    /** Top-k 0: off. */
    static final String NO_TOP_K = "0";

    /** The generation budget of every command that generates, a reasoning completion's. */
    static final String MAX_NEW_TOKENS = "512";

    /** {@code --temperature} and {@code --top-p} of the sampled policy (attribute, compare). */
    static final class Policy {

        @Option(names = "--temperature", paramLabel = "T", defaultValue = POLICY_TEMPERATURE,
                description = "Sampling temperature of the policy IPG differentiates; > 0 (default: ${DEFAULT-VALUE}, the paper's).")
        double temperature;

        @Option(names = "--top-p", paramLabel = "P", defaultValue = POLICY_TOP_P,
                description = "Nucleus mass of that policy, in (0, 1] (default: ${DEFAULT-VALUE}, the paper's).")
        double topP;
    }

    /** {@code --temperature} and {@code --top-p} of a decoding that is greedy unless told (eval, steer). */
    static final class Decoding {

        @Option(names = "--temperature", paramLabel = "T", defaultValue = GREEDY,
                description = "Sampling temperature; 0 = greedy, the paper's evaluation (default: ${DEFAULT-VALUE}).")
        double temperature;

        @Option(names = "--top-p", paramLabel = "P", defaultValue = WHOLE_NUCLEUS,
                description = "Nucleus mass in (0, 1] when sampling (default: ${DEFAULT-VALUE}).")
        double topP;
    }

    /** {@code --top-k}, the sampling top-k (never a number of components: that is --top-count). */
    static final class TopK {

        @Option(names = "--top-k", paramLabel = "K", defaultValue = NO_TOP_K,
                description = "Sample among the K most likely tokens; 0 = off (default: ${DEFAULT-VALUE}).")
        int topK;
    }

    /** {@code --max-new-tokens}. */
    static final class Budget {

        @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = MAX_NEW_TOKENS,
                description = "Generation budget: at most N new tokens per completion (default: ${DEFAULT-VALUE}).")
        int maxNewTokens;
    }
}
