package dev.ipg.core.signal;

import java.util.Objects;
import java.util.function.Function;

/**
 * One generated trajectory as a signal sees it.
 *
 * @param id              the problem's id (used in messages and sent to external verifiers)
 * @param prompt          the prompt text the model was given, may be {@code null}
 * @param completion      the generated text, never {@code null}
 * @param generatedTokens number of generated tokens (the {@code length} signal), at least 0
 * @param gold            the gold answer, {@code null} when the problem has none
 * @param thinkingTokens  how many of the generated tokens belong to the {@link Thinking think block}
 *                        (0 without one), or -1 when not measured (a closed block whose token
 *                        boundary was not given)
 */
public record Sample(String id, String prompt, String completion, int generatedTokens, String gold, int thinkingTokens) {

    public Sample {
        Objects.requireNonNull(completion, "completion");
        if (generatedTokens < 0) {
            throw new IllegalArgumentException("generatedTokens < 0: " + generatedTokens);
        }
        if (thinkingTokens < -1 || thinkingTokens > generatedTokens) {
            throw new IllegalArgumentException("thinkingTokens " + thinkingTokens + " of " + generatedTokens);
        }
    }

    /**
     * A sample without the token boundary of its think block: exact when the completion has no
     * block (0) or an unclosed one (all tokens), not measured (-1) when the block is closed.
     */
    public Sample(String id, String prompt, String completion, int generatedTokens, String gold) {
        this(id, prompt, completion, generatedTokens, gold, switch (Thinking.split(prompt, completion).state()) {
            case NONE -> 0;
            case UNCLOSED -> generatedTokens;
            case CLOSED -> -1;
        });
    }

    /** The sample of generated {@code tokens}, decoded by {@code decode}, with its think block measured in tokens. */
    public static Sample of(String id, String prompt, int[] tokens, Function<int[], String> decode, String gold) {
        return new Sample(id, prompt, decode.apply(tokens), tokens.length, gold, Thinking.thinkingTokens(prompt, tokens, decode));
    }

    /** The completion's think block and answer. */
    public Thinking thinking() {
        return Thinking.split(prompt, completion);
    }
}
