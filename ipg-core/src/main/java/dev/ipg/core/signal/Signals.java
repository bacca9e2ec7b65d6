package dev.ipg.core.signal;

import dev.ipg.core.IpgException;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Parses signal specs such as {@code correct}, {@code reflection:wait,hmm},
 * {@code correct+0.001*length}, {@code 1.0*correct - 0.01*reflection} or
 * {@code correct + 0.5*external:python3 verify.py --strict}.
 *
 * <p>Grammar (whitespace is allowed around every operator; names are case-insensitive):
 * <pre>
 * spec    := [sign] term (sign term)*
 * sign    := '+' | '-'
 * term    := [number '*'] atom
 * number  := digits ['.' digits] [exponent] | '.' digits [exponent]     (1, 0.001, 1e-3)
 * atom    := 'correct' | 'length' [':thinking' | ':answer'] | 'reflection' [':' words]
 *          | 'regex:' REST | 'external:' REST | 'reward-model:' REST
 * words   := word (',' word)*
 * word    := letters, digits, apostrophes and inner spaces; '-' only between two letters
 *            (double-check)
 * REST    := every remaining character of the spec
 * </pre>
 * Because a regular expression or a command may contain any character, including '+' and '-',
 * {@code regex:} and {@code external:} take the rest of the spec: at most one of them, and only
 * as the last term. The regex is taken verbatim; the command is stripped of surrounding spaces.
 * A single term with weight 1 is the atom itself; anything else is a {@link Signal.Weighted}.
 * A malformed spec is an {@link IpgException} with a one-line message naming the spec and the
 * position.
 */
public final class Signals {

    private static final Pattern NUMBER =
            Pattern.compile("(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?");
    private static final String EXPECTED =
            "expected correct, length[:thinking|:answer], reflection[:WORDS], regex:PATTERN, external:COMMAND or reward-model:DIR";

    private Signals() {}

    /**
     * Parses {@code spec}; external verifiers get {@link External#DEFAULT_TIMEOUT}, a reward model
     * runs on a pool of its own with one thread per processor. Code that has a thread setting (and
     * a pool sized by it) uses {@link #parse(String, Parallel)}.
     */
    public static Signal parse(String spec) {
        return parse(spec, External.DEFAULT_TIMEOUT, null);
    }

    /** Parses {@code spec}; a reward model runs on {@code pool} (shared, not closed with the signal). */
    public static Signal parse(String spec, Parallel pool) {
        return parse(spec, External.DEFAULT_TIMEOUT, pool);
    }

    /**
     * Parses {@code spec}; external verifiers must reply within {@code externalTimeout}; a reward
     * model runs on {@code pool}, or on a pool of its own (one thread per processor) when it is null.
     */
    public static Signal parse(String spec, Duration externalTimeout, Parallel pool) {
        if (spec == null || spec.isBlank()) {
            throw new IpgException("empty signal spec; " + EXPECTED);
        }
        return new Parser(spec, externalTimeout, pool).spec();
    }

    private static final class Parser {
        private final String s;
        private final Duration timeout;
        /** The pool a reward model runs on; null: one of its own. */
        private final Parallel pool;
        private int pos;

        Parser(String s, Duration timeout, Parallel pool) {
            this.s = s;
            this.timeout = timeout;
            this.pool = pool;
        }

        Signal spec() {
            var terms = new ArrayList<Signal.Weighted.Term>();
            skipSpaces();
            double sign = 1;
            if (peek() == '+' || peek() == '-') {
                sign = s.charAt(pos++) == '-' ? -1 : 1;
                skipSpaces();
            }
            while (true) {
                double weight = sign;
                var number = NUMBER.matcher(s).region(pos, s.length());
                if (number.lookingAt()) {
                    weight *= Double.parseDouble(number.group());
                    pos = number.end();
                    skipSpaces();
                    if (peek() != '*') {
                        throw error("expected '*' after the weight " + number.group());
                    }
                    pos++;
                    skipSpaces();
                }
                terms.add(new Signal.Weighted.Term(weight, atom()));
                skipSpaces();
                if (pos >= s.length()) {
                    break;
                }
                char c = s.charAt(pos);
                if (c != '+' && c != '-') {
                    throw error("expected '+' or '-' before '" + s.substring(pos) + "'");
                }
                sign = c == '-' ? -1 : 1;
                pos++;
                skipSpaces();
                if (pos >= s.length()) {
                    throw error("missing term after '" + c + "'");
                }
            }
            if (terms.size() == 1 && terms.getFirst().weight() == 1) {
                return terms.getFirst().signal();
            }
            return new Signal.Weighted(terms);
        }

        private Signal atom() {
            int start = pos;
            if (s.regionMatches(true, pos, "reward-model", 0, "reward-model".length())) {
                pos += "reward-model".length();
                if (peek() != ':') {
                    throw error("'reward-model' needs a directory: reward-model:DIR");
                }
                String path = s.substring(pos + 1).strip();
                pos = s.length();
                if (path.isEmpty()) {
                    throw error("empty directory after 'reward-model:'");
                }
                Path dir = Path.of(path);
                return pool != null ? new RewardModel(dir, pool)
                        : RewardModel.withOwnPool(dir, Runtime.getRuntime().availableProcessors());
            }
            while (pos < s.length() && Character.isLetter(s.charAt(pos))) {
                pos++;
            }
            String name = s.substring(start, pos).toLowerCase(Locale.ROOT);
            boolean colon = peek() == ':';
            switch (name) {
                case "correct" -> {
                    if (colon) {
                        throw error("'correct' takes no argument");
                    }
                    return new Signal.Correct();
                }
                case "length" -> {
                    if (!colon) {
                        return new Signal.Length();
                    }
                    pos++;
                    int from = pos;
                    while (pos < s.length() && Character.isLetter(s.charAt(pos))) {
                        pos++;
                    }
                    String part = s.substring(from, pos).toLowerCase(Locale.ROOT);
                    return switch (part) {
                        case "thinking" -> new Signal.Length(Signal.Length.Part.THINKING);
                        case "answer" -> new Signal.Length(Signal.Length.Part.ANSWER);
                        default -> {
                            pos = from;
                            throw error("'length' counts all tokens, length:thinking (the think block) or length:answer (after it)");
                        }
                    };
                }
                case "reflection" -> {
                    if (!colon) {
                        return new Signal.Reflection();
                    }
                    pos++;
                    return new Signal.Reflection(words());
                }
                case "regex" -> {
                    if (!colon) {
                        throw error("'regex' needs a pattern: regex:PATTERN");
                    }
                    String pattern = s.substring(pos + 1);
                    pos = s.length();
                    if (pattern.isEmpty()) {
                        throw error("empty regular expression after 'regex:'");
                    }
                    try {
                        return new Signal.RegexMatch(Pattern.compile(pattern));
                    } catch (PatternSyntaxException e) {
                        throw new IpgException("bad regular expression in signal spec '" + s.replaceAll("\\R", " ") + "': "
                                + e.getDescription() + " near index " + e.getIndex() + " of '" + pattern.replaceAll("\\R", " ") + "'");
                    }
                }
                case "external" -> {
                    if (!colon) {
                        throw error("'external' needs a command: external:COMMAND");
                    }
                    String command = s.substring(pos + 1).strip();
                    pos = s.length();
                    if (command.isEmpty()) {
                        throw error("empty command after 'external:'");
                    }
                    return new External(command, timeout);
                }
                default -> {
                    if (name.isEmpty()) {
                        throw error(pos < s.length() ? "unexpected '" + s.charAt(pos) + "'; " + EXPECTED
                                : "missing term; " + EXPECTED);
                    }
                    pos = start;
                    throw error("unknown signal '" + name + "'; " + EXPECTED);
                }
            }
        }

        private List<String> words() {
            var words = new ArrayList<String>();
            var word = new StringBuilder();
            while (true) {
                char c = peek();
                boolean inWord = Character.isLetterOrDigit(c) || c == '\'' || c == '\u2019' || c == ' '
                        || c == '-' && pos > 0 && Character.isLetter(s.charAt(pos - 1))
                                && pos + 1 < s.length() && Character.isLetter(s.charAt(pos + 1));
                if (inWord && c != 0) {
                    word.append(c);
                    pos++;
                    continue;
                }
                String w = word.toString().strip();
                if (w.isEmpty()) {
                    throw error("empty reflection word");
                }
                words.add(w);
                word.setLength(0);
                if (c == ',') {
                    pos++;
                    continue;
                }
                return words;
            }
        }

        private char peek() {
            return pos < s.length() ? s.charAt(pos) : 0;
        }

        private void skipSpaces() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private IpgException error(String what) {
            return new IpgException("bad signal spec '" + s.replaceAll("\\R", " ") + "' at position " + (pos + 1) + ": " + what);
        }
    }
}
