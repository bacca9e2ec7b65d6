package dev.ipg.core.signal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides whether a predicted answer equals a gold answer, without a computer algebra system.
 * Both answers are first {@link #normalize normalized}; then, in order:
 *
 * <ol>
 *   <li>equal normalized strings are equivalent;
 *   <li>two <b>numbers</b> are equivalent when they are the same exact rational: integers (leading
 *       zeros allowed, {@code 025} = 25), decimals ({@code .5}, {@code 3.50}), fractions {@code a/b},
 *       {@code \frac{a}{b}} (after normalization also {@code \dfrac}, {@code \tfrac},
 *       {@code \frac12}), mixed numbers {@code 1\frac{4}{5}} = 9/5, each with a sign. There is
 *       no tolerance: {@code 0.33} is not 1/3, {@code 0.5} is 1/2;
 *   <li>two <b>matrices</b> ({@code \begin{pmatrix}}, {@code bmatrix}, ...) with the same shape
 *       whose entries are pairwise equivalent;
 *   <li>two <b>unions</b> {@code A \cup B ...} with the same number of parts, pairwise equivalent
 *       in order;
 *   <li>two <b>tuples or intervals</b>: the same opening and closing brackets ({@code (3,4]} is
 *       not {@code (3,4)}) and the same number of comma-separated elements, pairwise equivalent
 *       in order;
 *   <li>two <b>unordered lists</b>: sets {@code \{a,b\}} or bare comma lists {@code 1,-2} (e.g.
 *       "enter all solutions"), equivalent when their elements match one to one in any order;
 *   <li>two <b>words</b> of letters only, three or more of them ({@code \text{East}} vs
 *       {@code east}), compared ignoring case;
 *   <li>otherwise not equivalent.
 * </ol>
 *
 * <p>Known limits, by design: no algebra ({@code \frac{1}{\sqrt3}} is not
 * {@code \frac{\sqrt3}{3}}, {@code x+1} is not {@code 1+x}), no numeric tolerance, no
 * evaluation of {@code \pi} or roots, and a percentage is its number ({@code 50\%} = 50, not
 * 0.5).
 */
public final class AnswerEquivalence {

    private static final Pattern DEGREE =
            Pattern.compile("\\^\\s*\\{\\s*\\\\circ\\s*\\}|\\^\\s*\\\\circ(?![A-Za-z])|\\\\degree(?![A-Za-z])|°");
    /** A number or closing brace, whitespace, then plain words (a unit), optionally squared/cubed. */
    private static final Pattern UNIT = Pattern.compile(
            "(.*?[0-9}])\\s+([A-Za-z]{2,}(?:[\\s-]+[A-Za-z]{2,})*)\\s*(?:\\^\\s*\\{?\\s*[23]\\s*\\}?)?\\s*");
    private static final List<String> NOT_UNITS = List.of("pi", "or", "and");
    private static final Pattern COMMAND_BEFORE_LETTER = Pattern.compile("(\\\\[A-Za-z]+)\\s+(?=[A-Za-z])");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private static final Pattern SINGLE_SCRIPT = Pattern.compile("([_^])\\{([^{}\\\\])\\}");
    private static final Pattern ASSIGNMENT =
            Pattern.compile("[A-Za-z](?:_\\{?[A-Za-z0-9]+\\}?)?(?:=|\\\\in(?![A-Za-z]))(.+)");
    private static final Pattern THOUSANDS = Pattern.compile("[-+]?\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?");
    private static final Pattern MATRIX =
            Pattern.compile("\\\\begin\\{([a-zA-Z]*matrix)\\}(.*)\\\\end\\{\\1\\}");
    private static final Pattern WORD = Pattern.compile("[A-Za-z]{3,}");

    private AnswerEquivalence() {}

    /**
     * Whether {@code predicted} and {@code gold} denote the same answer (see the class comment).
     * A {@code null} or empty answer is equivalent to nothing.
     */
    public static boolean equivalent(String predicted, String gold) {
        if (predicted == null || gold == null) {
            return false;
        }
        String a = normalize(predicted), b = normalize(gold);
        return !a.isEmpty() && !b.isEmpty() && same(a, b);
    }

    /**
     * The canonical string form of an answer. Steps, in order:
     *
     * <ol>
     *   <li>Unicode: minus sign to '-', no-break space to space, ², ³ to {@code ^2}, {@code ^3},
     *       π, ∞, √ to {@code \pi}, {@code \infty}, {@code \sqrt}.
     *   <li>Degrees removed: {@code ^\circ}, {@code ^{\circ}}, {@code \degree}, °.
     *   <li>LaTeX commands: {@code \boxed}/{@code \fbox} unwrapped; {@code \text}, {@code \mbox},
     *       {@code \mathrm}, {@code \textbf} and friends unwrapped into their plain text (with a
     *       space on each side); {@code \left}, {@code \right}, {@code \big...} dropped;
     *       spacing ({@code \! \, \; \: \quad}, {@code \displaystyle}) becomes a space;
     *       {@code \$} and {@code \%} dropped; math delimiters {@code \( \) \[ \]} dropped;
     *       {@code \dfrac}, {@code \tfrac} become {@code \frac}; {@code \leq}, {@code \geq},
     *       {@code \neq} become {@code \le}, {@code \ge}, {@code \ne}.
     *   <li>{@code $} and {@code %} dropped; trailing full stops removed.
     *   <li>A unit after a number is dropped: a number (or '}') followed by whitespace and plain
     *       words of two or more letters, optionally {@code ^2}/{@code ^3} ({@code 18 dollars},
     *       {@code 864 \mbox{ inches}^2}, {@code \frac{270}7\text{ degrees}}); "pi", "and", "or"
     *       are not units. {@code 2k} (no space) is kept.
     *   <li>Shorthand arguments braced: {@code \frac12} to {@code \frac{1}{2}}, {@code \sqrt2}
     *       to {@code \sqrt{2}}, {@code \frac\pi2} to {@code \frac{\pi}{2}}.
     *   <li>Whitespace removed (one space is kept between a command and a following letter:
     *       {@code \cot x}).
     *   <li>Trailing full stops removed again.
     *   <li>Single-character scripts unbraced: {@code 4210_{5}} to {@code 4210_5}.
     *   <li>A leading one-variable assignment dropped: {@code x=5} to {@code 5},
     *       {@code x\in[-2,7]} to {@code [-2,7]} (only when no further '=' follows).
     *   <li>Outer grouping removed while it spans the whole answer: {@code {5}} and
     *       {@code (113)} (parentheses without a top-level comma; with one it is a tuple).
     *   <li>Thousands separators removed when the whole answer is a number in groups of three
     *       ({@code 10,080}, {@code -1,450,000.5}); {@code 1,-2} and {@code 3,5,7} stay lists.
     *   <li>A leading '+' removed.
     * </ol>
     */
    public static String normalize(String answer) {
        if (answer == null) {
            return "";
        }
        String s = unicode(answer);
        s = DEGREE.matcher(s).replaceAll("");
        s = rewriteCommands(s);
        s = stripTrailingStops(s.replace("$", "").replace("%", "").strip());
        s = stripUnit(s);
        s = braceShorthand(s);
        s = COMMAND_BEFORE_LETTER.matcher(s.strip()).replaceAll("$1\u0000");
        s = WHITESPACE.matcher(s).replaceAll("").replace('\u0000', ' ');
        s = stripTrailingStops(s);
        s = SINGLE_SCRIPT.matcher(s).replaceAll("$1$2");
        var assignment = ASSIGNMENT.matcher(s);
        if (assignment.matches() && !assignment.group(1).contains("=")) {
            s = assignment.group(1);
        }
        s = stripOuterGroups(s);
        if (THOUSANDS.matcher(s).matches()) {
            s = s.replace(",", "");
        }
        if (s.startsWith("+") && s.length() > 1) {
            s = s.substring(1);
        }
        return s;
    }

    // ---------------------------------------------------------------- comparison

    private static boolean same(String a, String b) {
        if (a.equals(b)) {
            return true;
        }
        var x = Rational.parse(a);
        var y = Rational.parse(b);
        if (x != null && y != null) {
            return x.equals(y);
        }
        var ma = matrix(a);
        var mb = matrix(b);
        if (ma != null || mb != null) {
            if (ma == null || mb == null || ma.size() != mb.size()) {
                return false;
            }
            for (int r = 0; r < ma.size(); r++) {
                if (!pairwise(ma.get(r), mb.get(r))) {
                    return false;
                }
            }
            return true;
        }
        var ua = Latex.splitTopLevel(a, "\\cup");
        var ub = Latex.splitTopLevel(b, "\\cup");
        if (ua.size() > 1 || ub.size() > 1) {
            return pairwise(ua, ub);
        }
        var ta = tuple(a);
        var tb = tuple(b);
        if (ta != null || tb != null) {
            return ta != null && tb != null && a.charAt(0) == b.charAt(0)
                    && a.charAt(a.length() - 1) == b.charAt(b.length() - 1) && pairwise(ta, tb);
        }
        var la = unordered(a);
        var lb = unordered(b);
        if (la != null && lb != null) {
            return matchAnyOrder(la, lb);
        }
        return WORD.matcher(a).matches() && WORD.matcher(b).matches() && a.equalsIgnoreCase(b);
    }

    private static boolean pairwise(List<String> a, List<String> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!equivalent(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean matchAnyOrder(List<String> a, List<String> b) {
        if (a.size() != b.size()) {
            return false;
        }
        var unused = new ArrayList<>(b);
        outer:
        for (String x : a) {
            for (int j = 0; j < unused.size(); j++) {
                if (equivalent(x, unused.get(j))) {
                    unused.remove(j);
                    continue outer;
                }
            }
            return false;
        }
        return true;
    }

    /** Rows of cells of a matrix environment, or null. */
    private static List<List<String>> matrix(String s) {
        Matcher m = MATRIX.matcher(s);
        if (!m.matches()) {
            return null;
        }
        var rows = new ArrayList<List<String>>();
        for (String row : Latex.splitTopLevel(m.group(2), "\\\\")) {
            if (!row.isEmpty()) {
                rows.add(Latex.splitTopLevel(row, "&"));
            }
        }
        return rows;
    }

    /** Elements of a bracketed tuple/interval such as (a,b] with a top-level comma, or null. */
    private static List<String> tuple(String s) {
        if (s.length() < 2 || "([".indexOf(s.charAt(0)) < 0 || ")]".indexOf(s.charAt(s.length() - 1)) < 0
                || Latex.closingBracket(s, 0) != s.length() - 1) {
            return null;
        }
        var parts = Latex.splitTopLevel(s.substring(1, s.length() - 1), ",");
        return parts.size() > 1 ? parts : null;
    }

    /** Elements of a set \{a,b\} or of a bare top-level comma list, or null. */
    private static List<String> unordered(String s) {
        if (s.startsWith("\\{") && s.endsWith("\\}") && Latex.closingBracket(s, 0) == s.length() - 1) {
            return Latex.splitTopLevel(s.substring(2, s.length() - 2), ",");
        }
        var parts = Latex.splitTopLevel(s, ",");
        return parts.size() > 1 ? parts : null;
    }

    // ---------------------------------------------------------------- normalization steps

    private static String unicode(String s) {
        return s.replace('\u2212', '-').replace('\u00a0', ' ').replace("²", "^2").replace("³", "^3")
                .replace("π", "\\pi ").replace("∞", "\\infty ").replace("√", "\\sqrt");
    }

    private static final List<String> TEXT_COMMANDS = List.of("text", "textbf", "textit", "textrm",
            "textnormal", "textup", "textsf", "texttt", "mathrm", "mathbf", "mathit", "mathsf",
            "mathtt", "mathnormal", "mbox", "hbox", "operatorname");
    private static final List<String> SIZE_COMMANDS = List.of("left", "right", "big", "Big", "bigg",
            "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr");

    /** One pass over the LaTeX commands (step 3 of {@link #normalize}). */
    private static String rewriteCommands(String s) {
        var out = new StringBuilder(s.length());
        int i = 0, n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c != '\\') {
                out.append(c);
                i++;
                continue;
            }
            if (i + 1 >= n) {
                break; // a lone trailing backslash
            }
            char d = s.charAt(i + 1);
            if (!isAsciiLetter(d)) {
                switch (d) {
                    case '\\' -> out.append("\\\\");
                    case '!', ',', ';', ':', ' ', '>' -> out.append(' ');
                    case '$', '%', '(', ')', '[', ']' -> { }
                    default -> out.append('\\').append(d);
                }
                i += 2;
                continue;
            }
            int j = i + 1;
            while (j < n && isAsciiLetter(s.charAt(j))) {
                j++;
            }
            String name = s.substring(i + 1, j);
            if (SIZE_COMMANDS.contains(name)) {
                if (j < n && s.charAt(j) == '.') {
                    j++; // \left. and \right. are invisible delimiters
                }
            } else if (TEXT_COMMANDS.contains(name) || name.equals("boxed") || name.equals("fbox")) {
                int k = j;
                while (k < n && Character.isWhitespace(s.charAt(k))) {
                    k++;
                }
                if (k < n && s.charAt(k) == '{') {
                    int close = Latex.closingBrace(s, k);
                    int end = close < 0 ? n : close;
                    String inner = rewriteCommands(s.substring(k + 1, end));
                    boolean text = TEXT_COMMANDS.contains(name);
                    out.append(text ? " " : "").append(inner).append(text ? " " : "");
                    j = close < 0 ? n : close + 1;
                }
            } else {
                switch (name) {
                    case "dfrac", "tfrac" -> out.append("\\frac");
                    case "leq" -> out.append("\\le");
                    case "geq" -> out.append("\\ge");
                    case "neq" -> out.append("\\ne");
                    case "displaystyle", "quad", "qquad" -> out.append(' ');
                    default -> out.append('\\').append(name);
                }
            }
            i = j;
        }
        return out.toString();
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static String stripTrailingStops(String s) {
        while (s.endsWith(".") && !s.endsWith("\\.")) {
            s = s.substring(0, s.length() - 1).stripTrailing();
        }
        return s;
    }

    private static String stripUnit(String s) {
        Matcher m = UNIT.matcher(s);
        if (!m.matches()) {
            return s;
        }
        for (String word : m.group(2).split("[\\s-]+")) {
            if (NOT_UNITS.contains(word.toLowerCase(java.util.Locale.ROOT))) {
                return s;
            }
        }
        return m.group(1);
    }

    /** Braces the arguments of {@code \frac} and {@code \sqrt} written without them. */
    private static String braceShorthand(String s) {
        var out = new StringBuilder(s.length() + 8);
        int i = 0, n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c != '\\') {
                out.append(c);
                i++;
                continue;
            }
            int j = i + 1;
            while (j < n && isAsciiLetter(s.charAt(j))) {
                j++;
            }
            if (j == i + 1) { // \\, \{ ...: copy the pair
                out.append(s, i, Math.min(i + 2, n));
                i += 2;
                continue;
            }
            String name = s.substring(i + 1, j);
            out.append('\\').append(name);
            int args = name.equals("frac") ? 2 : name.equals("sqrt") ? 1 : 0;
            if (name.equals("sqrt")) {
                int k = skipSpaces(s, j);
                if (k < n && s.charAt(k) == '[') {
                    int close = s.indexOf(']', k);
                    if (close > 0) {
                        out.append(s, k, close + 1);
                        j = close + 1;
                    }
                }
            }
            for (int a = 0; a < args; a++) {
                int k = skipSpaces(s, j);
                if (k >= n) {
                    break;
                }
                char first = s.charAt(k);
                int end; // exclusive end of the argument
                if (first == '{') {
                    int close = Latex.closingBrace(s, k);
                    if (close < 0) {
                        break;
                    }
                    out.append('{').append(braceShorthand(s.substring(k + 1, close))).append('}');
                    j = close + 1;
                    continue;
                } else if (first == '\\') {
                    end = k + 1;
                    while (end < n && isAsciiLetter(s.charAt(end))) {
                        end++;
                    }
                    if (end == k + 1) {
                        end = Math.min(k + 2, n);
                    }
                } else {
                    end = k + 1;
                }
                out.append('{').append(s, k, end).append('}');
                j = end;
            }
            i = j;
        }
        return out.toString();
    }

    private static int skipSpaces(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static String stripOuterGroups(String s) {
        while (s.length() >= 2) {
            char first = s.charAt(0);
            if (first == '{' && Latex.closingBrace(s, 0) == s.length() - 1) {
                s = s.substring(1, s.length() - 1);
            } else if (first == '(' && s.endsWith(")") && Latex.closingBracket(s, 0) == s.length() - 1
                    && Latex.splitTopLevel(s.substring(1, s.length() - 1), ",").size() == 1) {
                s = s.substring(1, s.length() - 1);
            } else {
                break;
            }
        }
        return s;
    }
}
