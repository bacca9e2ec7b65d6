package dev.ipg.core.tokenize;

import java.util.Arrays;

/**
 * Turns generated token ids, one at a time, into the text to print, emitting only whole
 * characters: in byte-level BPE one character (an emoji, a CJK ideograph) is often split over
 * several tokens, and decoding a lone token gives U+FFFD.
 *
 * <p>The method is the one used by Hugging Face's text-generation-inference: keep a small window of
 * ids {@code [prefix, read)} that has already been printed and {@code [read, end)} that has not;
 * decode {@code [prefix, read)} and {@code [prefix, end)} and print the difference once the latter
 * is longer and does not end in U+FFFD; then slide the window. Decoding the window with some
 * printed context (rather than the new ids alone) keeps the spaces right for tokenizers whose
 * decoder treats the first token specially. Each push decodes only the window, a few tokens, so
 * the cost per token does not grow with the length of the text.
 *
 * <p>The concatenation of everything {@link #push} and {@link #flush} return equals {@link
 * Tokenizer#decode} of all the ids, for tokenizers without {@code clean_up_tokenization_spaces}
 * (which this decoder does not apply). Not thread-safe; one per generated sequence.
 */
public final class StreamDecoder {

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] window = new int[16]; // ids from the first one still needed as context
    private int end; // number of ids in window
    private int prefix; // window[prefix, read) was printed and serves as context
    private int read; // window[read, end) is not printed yet

    StreamDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one id; returns the text that became complete, often "" (never null). */
    public String push(int id) {
        if (end == window.length) {
            window = Arrays.copyOf(window, window.length * 2);
        }
        window[end++] = id;
        String before = tokenizer.decodeRaw(window, prefix, read, skipSpecialTokens);
        String after = tokenizer.decodeRaw(window, prefix, end, skipSpecialTokens);
        if (after.length() > before.length() && !after.endsWith("\uFFFD") && after.startsWith(before)) {
            slide();
            return after.substring(before.length());
        }
        return "";
    }

    /**
     * Returns whatever is still held back (an incomplete character comes out as U+FFFD, as {@link
     * Tokenizer#decode} gives it) and starts afresh; call it when the sequence ends.
     */
    public String flush() {
        String before = tokenizer.decodeRaw(window, prefix, read, skipSpecialTokens);
        String after = tokenizer.decodeRaw(window, prefix, end, skipSpecialTokens);
        String rest = after.startsWith(before) ? after.substring(before.length()) : after;
        end = prefix = read = 0;
        return rest;
    }

    /** Ids held: the printed context plus those not printed yet. */
    int windowLength() {
        return end;
    }

    /** The newly printed ids become the context; drop the ids before them. */
    private void slide() {
        int keep = end - read;
        System.arraycopy(window, read, window, 0, keep);
        prefix = 0;
        read = keep;
        end = keep;
    }
}
