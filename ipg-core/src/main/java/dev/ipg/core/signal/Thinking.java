package dev.ipg.core.signal;

import java.util.Locale;
import java.util.function.Function;

/**
 * The think block of a reasoning model's completion: DeepSeek-R1 and its distills, Qwen3 and QwQ
 * write their reasoning between {@code <think>} and {@code </think>} and the answer after it.
 *
 * <ul>
 *   <li>{@link State#CLOSED}: the completion holds {@code </think>}; the thinking is the text
 *       before the last one (an opening tag removed), the answer the text after it. The opening
 *       tag may be in the prompt instead: the DeepSeek-R1 chat templates end the generation
 *       prompt with {@code <think>\n}.
 *   <li>{@link State#UNCLOSED}: a think block was opened (in the completion, or at the end of the
 *       prompt) and never closed: generation stopped while thinking, so there is no answer.
 *   <li>{@link State#NONE}: no think block; the whole completion is the answer. A prompt that
 *       already closes the block (Qwen3 with {@code enable_thinking=false}, i.e. {@code
 *       --no-thinking}, ends it with an empty {@code <think>\n\n</think>\n\n}) gives this too.
 * </ul>
 *
 * @param state    whether and how the completion thinks
 * @param thinking the reasoning inside the block (empty for {@code NONE})
 * @param answer   what follows the block: the completion for {@code NONE}, empty for {@code UNCLOSED}
 */
public record Thinking(State state, String thinking, String answer) {

    public static final String OPEN = "<think>";
    public static final String CLOSE = "</think>";

    /** Whether and how a completion thinks. */
    public enum State {
        NONE, CLOSED, UNCLOSED;

        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The think block of {@code completion} generated after {@code prompt} (null: unknown, taken as not opening one). */
    public static Thinking split(String prompt, String completion) {
        String text = opensThinking(prompt) ? OPEN + completion : completion;
        int close = text.lastIndexOf(CLOSE);
        if (close >= 0) {
            String before = text.substring(0, close);
            int open = before.indexOf(OPEN);
            String thinking = open >= 0 ? before.substring(open + OPEN.length()) : before;
            return new Thinking(State.CLOSED, thinking.strip(), text.substring(close + CLOSE.length()).strip());
        }
        int open = text.indexOf(OPEN);
        if (open >= 0) {
            return new Thinking(State.UNCLOSED, text.substring(open + OPEN.length()).strip(), "");
        }
        return new Thinking(State.NONE, "", completion);
    }

    /** Whether {@code prompt} ends inside an open think block (its last tag is {@code <think>}). */
    public static boolean opensThinking(String prompt) {
        return prompt != null && prompt.lastIndexOf(OPEN) > prompt.lastIndexOf(CLOSE);
    }

    /**
     * How many of the generated {@code tokens} belong to the think block: 0 without one, all of
     * them when it is not closed, else the shortest prefix whose text holds every {@code </think>}
     * of the completion (the closing tag's own tokens included).
     *
     * @param decode the tokenizer's decoding, as used for the completion text
     */
    public static int thinkingTokens(String prompt, int[] tokens, Function<int[], String> decode) {
        String all = decode.apply(tokens);
        State state = split(prompt, all).state();
        if (state != State.CLOSED) {
            return state == State.NONE ? 0 : tokens.length;
        }
        int closes = count(all, CLOSE);
        int lo = 1;
        int hi = tokens.length; // count(decode(tokens[0..hi))) == closes
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (count(decode.apply(java.util.Arrays.copyOf(tokens, mid)), CLOSE) >= closes) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return hi;
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }
}
