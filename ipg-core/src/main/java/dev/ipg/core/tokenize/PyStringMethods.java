package dev.ipg.core.tokenize;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;

/**
 * Python {@code str} methods on Java strings inside templates: {@code s.startswith('x')},
 * {@code s.split('</think>')[-1].lstrip('\n')}. Jinjava would otherwise call the Java method of the
 * same name ({@code split} takes a regex and drops trailing empty parts, {@code strip} takes no
 * argument) or fail. Only method calls on strings are handled; everything else falls through to
 * Jinjava's own resolvers.
 */
final class PyStringMethods extends ELResolver {

    static final Set<String> METHODS = Set.of(
            "startswith", "endswith", "split", "rsplit", "splitlines", "strip", "lstrip", "rstrip",
            "upper", "lower", "title", "capitalize", "replace", "find", "rfind", "count", "join",
            "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper");

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
        if (!(base instanceof String s) || !(method instanceof String name) || !METHODS.contains(name)) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result = call(s, name, args);
        context.setPropertyResolved(true);
        return result;
    }

    /** Calls Python's {@code s.name(*args)}. */
    static Object call(String s, String name, Object[] args) {
        return switch (name) {
            case "startswith" -> affix(s, name, args, true);
            case "endswith" -> affix(s, name, args, false);
            case "split" -> split(s, str(arg(args, 0, name, 2)), maxsplit(arg(args, 1, name, 2)));
            case "rsplit" -> rsplit(s, str(arg(args, 0, name, 2)), maxsplit(arg(args, 1, name, 2)));
            case "splitlines" -> splitlines(s, truthy(arg(args, 0, name, 1)));
            case "strip" -> strip(s, str(arg(args, 0, name, 1)), true, true);
            case "lstrip" -> strip(s, str(arg(args, 0, name, 1)), true, false);
            case "rstrip" -> strip(s, str(arg(args, 0, name, 1)), false, true);
            case "upper" -> noArgs(s, name, args).toUpperCase(Locale.ROOT);
            case "lower" -> noArgs(s, name, args).toLowerCase(Locale.ROOT);
            case "title" -> title(noArgs(s, name, args));
            case "capitalize" -> capitalize(noArgs(s, name, args));
            case "replace" -> replace(s, requiredStr(args, 0, name, 3), requiredStr(args, 1, name, 3),
                    maxsplit(arg(args, 2, name, 3)));
            case "find" -> find(s, requiredStr(args, 0, name, 1), false);
            case "rfind" -> find(s, requiredStr(args, 0, name, 1), true);
            case "count" -> count(s, requiredStr(args, 0, name, 1));
            case "join" -> join(s, arg(args, 0, name, 1));
            case "isdigit" -> all(noArgs(s, name, args), Character::isDigit);
            case "isalpha" -> all(noArgs(s, name, args), Character::isLetter);
            case "isalnum" -> all(noArgs(s, name, args), Character::isLetterOrDigit);
            case "isspace" -> all(noArgs(s, name, args), PyStringMethods::isPySpace);
            case "islower" -> cased(noArgs(s, name, args), true);
            case "isupper" -> cased(noArgs(s, name, args), false);
            default -> throw new IllegalStateException("unhandled str method " + name);
        };
    }

    private static Object arg(Object[] args, int i, String name, int max) {
        if (args.length > max) {
            throw new ELException("str." + name + "() takes at most " + max + " arguments (" + args.length + " given)");
        }
        return i < args.length ? args[i] : null;
    }

    private static String noArgs(String s, String name, Object[] args) {
        arg(args, 0, name, 0);
        return s;
    }

    private static String str(Object o) {
        if (o == null) {
            return null;
        }
        if (o instanceof CharSequence cs) {
            return cs.toString();
        }
        throw new ELException("expected a string argument, got " + o);
    }

    private static String requiredStr(Object[] args, int i, String name, int max) {
        String v = str(arg(args, i, name, max));
        if (v == null) {
            throw new ELException("str." + name + "() is missing a string argument");
        }
        return v;
    }

    private static int maxsplit(Object o) {
        if (o == null) {
            return -1;
        }
        if (o instanceof Number n) {
            return n.intValue();
        }
        throw new ELException("expected an integer argument, got " + o);
    }

    private static boolean truthy(Object o) {
        return o instanceof Boolean b ? b : o != null;
    }

    /** Python's {@code str.isspace()} characters (Unicode White_Space plus the ASCII separators). */
    static boolean isPySpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x1c || c == 0x1d
                || c == 0x1e || c == 0x1f || c == 0x85;
    }

    private static boolean affix(String s, String name, Object[] args, boolean prefix) {
        Object what = arg(args, 0, name, 3);
        if (what == null) {
            throw new ELException("str." + name + "() is missing its argument");
        }
        int n = s.length();
        int begin = args.length > 1 && args[1] != null ? clampIndex(maxsplit(args[1]), n) : 0;
        int end = args.length > 2 && args[2] != null ? clampIndex(maxsplit(args[2]), n) : n;
        if (begin > end) {
            return false;
        }
        String sub = s.substring(begin, end);
        Collection<?> options = what instanceof Collection<?> c ? c : List.of(what);
        for (Object o : options) {
            String p = str(o);
            if (p != null && (prefix ? sub.startsWith(p) : sub.endsWith(p))) {
                return true;
            }
        }
        return false;
    }

    private static int clampIndex(int i, int n) {
        return i < 0 ? Math.max(0, i + n) : Math.min(i, n);
    }

    static List<String> split(String s, String sep, int maxsplit) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isPySpace(s.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    return out;
                }
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    int e = n;
                    while (e > i && isPySpace(s.charAt(e - 1))) {
                        e--;
                    }
                    out.add(s.substring(i, e));
                    return out;
                }
                int j = i;
                while (j < n && !isPySpace(s.charAt(j))) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            }
        }
        if (sep.isEmpty()) {
            throw new ELException("empty separator");
        }
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) {
                break;
            }
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static List<String> rsplit(String s, String sep, int maxsplit) {
        if (maxsplit < 0) {
            return split(s, sep, -1);
        }
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int j = s.length();
            while (true) {
                while (j > 0 && isPySpace(s.charAt(j - 1))) {
                    j--;
                }
                if (j == 0) {
                    break;
                }
                if (out.size() == maxsplit) {
                    int b = 0;
                    while (b < j && isPySpace(s.charAt(b))) {
                        b++;
                    }
                    out.add(s.substring(b, j));
                    break;
                }
                int i = j;
                while (i > 0 && !isPySpace(s.charAt(i - 1))) {
                    i--;
                }
                out.add(s.substring(i, j));
                j = i;
            }
            return out.reversed();
        }
        if (sep.isEmpty()) {
            throw new ELException("empty separator");
        }
        int end = s.length();
        while (out.size() < maxsplit) {
            int at = s.lastIndexOf(sep, end - sep.length());
            if (at < 0) {
                break;
            }
            out.add(s.substring(at + sep.length(), end));
            end = at;
        }
        out.add(s.substring(0, end));
        return out.reversed();
    }

    private static List<String> splitlines(String s, boolean keepends) {
        List<String> out = new ArrayList<>();
        int n = s.length();
        int start = 0;
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            int eol;
            if (c == '\r' && i + 1 < n && s.charAt(i + 1) == '\n') {
                eol = 2;
            } else if (c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d
                    || c == 0x1e || c == 0x85 || c == 0x2028 || c == 0x2029) {
                eol = 1;
            } else {
                i++;
                continue;
            }
            out.add(s.substring(start, keepends ? i + eol : i));
            i += eol;
            start = i;
        }
        if (start < n) {
            out.add(s.substring(start));
        }
        return out;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0;
        int e = s.length();
        if (chars == null) {
            while (left && b < e && isPySpace(s.charAt(b))) {
                b++;
            }
            while (right && e > b && isPySpace(s.charAt(e - 1))) {
                e--;
            }
            return s.substring(b, e);
        }
        // chars is a set of code points; walk by code point so surrogate pairs stay whole
        while (left && b < e) {
            int cp = s.codePointAt(b);
            if (chars.indexOf(cp) < 0) {
                break;
            }
            b += Character.charCount(cp);
        }
        while (right && e > b) {
            int cp = s.codePointBefore(e);
            if (chars.indexOf(cp) < 0) {
                break;
            }
            e -= Character.charCount(cp);
        }
        return s.substring(b, e);
    }

    private static String title(String s) {
        var out = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
            out.appendCodePoint(prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
            prevCased = cased;
        }
        return out.toString();
    }

    private static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        int n = Character.charCount(first);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(first))
                .append(s.substring(n).toLowerCase(Locale.ROOT)).toString();
    }

    private static String replace(String s, String old, String repl, int count) {
        if (count < 0) {
            return s.replace(old, repl);
        }
        var out = new StringBuilder();
        int from = 0;
        for (int k = 0; k < count; k++) {
            if (old.isEmpty()) {
                if (from > s.length()) {
                    break;
                }
                out.append(repl);
                if (from < s.length()) {
                    int cp = s.codePointAt(from);
                    out.appendCodePoint(cp);
                    from += Character.charCount(cp);
                } else {
                    from++;
                }
                continue;
            }
            int at = s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            out.append(s, from, at).append(repl);
            from = at + old.length();
        }
        if (from <= s.length()) {
            out.append(s, from, s.length());
        }
        return out.toString();
    }

    private static long find(String s, String sub, boolean last) {
        int at = last ? s.lastIndexOf(sub) : s.indexOf(sub);
        return at < 0 ? -1 : s.codePointCount(0, at);
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String join(String sep, Object items) {
        Iterable<?> it;
        if (items instanceof Iterable<?> i) {
            it = i;
        } else if (items instanceof Object[] a) {
            it = List.of(a);
        } else if (items instanceof CharSequence cs) {
            it = cs.codePoints().mapToObj(Character::toString).toList();
        } else {
            throw new ELException("str.join() needs a sequence of strings, got " + items);
        }
        var out = new StringBuilder();
        boolean first = true;
        for (Object o : it) {
            if (!(o instanceof CharSequence)) {
                throw new ELException("str.join() expects strings, found " + o);
            }
            if (!first) {
                out.append(sep);
            }
            out.append(o);
            first = false;
        }
        return out.toString();
    }

    private static boolean all(String s, java.util.function.IntPredicate p) {
        return !s.isEmpty() && s.codePoints().allMatch(p);
    }

    private static boolean cased(String s, boolean lower) {
        boolean any = false;
        for (int cp : s.codePoints().toArray()) {
            if (lower ? Character.isUpperCase(cp) || Character.isTitleCase(cp) : Character.isLowerCase(cp)) {
                return false;
            }
            any |= lower ? Character.isLowerCase(cp) : Character.isUpperCase(cp);
        }
        return any;
    }

    // The resolver never answers property look-ups; only invoke() above.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // not ours
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
