package dev.ipg.core.tokenize;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.ELException;

/**
 * Python's {@code json.dumps} as Hugging Face's {@code tojson} filter calls it: {@code
 * json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}, so {@code
 * {"a": 1, "b": [true, null]}} with a space after {@code :} and {@code ,} and non-ASCII text kept.
 * Jinjava's own {@code tojson} writes compact JSON, which changes the prompt.
 */
final class PyJson implements Filter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        return filter(var, interpreter, (Object[]) args, Map.of());
    }

    /** {@code x | tojson(ensure_ascii=False, indent=None, separators=None, sort_keys=False)}. */
    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        String[] names = {"ensure_ascii", "indent", "separators", "sort_keys"};
        Object[] values = new Object[names.length];
        if (args.length > names.length) {
            throw new ELException("tojson takes at most 4 arguments");
        }
        System.arraycopy(args, 0, values, 0, args.length);
        for (var e : kwargs.entrySet()) {
            int i = List.of(names).indexOf(e.getKey());
            if (i < 0) {
                throw new ELException("tojson got an unexpected keyword argument '" + e.getKey() + "'");
            }
            values[i] = e.getValue();
        }
        boolean ensureAscii = Boolean.TRUE.equals(values[0]);
        String indent = switch (values[1]) {
            case null -> null;
            case Number n -> " ".repeat(Math.max(0, n.intValue()));
            case CharSequence s -> s.toString();
            default -> throw new ELException("tojson indent must be an integer or a string");
        };
        String itemSep = indent == null ? ", " : ",";
        String keySep = ": ";
        if (values[2] instanceof Collection<?> c && c.size() == 2) {
            var it = c.iterator();
            itemSep = String.valueOf(it.next());
            keySep = String.valueOf(it.next());
        } else if (values[2] != null) {
            throw new ELException("tojson separators must be a pair of strings");
        }
        boolean sortKeys = Boolean.TRUE.equals(values[3]);
        return dumps(var, new Style(ensureAscii, indent, itemSep, keySep, sortKeys));
    }

    record Style(boolean ensureAscii, String indent, String itemSep, String keySep, boolean sortKeys) {
        /** {@code json.dumps(x, ensure_ascii=False)}. */
        static final Style DEFAULT = new Style(false, null, ", ", ": ", false);
    }

    static String dumps(Object value, Style style) {
        var out = new StringBuilder();
        write(out, value, style, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, Object v, Style style, int depth) {
        switch (v) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case CharSequence s -> string(out, s.toString(), style.ensureAscii());
            case Character c -> string(out, c.toString(), style.ensureAscii());
            case Double d -> out.append(floatRepr(d));
            case Float f -> out.append(floatRepr(Double.parseDouble(f.toString())));
            case BigDecimal d -> out.append(d.toString());
            case Number n -> out.append(n instanceof BigInteger ? n.toString() : Long.toString(n.longValue()));
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    out.append("{}");
                    return;
                }
                List<Map.Entry<String, Object>> entries = new ArrayList<>();
                for (var e : m.entrySet()) {
                    entries.add(Map.entry(key(e.getKey()), e.getValue() == null ? NULL : e.getValue()));
                }
                if (style.sortKeys()) {
                    entries.sort(Map.Entry.comparingByKey());
                }
                out.append('{');
                boolean first = true;
                for (var e : entries) {
                    if (!first) {
                        out.append(style.itemSep());
                    }
                    first = false;
                    newline(out, style, depth + 1);
                    string(out, e.getKey(), style.ensureAscii());
                    out.append(style.keySep());
                    write(out, e.getValue() == NULL ? null : e.getValue(), style, depth + 1);
                }
                newline(out, style, depth);
                out.append('}');
            }
            case Iterable<?> it -> array(out, it, style, depth);
            case Object[] a -> array(out, List.of(a), style, depth);
            default -> throw new ELException("Object of type " + v.getClass().getSimpleName() + " is not JSON serializable");
        }
    }

    private static final Object NULL = new Object();

    private static void array(StringBuilder out, Iterable<?> items, Style style, int depth) {
        var it = items.iterator();
        if (!it.hasNext()) {
            out.append("[]");
            return;
        }
        out.append('[');
        boolean first = true;
        while (it.hasNext()) {
            if (!first) {
                out.append(style.itemSep());
            }
            first = false;
            newline(out, style, depth + 1);
            write(out, it.next(), style, depth + 1);
        }
        newline(out, style, depth);
        out.append(']');
    }

    private static void newline(StringBuilder out, Style style, int depth) {
        if (style.indent() != null) {
            out.append('\n').append(style.indent().repeat(depth));
        }
    }

    /** Python turns dict keys into strings: {@code 1 -> "1"}, {@code True -> "true"}, {@code None -> "null"}. */
    private static String key(Object k) {
        return switch (k) {
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            case Double d -> floatRepr(d);
            case CharSequence s -> s.toString();
            case Number n -> n.toString();
            default -> throw new ELException("keys must be str, int, float, bool or None, not " + k.getClass().getSimpleName());
        };
    }

    private static void string(StringBuilder out, String s, boolean ensureAscii) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python's {@code repr(float)}: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        // Double.toString gives the shortest digits that round-trip (JDK 19+)
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp10 = digits.length() - 1 - bd.scale();
        String sign = d < 0 ? "-" : "";
        if (exp10 >= -4 && exp10 < 16) {
            String plain = bd.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exp10 < 0 ? "-" : "+") + (Math.abs(exp10) < 10 ? "0" : "") + Math.abs(exp10);
    }
}
