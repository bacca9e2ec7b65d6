package dev.ipg.core.report;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Escaping for the three places text goes into the report page: HTML text and attributes, JSON data blocks, and inline scripts. */
public final class Html {

    private Html() {
    }

    /** Text for an HTML element or a quoted attribute value: {@code & < > " '} become character references. */
    public static String escape(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * JSON text made safe inside {@code <script type="application/json">}: {@code < > &} and the
     * line separators U+2028/U+2029 become {@code \\uXXXX} escapes. Outside strings JSON has none
     * of these characters, and inside strings the escape means the same character, so
     * {@code JSON.parse} gives back the same value, while {@code </script>} or {@code <!--} in any
     * text can no longer end or alter the block.
     */
    public static String jsonForScript(String json) {
        StringBuilder b = new StringBuilder(json.length() + 64);
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            switch (c) {
                case '<' -> b.append("\\u003c");
                case '>' -> b.append("\\u003e");
                case '&' -> b.append("\\u0026");
                case '\u2028' -> b.append("\\u2028");
                case '\u2029' -> b.append("\\u2029");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static final Pattern SCRIPT_END = Pattern.compile("</(script)", Pattern.CASE_INSENSITIVE);

    /**
     * JavaScript source made safe to inline in a {@code <script>} element: {@code </script} (any
     * case) becomes {@code <\/script} and {@code <!--} becomes {@code <\!--}, which mean the same
     * inside the string and regular-expression literals where they can occur.
     */
    public static String inlineScript(String js) {
        String s = SCRIPT_END.matcher(js).replaceAll(m -> Matcher.quoteReplacement("<\\/" + m.group(1)));
        return s.replace("<!--", "<\\!--");
    }

    /** A CSV field: quoted when it holds a comma, quote, or line break (quotes doubled). */
    public static String csv(String s) {
        if (s == null) {
            return "";
        }
        if (s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }
}
