package dev.ipg.core.signal;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the final answer in a completion. A reasoning model's think block is skipped first: the
 * answer is looked for only in the text after {@code </think>}, and a completion that stopped
 * inside its think block has none ({@link Thinking}). Then the rules are tried in this order and
 * the first that yields a non-empty answer wins:
 *
 * <ol>
 *   <li>{@link Rule#BOXED}: the content of the last {@code \boxed{...}} or {@code \fbox{...}}
 *       whose braces close (nested and escaped braces handled); {@code \boxed 5} (no braces)
 *       gives the token after the space. An unclosed last box (a truncated completion) falls
 *       back to the box before it.
 *   <li>{@link Rule#HASHES}: the rest of the line after the last {@code ####} (GSM8K style).
 *   <li>{@link Rule#PHRASE}: after the last "answer is", "answer:" or "answer =" (any case, so
 *       "The final answer is", "**Answer:**"): a leading {@code $...$}, {@code \(...\)} or
 *       {@code \[...\]} span, otherwise the rest of the line up to the first full stop that
 *       ends a sentence (a '.' followed by a space or the end).
 *   <li>{@link Rule#LAST_NUMBER}: the last number in the text: an integer (with optional
 *       thousands commas), a decimal or a fraction {@code a/b}, with a minus sign when it is not
 *       a hyphen between words or numbers.
 * </ol>
 *
 * <p>The answer is returned as written; {@link AnswerEquivalence} does all normalization.
 */
public final class AnswerExtractor {

    /** Which rule produced an answer. */
    public enum Rule { BOXED, HASHES, PHRASE, LAST_NUMBER }

    /** An extracted answer and the rule that found it. */
    public record Extracted(String answer, Rule rule) {}

    private static final Pattern BOX = Pattern.compile("\\\\(?:boxed|fbox)(?![A-Za-z])");
    private static final Pattern PHRASE =
            Pattern.compile("(?i)\\banswer\\b\\s*(?:is\\b\\s*:?|:|=)");
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=\\S)\\.(?=\\s|$)");
    private static final Pattern NUMBER = Pattern.compile(
            "(?:(?<![\\w).\\-])-)?(?<![\\d.])(?:\\d{1,3}(?:,\\d{3})+(?!\\d|,\\d)|\\d+)(?:\\.\\d+)?(?:/\\d+)?"
                    + "|(?:(?<![\\w).\\-])-)?(?<![\\d.])\\.\\d+");

    private AnswerExtractor() {}

    /** The final answer of {@code completion} (see the class comment), empty when it has none. */
    public static Optional<String> extract(String completion) {
        return find(completion).map(Extracted::answer);
    }

    /**
     * The final answer of {@code completion} generated after {@code prompt}: as {@link #extract(String)},
     * and a prompt that opens a think block (DeepSeek-R1 templates) puts the completion inside it.
     */
    public static Optional<String> extract(String prompt, String completion) {
        return completion == null ? Optional.empty() : findInAnswer(Thinking.split(prompt, completion).answer()).map(Extracted::answer);
    }

    /** Like {@link #extract} but also says which rule fired. */
    public static Optional<Extracted> find(String completion) {
        if (completion == null) {
            return Optional.empty();
        }
        return findInAnswer(Thinking.split(null, completion).answer());
    }

    /** The rules applied to answer text (after any think block). */
    private static Optional<Extracted> findInAnswer(String completion) {
        var boxed = lastBoxed(completion);
        if (boxed.isPresent()) {
            return Optional.of(new Extracted(boxed.get(), Rule.BOXED));
        }
        var hashes = afterHashes(completion);
        if (hashes.isPresent()) {
            return Optional.of(new Extracted(hashes.get(), Rule.HASHES));
        }
        var phrase = answerPhrase(completion);
        if (phrase.isPresent()) {
            return Optional.of(new Extracted(phrase.get(), Rule.PHRASE));
        }
        return lastNumber(completion).map(n -> new Extracted(n, Rule.LAST_NUMBER));
    }

    /** Content of the last closed {@code \boxed{...}} / {@code \fbox{...}} (rule 1). */
    public static Optional<String> lastBoxed(String text) {
        Matcher m = BOX.matcher(text);
        var ends = new java.util.ArrayList<Integer>();
        while (m.find()) {
            ends.add(m.end());
        }
        for (int k = ends.size() - 1; k >= 0; k--) {
            int i = ends.get(k);
            while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= text.length()) {
                continue;
            }
            if (text.charAt(i) == '{') {
                int close = Latex.closingBrace(text, i);
                if (close > 0) {
                    String content = text.substring(i + 1, close).strip();
                    if (!content.isEmpty()) {
                        return Optional.of(content);
                    }
                }
            } else if (i > ends.get(k)) { // "\boxed 5": one token after a space
                int j = i;
                while (j < text.length() && !Character.isWhitespace(text.charAt(j))
                        && text.charAt(j) != '$') {
                    j++;
                }
                if (j > i) {
                    return Optional.of(text.substring(i, j));
                }
            }
        }
        return Optional.empty();
    }

    /** The rest of the line after the last {@code ####} (rule 2). */
    public static Optional<String> afterHashes(String text) {
        int at = text.lastIndexOf("####");
        if (at < 0) {
            return Optional.empty();
        }
        int end = text.indexOf('\n', at);
        String rest = text.substring(at + 4, end < 0 ? text.length() : end).strip();
        return rest.isEmpty() ? Optional.empty() : Optional.of(rest);
    }

    /** The answer after the last "answer is" / "answer:" / "answer =" (rule 3). */
    public static Optional<String> answerPhrase(String text) {
        Matcher m = PHRASE.matcher(text);
        var ends = new java.util.ArrayList<Integer>();
        while (m.find()) {
            ends.add(m.end());
        }
        for (int k = ends.size() - 1; k >= 0; k--) {
            String candidate = phraseCandidate(text, ends.get(k));
            if (!candidate.isEmpty()) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static String phraseCandidate(String text, int from) {
        int eol = text.indexOf('\n', from);
        String line = text.substring(from, eol < 0 ? text.length() : eol);
        line = strip(line, "*: ");
        for (String[] delims : new String[][] {{"$$", "$$"}, {"$", "$"}, {"\\(", "\\)"}, {"\\[", "\\]"}}) {
            if (line.startsWith(delims[0])) {
                int close = unescaped(line, delims[1], delims[0].length());
                if (close > 0) {
                    return line.substring(delims[0].length(), close).strip();
                }
            }
        }
        Matcher end = SENTENCE_END.matcher(line);
        if (end.find()) {
            line = line.substring(0, end.start());
        }
        return strip(line, "*. ");
    }

    /** First index at or after {@code from} where {@code delim} starts outside a backslash pair ({@code \$}). */
    private static int unescaped(String s, String delim, int from) {
        for (int i = from; i < s.length(); i++) {
            if (s.startsWith(delim, i)) {
                return i;
            }
            if (s.charAt(i) == '\\' && delim.charAt(0) != '\\') {
                i++;
            }
        }
        return -1;
    }

    private static String strip(String s, String chars) {
        int a = 0, b = s.length();
        while (a < b && (chars.indexOf(s.charAt(a)) >= 0 || Character.isWhitespace(s.charAt(a)))) {
            a++;
        }
        while (b > a && (chars.indexOf(s.charAt(b - 1)) >= 0 || Character.isWhitespace(s.charAt(b - 1)))) {
            b--;
        }
        return s.substring(a, b);
    }

    /** The last number in the text (rule 4). */
    public static Optional<String> lastNumber(String text) {
        Matcher m = NUMBER.matcher(text);
        String last = null;
        while (m.find()) {
            last = m.group();
        }
        return Optional.ofNullable(last);
    }
}
