package dev.ipg.core.tokenize;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstIdentifier;
import jinjava.de.odysseus.el.tree.impl.ast.AstMethod;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.de.odysseus.el.tree.impl.ast.AstProperty;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;

/**
 * Jinjava's expression parser with the pieces of Python syntax and semantics that Hugging Face chat templates
 * use and Jinjava 2.8 parses differently:
 *
 * <ul>
 *   <li>Keyword arguments take a whole expression: {@code namespace(i=messages|length - 1)} is
 *       {@code i=(messages|length - 1)}. Jinjava treats {@code =} as a binary operator at the level
 *       of {@code +} and {@code -}, so it parses {@code (i=messages|length) - 1}.
 *   <li>Subscripts are Python slices with an optional step, {@code [start:stop:step]}, each part
 *       optional, with Python's clamping and negative indices, on lists and strings (by code
 *       point): {@code messages[::-1]}, {@code text[-3:]}. Jinjava only knows {@code [a:b]}.
 *   <li>Division and modulo by zero raise an error (Python's ZeroDivisionError); Jinjava
 *       renders {@code 1/0} as {@code Infinity}.
 *   <li>A filter or test that does not exist is an error when the expression is evaluated (jinja2
 *       3 raises "No filter named ..."); Jinjava evaluates it to nothing and renders an empty
 *       string.
 * </ul>
 *
 * <p>It relies on Jinjava's "natural operator precedence" (filters bind tighter than arithmetic),
 * which {@link JinjaEnvironment} always turns on; {@link #value()} then never parses filters or
 * tests itself, as in {@link ExtendedParser}.
 */
final class PyExpressionParser extends ExtendedParser {

    /** Builds trees with {@link PyExpressionParser}; features as Jinjava's default factory. */
    static final class PyBuilder extends ExtendedSyntaxBuilder {
        private static final long serialVersionUID = 1L;

        PyBuilder() {
            super(Builder.Feature.METHOD_INVOCATIONS, Builder.Feature.VARARGS);
        }

        @Override
        protected Parser createParser(String expression) {
            return new PyExpressionParser(this, expression);
        }
    }

    PyExpressionParser(Builder context, String input) {
        super(context, input);
    }

    @Override
    protected AstParameters params(Symbol left, Symbol right)
            throws Scanner.ScanException, ParseException {
        consumeToken(left);
        List<AstNode> args = new ArrayList<>();
        AstNode arg = argument(false);
        if (arg != null) {
            args.add(arg);
            while (getToken().getSymbol() == Symbol.COMMA) {
                consumeToken();
                if (getToken().getSymbol() == right) {
                    break; // Python allows a trailing comma: f(a, b,)
                }
                args.add(argument(true));
            }
        }
        consumeToken(right);
        return createAstParameters(args);
    }

    /** One call argument: {@code name=expression} or an expression. */
    private AstNode argument(boolean required) throws Scanner.ScanException, ParseException {
        if (getToken().getSymbol() == Symbol.IDENTIFIER && "=".equals(lookahead(0).getImage())) {
            String name = consumeToken().getImage();
            consumeToken(); // '='
            return new AstNamedParameter(identifier(name), expr(true));
        }
        return expr(required);
    }

    /** Jinjava calls a filter as {@code filter:NAME.filter(...)} and a test as {@code exptest:NAME.evaluate(...)}. */
    @Override
    protected AstDot createAstDot(AstNode base, String name, boolean lvalue) {
        if (base instanceof AstIdentifier id
                && (id.getName().startsWith(FILTER_PREFIX) || id.getName().startsWith(EXPTEST_PREFIX))) {
            return new LibraryDot(base, name, lvalue, id.getName());
        }
        return super.createAstDot(base, name, lvalue);
    }

    @Override
    protected AstMethod createAstMethod(AstProperty property, AstParameters params) {
        if (property instanceof LibraryDot dot) {
            return new LibraryCall(dot, params);
        }
        return super.createAstMethod(property, params);
    }

    /** Division and modulo by zero are errors, as in Python (EL gives Infinity or NaN and the template prints it). */
    @Override
    protected AstBinary createAstBinary(AstNode left, AstNode right, AstBinary.Operator operator) {
        if (operator == AstBinary.DIV || operator == AstBinary.MOD) {
            return super.createAstBinary(left, right, new CheckedDivision(operator));
        }
        return super.createAstBinary(left, right, operator);
    }

    /** {@code /} or {@code %} whose non-finite result (a zero divisor) ends the render. */
    private record CheckedDivision(AstBinary.Operator op) implements AstBinary.Operator {
        @Override
        public Object eval(Bindings bindings, ELContext context, AstNode left, AstNode right) {
            String zero = (op == AstBinary.DIV ? "division" : "modulo") + " by zero";
            Object v;
            try {
                v = op.eval(bindings, context, left, right);
            } catch (ArithmeticException e) {
                throw new JinjaEnvironment.TemplateFailure(zero, false); // integer modulo
            }
            if (v instanceof Number n && !Double.isFinite(n.doubleValue())) {
                throw new JinjaEnvironment.TemplateFailure(zero, false);
            }
            return op == AstBinary.MOD && v instanceof Number n ? pythonModulo(n, right.eval(bindings, context)) : v;
        }

        /**
         * EL's remainder takes the sign of the dividend (-7 % 3 is -1); Python's and so jinja2's
         * takes the sign of the divisor (-7 % 3 is 2): a non-zero remainder whose sign differs
         * from the divisor's moves by one divisor.
         */
        private static Object pythonModulo(Number remainder, Object divisor) {
            if (!(divisor instanceof Number d)) {
                return remainder;
            }
            double r = remainder.doubleValue();
            double dv = d.doubleValue();
            if (r == 0 || (r < 0) == (dv < 0)) {
                return remainder;
            }
            if (remainder instanceof Double || remainder instanceof Float || d instanceof Double || d instanceof Float) {
                return r + dv;
            }
            return remainder.longValue() + d.longValue();
        }

        @Override
        public String toString() {
            return op.toString();
        }
    }

    /** {@code filter:NAME.filter} or {@code exptest:NAME.evaluate}. */
    private static final class LibraryDot extends AstDot {
        final String entry; // "filter:NAME" or "exptest:NAME"

        LibraryDot(AstNode base, String property, boolean lvalue, String entry) {
            super(base, property, lvalue);
            this.entry = entry;
        }
    }

    /** A filter or test call that fails when the filter or test does not exist. */
    private static final class LibraryCall extends AstMethod {
        private final String entry;

        LibraryCall(LibraryDot dot, AstParameters params) {
            super(dot, params);
            this.entry = dot.entry;
        }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            if (context.getELResolver().getValue(context, null, INTERPRETER) instanceof JinjavaInterpreter interpreter) {
                boolean filter = entry.startsWith(FILTER_PREFIX);
                String name = entry.substring(entry.indexOf(':') + 1);
                var library = interpreter.getContext();
                if (filter ? library.getFilter(name) == null : library.getExpTest(name) == null) {
                    throw new JinjaEnvironment.TemplateFailure(
                            "no " + (filter ? "filter" : "test") + " named '" + name + "'", false);
                }
            }
            return super.eval(bindings, context);
        }
    }

    @Override
    protected AstNode value() throws Scanner.ScanException, ParseException {
        boolean lvalue = true;
        AstNode v = nonliteral();
        if (v == null) {
            v = literal();
            if (v == null) {
                return null;
            }
            lvalue = false;
        }
        boolean methods = context.isEnabled(Builder.Feature.METHOD_INVOCATIONS);
        while (true) {
            switch (getToken().getSymbol()) {
                case DOT -> {
                    consumeToken();
                    String name = consumeToken(Symbol.IDENTIFIER).getImage();
                    AstDot dot = createAstDot(v, name, lvalue);
                    v = getToken().getSymbol() == Symbol.LPAREN && methods
                            ? createAstMethod(dot, params())
                            : dot;
                }
                case LBRACK -> {
                    consumeToken();
                    AstNode first = expr(false);
                    if (getToken().getSymbol() == Symbol.COLON) {
                        consumeToken();
                        AstNode stop = expr(false);
                        AstNode step = null;
                        if (getToken().getSymbol() == Symbol.COLON) {
                            consumeToken();
                            step = expr(false);
                        }
                        consumeToken(Symbol.RBRACK);
                        v = new Slice(v, first, stop, step);
                    } else {
                        if (first == null) {
                            fail("an index");
                        }
                        consumeToken(Symbol.RBRACK);
                        boolean strict = !context.isEnabled(Builder.Feature.NULL_PROPERTIES);
                        var bracket = createAstBracket(v, first, lvalue, strict);
                        v = getToken().getSymbol() == Symbol.LPAREN && methods
                                ? createAstMethod(bracket, params())
                                : bracket;
                    }
                }
                default -> {
                    return v;
                }
            }
        }
    }

    /** {@code base[start:stop:step]} with Python semantics; a new list, or a string. */
    static final class Slice extends AstRightValue {
        private final AstNode base;
        private final AstNode start;
        private final AstNode stop;
        private final AstNode step;

        Slice(AstNode base, AstNode start, AstNode stop, AstNode step) {
            this.base = base;
            this.start = start;
            this.stop = stop;
            this.step = step;
        }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            Object value = base.eval(bindings, context);
            Integer from = bound(start, bindings, context);
            Integer to = bound(stop, bindings, context);
            Integer by = bound(step, bindings, context);
            if (value instanceof CharSequence s) {
                int[] cps = s.toString().codePoints().toArray();
                int[] idx = indices(cps.length, from, to, by);
                var out = new StringBuilder();
                for (int i : idx) {
                    out.appendCodePoint(cps[i]);
                }
                return out.toString();
            }
            List<?> list;
            if (value instanceof List<?> l) {
                list = l;
            } else if (value instanceof Collection<?> c) {
                list = new ArrayList<>(c);
            } else if (value instanceof Object[] a) {
                list = List.of(a);
            } else {
                throw new ELException("cannot slice " + (value == null ? "none" : value.getClass().getSimpleName()));
            }
            List<Object> out = new ArrayList<>();
            for (int i : indices(list.size(), from, to, by)) {
                out.add(list.get(i));
            }
            return out;
        }

        private static Integer bound(AstNode node, Bindings bindings, ELContext context) {
            if (node == null) {
                return null;
            }
            Object v = node.eval(bindings, context);
            if (v == null) {
                return null; // x[none:] is x[:]
            }
            if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
                return n.intValue();
            }
            throw new ELException("slice indices must be integers or none, not " + v);
        }

        /** The indices Python's {@code slice(from, to, by).indices(length)} walks through. */
        static int[] indices(int length, Integer from, Integer to, Integer by) {
            int step = by == null ? 1 : by;
            if (step == 0) {
                throw new ELException("slice step cannot be zero");
            }
            int lower = step > 0 ? 0 : -1;
            int upper = step > 0 ? length : length - 1;
            int begin = from == null ? (step > 0 ? lower : upper) : clamp(from, length, lower, upper);
            int end = to == null ? (step > 0 ? upper : lower) : clamp(to, length, lower, upper);
            int count = step > 0
                    ? (end > begin ? (end - begin + step - 1) / step : 0)
                    : (begin > end ? (begin - end - step - 1) / -step : 0);
            int[] out = new int[count];
            for (int k = 0, i = begin; k < count; k++, i += step) {
                out[k] = i;
            }
            return out;
        }

        private static int clamp(int i, int length, int lower, int upper) {
            if (i < 0) {
                i += length;
                return Math.max(i, lower);
            }
            return Math.min(i, upper);
        }

        @Override
        public void appendStructure(StringBuilder b, Bindings bindings) {
            base.appendStructure(b, bindings);
            b.append('[');
            if (start != null) {
                start.appendStructure(b, bindings);
            }
            b.append(':');
            if (stop != null) {
                stop.appendStructure(b, bindings);
            }
            if (step != null) {
                b.append(':');
                step.appendStructure(b, bindings);
            }
            b.append(']');
        }

        @Override
        public int getCardinality() {
            return 4;
        }

        @Override
        public AstNode getChild(int i) {
            return switch (i) {
                case 0 -> base;
                case 1 -> start;
                case 2 -> stop;
                case 3 -> step;
                default -> null;
            };
        }

        @Override
        public String toString() {
            return "[::]";
        }
    }
}
