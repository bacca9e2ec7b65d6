package dev.ipg.api;

import dev.ipg.core.generate.Generator;

/**
 * One generated completion.
 *
 * @param text   the decoded completion, special tokens skipped
 * @param tokens the generated ids (an end-of-sequence id, if produced, is the last)
 * @param finish why generation stopped
 */
public record Generated(String text, int[] tokens, Generator.Finish finish) {

    /** Copies {@code tokens}. */
    public Generated {
        tokens = tokens.clone();
    }

    /** @return a copy of the generated ids */
    @Override
    public int[] tokens() {
        return tokens.clone();
    }
}
