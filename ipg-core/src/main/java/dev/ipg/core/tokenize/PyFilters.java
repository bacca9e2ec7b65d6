package dev.ipg.core.tokenize;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.ELException;

/** jinja2 built-in filters that Jinjava 2.8 lacks: {@code items}, {@code max}, {@code min}. */
final class PyFilters {

    private PyFilters() {}

    static List<Filter> all() {
        return List.of(new Items(), new Extreme("max", 1), new Extreme("min", -1));
    }

    /** {@code d | items}: the (key, value) pairs of a mapping, for {@code for k, v in d | items}. */
    static final class Items implements Filter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            if (var == null) {
                return List.of();
            }
            if (!(var instanceof Map<?, ?> map)) {
                throw new ELException("items filter: can only get item pairs from a mapping");
            }
            List<Map.Entry<Object, Object>> out = new ArrayList<>(map.size());
            for (var e : map.entrySet()) {
                out.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue()));
            }
            return out;
        }
    }

    /**
     * {@code xs | max(case_sensitive=false, attribute=none)} and {@code min}: the largest or
     * smallest item; strings compare without case unless asked; none for an empty sequence.
     */
    static final class Extreme implements Filter {
        private final String name;
        private final int sign;

        Extreme(String name, int sign) {
            this.name = name;
            this.sign = sign;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            boolean caseSensitive = Boolean.TRUE.equals(args.length > 0 ? args[0] : kwargs.get("case_sensitive"));
            Object attribute = args.length > 1 ? args[1] : kwargs.get("attribute");
            Iterable<?> items = switch (var) {
                case null -> List.of();
                case Iterable<?> it -> it;
                case Map<?, ?> m -> m.keySet();
                case CharSequence s -> s.codePoints().mapToObj(Character::toString).toList();
                default -> throw new ELException(name + " filter: not a sequence: " + var);
            };
            Object best = null;
            Object bestKey = null;
            for (Object item : items) {
                Object key = attribute == null ? item : item instanceof Map<?, ?> m ? m.get(String.valueOf(attribute)) : null;
                if (key instanceof CharSequence s && !caseSensitive) {
                    key = s.toString().toLowerCase(Locale.ROOT);
                }
                if (best == null || sign * compare(key, bestKey) > 0) {
                    best = item;
                    bestKey = key;
                }
            }
            return best;
        }

        private int compare(Object a, Object b) {
            if (a instanceof Number x && b instanceof Number y) {
                return Double.compare(x.doubleValue(), y.doubleValue());
            }
            if (a instanceof CharSequence x && b instanceof CharSequence y) {
                return x.toString().compareTo(y.toString());
            }
            if (a instanceof Boolean x && b instanceof Boolean y) {
                return Boolean.compare(x, y);
            }
            throw new ELException(name + " filter: cannot compare " + a + " and " + b);
        }
    }
}
