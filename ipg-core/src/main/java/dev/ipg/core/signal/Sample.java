package dev.ipg.core.signal;

import java.util.Objects;

/**
 * One generated trajectory as a signal sees it.
 *
 * @param id              the problem's id (used in messages and sent to external verifiers)
 * @param prompt          the prompt text the model was given, may be {@code null}
 * @param completion      the generated text, never {@code null}
 * @param generatedTokens number of generated tokens (the {@code length} signal), at least 0
 * @param gold            the gold answer, {@code null} when the problem has none
 */
public record Sample(String id, String prompt, String completion, int generatedTokens, String gold) {

    public Sample {
        Objects.requireNonNull(completion, "completion");
        if (generatedTokens < 0) {
            throw new IllegalArgumentException("generatedTokens < 0: " + generatedTokens);
        }
    }
}
