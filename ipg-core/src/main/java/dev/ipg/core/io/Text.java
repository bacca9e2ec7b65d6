package dev.ipg.core.io;

/** Names and values from a user's files as they may appear in a one-line message. */
public final class Text {

    private Text() {
    }

    /**
     * {@code s} with control characters, line and paragraph separators and unpaired surrogates
     * written as {@code \\uXXXX}, cut to 80 characters: a file cannot break a message across
     * lines or make it unreadable.
     */
    public static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        int i = 0;
        for (; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            if (pair) {
                b.append(c).append(s.charAt(++i));
            } else if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return i < s.length() ? b + "..." : b.toString();
    }
}
