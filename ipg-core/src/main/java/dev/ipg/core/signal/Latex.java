package dev.ipg.core.signal;

import java.util.ArrayList;
import java.util.List;

/** Brace and bracket scanning shared by the extractor and the equivalence rules. */
final class Latex {

    private Latex() {}

    /**
     * Index of the '}' closing the '{' at {@code open}, or -1 when it is never closed. Escaped
     * braces (<code>\{</code>, <code>\}</code>) and any other backslash pair ({@code \\}) are skipped.
     */
    static int closingBrace(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Index where the bracket depth first returns to zero after position {@code open}, counting
     * (, [, {, \{ as openers and ), ], }, \} as closers of any kind (intervals mix them); -1 when
     * it never does.
     */
    static int closingBracket(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                if (i + 1 < s.length()) {
                    char d = s.charAt(i + 1);
                    if (d == '{') {
                        depth++;
                    } else if (d == '}' && --depth == 0) {
                        return i + 1;
                    }
                }
                i++;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if ((c == ')' || c == ']' || c == '}') && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Splits {@code s} at every occurrence of {@code sep} outside brackets of any kind (see
     * {@link #closingBracket}); a string without such an occurrence gives a one-element list.
     */
    static List<String> splitTopLevel(String s, String sep) {
        var parts = new ArrayList<String>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (depth == 0 && s.startsWith(sep, i)
                    && !(sep.charAt(0) == '\\' && i + sep.length() < s.length()
                            && Character.isLetter(sep.charAt(sep.length() - 1))
                            && Character.isLetter(s.charAt(i + sep.length())))) {
                parts.add(s.substring(start, i));
                i += sep.length() - 1;
                start = i + 1;
                continue;
            }
            if (c == '\\') {
                if (i + 1 < s.length()) {
                    char d = s.charAt(i + 1);
                    if (d == '{') {
                        depth++;
                    } else if (d == '}') {
                        depth--;
                    }
                }
                i++;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            }
        }
        parts.add(s.substring(start));
        return parts;
    }
}
