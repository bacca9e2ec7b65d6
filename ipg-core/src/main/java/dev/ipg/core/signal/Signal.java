package dev.ipg.core.signal;

import dev.ipg.core.IpgException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An outcome signal J(tau): a scalar reward for one whole generated trajectory. Build one from
 * a command-line spec with {@link Signals#parse}; {@link #spec()} gives the spec back.
 *
 * <p>A signal may own a process ({@link External}), so signals are {@link AutoCloseable}; closing
 * one that owns nothing does nothing.
 */
public sealed interface Signal extends AutoCloseable
        permits Signal.Correct, Signal.Length, Signal.Reflection, Signal.RegexMatch, Signal.Weighted,
                External, RewardModel {

    /** The reward of one trajectory. */
    double reward(Sample s);

    /** The rewards of several trajectories, in order (an external verifier gets them as a batch). */
    default double[] rewards(List<Sample> samples) {
        var r = new double[samples.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = reward(samples.get(i));
        }
        return r;
    }

    /** The spec that {@link Signals#parse} turns into this signal. */
    String spec();

    @Override
    default void close() {}

    /**
     * 1 when the {@link AnswerExtractor extracted} final answer is
     * {@link AnswerEquivalence#equivalent equivalent} to the sample's gold answer, else 0.
     * A sample without a gold answer is a user error.
     */
    record Correct() implements Signal {
        @Override
        public double reward(Sample s) {
            if (s.gold() == null || s.gold().isBlank()) {
                throw new IpgException("signal 'correct' needs a gold answer, but sample " + s.id()
                        + " has none");
            }
            var answer = AnswerExtractor.extract(s.prompt(), s.completion());
            return answer.isPresent() && AnswerEquivalence.equivalent(answer.get(), s.gold()) ? 1 : 0;
        }

        @Override
        public String spec() {
            return "correct";
        }
    }

    /**
     * The number of generated tokens: all of them ({@code length}), those of the think block
     * ({@code length:thinking}, the reasoning of an R1-style model) or those after it
     * ({@code length:answer}); see {@link Thinking}. Without a think block the thinking length
     * is 0 and the answer length is the whole length.
     *
     * @param part which tokens are counted
     */
    record Length(Part part) implements Signal {

        /** Which generated tokens {@link Length} counts. */
        public enum Part { ALL, THINKING, ANSWER }

        public Length {
            Objects.requireNonNull(part, "part");
        }

        /** All generated tokens. */
        public Length() {
            this(Part.ALL);
        }

        @Override
        public double reward(Sample s) {
            if (part == Part.ALL) {
                return s.generatedTokens();
            }
            if (s.thinkingTokens() < 0) {
                throw new IpgException("signal '" + spec() + "': the token boundary of the think block of sample " + s.id()
                        + " was not measured");
            }
            return part == Part.THINKING ? s.thinkingTokens() : s.generatedTokens() - s.thinkingTokens();
        }

        @Override
        public String spec() {
            return part == Part.ALL ? "length" : "length:" + part.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * How many times the reflection words occur in the completion, counted case-insensitively as
     * whole words or phrases: "wait" counts in "Wait," but not in "awaited"; whitespace inside a
     * phrase matches any run of whitespace.
     *
     * @param words the words or phrases, non-empty
     */
    record Reflection(List<String> words) implements Signal {

        /**
         * The default reflection words, comma-separated: the reflective terms whose frequency DeepSeek-R1 tracks
         * during RL training (Guo et al., "DeepSeek-R1 incentivizes reasoning in LLMs through
         * reinforcement learning", Nature 645, 2025, Extended Data Fig. 1a: wait, mistake, however,
         * but, retry, error, verify, wrong, evaluate, check), without the two contrast
         * conjunctions "but" and "however", which ordinary explanations use without any
         * reflection; with "check" counted, "double-check" and "re-check" count once. Give
         * others with {@code reflection:w1,w2} or {@code --words}.
         */
        public static final String DEFAULT_WORDS_TEXT = "wait,mistake,retry,error,verify,wrong,evaluate,check";

        /** {@link #DEFAULT_WORDS_TEXT} as a list. */
        public static final List<String> DEFAULT_WORDS = List.of(DEFAULT_WORDS_TEXT.split(","));

        public Reflection {
            words = List.copyOf(words);
            if (words.isEmpty()) {
                throw new IllegalArgumentException("no reflection words");
            }
            for (String w : words) {
                if (w.isBlank()) {
                    throw new IllegalArgumentException("blank reflection word");
                }
            }
        }

        /** The default words {@link #DEFAULT_WORDS}. */
        public Reflection() {
            this(DEFAULT_WORDS);
        }

        @Override
        public double reward(Sample s) {
            Matcher m = pattern().matcher(s.completion());
            int count = 0;
            while (m.find()) {
                count++;
            }
            return count;
        }

        /** The pattern whose matches are counted: any of the words, whole, case-insensitive. */
        public Pattern pattern() {
            var sb = new StringBuilder("(?<![\\p{L}\\p{N}_])(?:");
            for (int i = 0; i < words.size(); i++) {
                if (i > 0) {
                    sb.append('|');
                }
                var parts = words.get(i).strip().split("\\s+");
                for (int p = 0; p < parts.length; p++) {
                    sb.append(p > 0 ? "\\s+" : "").append(Pattern.quote(parts[p]));
                }
            }
            sb.append(")(?![\\p{L}\\p{N}_])");
            return Pattern.compile(sb.toString(), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
        }

        @Override
        public String spec() {
            return words.equals(DEFAULT_WORDS) ? "reflection" : "reflection:" + String.join(",", words);
        }
    }

    /**
     * 1 when the pattern is found anywhere in the completion ({@link Matcher#find()}), else 0.
     * {@code ^} and {@code $} anchor at the whole completion unless the pattern enables
     * {@code (?m)}.
     */
    record RegexMatch(Pattern pattern) implements Signal {
        public RegexMatch {
            Objects.requireNonNull(pattern, "pattern");
        }

        @Override
        public double reward(Sample s) {
            return pattern.matcher(s.completion()).find() ? 1 : 0;
        }

        @Override
        public String spec() {
            return "regex:" + pattern.pattern();
        }
    }

    /**
     * A weighted sum of signals, sum_k weight_k * J_k.
     *
     * @param terms at least one term
     */
    record Weighted(List<Term> terms) implements Signal {

        /** One term weight * signal. */
        public record Term(double weight, Signal signal) {
            public Term {
                Objects.requireNonNull(signal, "signal");
                if (!Double.isFinite(weight)) {
                    throw new IllegalArgumentException("weight " + weight);
                }
            }
        }

        public Weighted {
            terms = List.copyOf(terms);
            if (terms.isEmpty()) {
                throw new IllegalArgumentException("no terms");
            }
        }

        @Override
        public double reward(Sample s) {
            double sum = 0;
            for (var t : terms) {
                sum += t.weight() * t.signal().reward(s);
            }
            return sum;
        }

        @Override
        public double[] rewards(List<Sample> samples) {
            var sum = new double[samples.size()];
            for (var t : terms) {
                var r = t.signal().rewards(samples);
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += t.weight() * r[i];
                }
            }
            return sum;
        }

        /** Terms joined by " + " / " - ", weights written only when not 1. */
        @Override
        public String spec() {
            var sb = new StringBuilder();
            for (var t : terms) {
                double w = t.weight();
                if (sb.isEmpty()) {
                    sb.append(w < 0 ? "-" : "");
                } else {
                    sb.append(w < 0 ? " - " : " + ");
                }
                double abs = Math.abs(w);
                if (abs != 1) {
                    sb.append(BigDecimal.valueOf(abs).stripTrailingZeros().toPlainString()).append('*');
                }
                sb.append(t.signal().spec());
            }
            return sb.toString();
        }

        @Override
        public void close() {
            RuntimeException first = null;
            for (var t : terms) {
                try {
                    t.signal().close();
                } catch (RuntimeException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }
}
