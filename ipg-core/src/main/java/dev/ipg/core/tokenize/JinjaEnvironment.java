package dev.ipg.core.tokenize;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;
import java.util.Map;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * Jinjava set up to render Hugging Face chat templates the way {@code transformers} renders them
 * with Python's jinja2 ({@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)}
 * plus the {@code tojson} filter and the {@code raise_exception} and {@code strftime_now} globals).
 *
 * <p>What differs from a plain {@code new Jinjava()} and why:
 *
 * <ul>
 *   <li>{@code trim_blocks} and {@code lstrip_blocks} on, as in transformers.
 *   <li>Jinjava's legacy overrides that make it behave like jinja2: the {@code -} whitespace
 *       control of expression tags trims (without this Qwen3's template keeps its indentation), filters bind
 *       tighter than arithmetic ({@code messages|length - 1}), dict literal keys are evaluated,
 *       iterating a dict yields its keys, and values print the Python way.
 *   <li>Nested interpretation off: a message that contains template syntax is printed as is.
 *   <li>{@link PyExpressionParser}: keyword arguments take whole expressions and slices take a
 *       step ({@code messages[::-1]}).
 *   <li>{@link PyStringMethods}: Python {@code str} methods ({@code startswith}, {@code split},
 *       {@code lstrip('\n')}, ...) instead of Java's methods of the same name.
 *   <li>{@link PyJson}: {@code tojson} writes {@code json.dumps} output ({@code {"a": 1}}), not
 *       Jinjava's compact JSON.
 *   <li>{@link PyForTag}: loop filters, {@code {% for m in messages if m.role != 'system' %}}.
 *   <li>{@link PyFilters}: jinja2's {@code items}, {@code max} and {@code min} filters.
 *   <li>Booleans print as {@code True} and {@code False}.
 *   <li>Calling a filter or test that does not exist is an error when it is reached, as in jinja2
 *       3; Jinjava would silently render the expression as empty.
 * </ul>
 *
 * <p>Known differences that remain: an expression cannot contain two closing braces in a row (Jinjava
 * ends the tag there, so a nested dict literal must be written with a space between them), None prints as the empty string (jinja2 prints {@code None};
 * undefined prints as the empty string in both), {@code for ... else} and recursive loops are not
 * supported.
 *
 * <p>Jinjava itself already supports {@code namespace()}, {@code loop.*}, negative indices on
 * lists, {@code in} on strings and the {@code defined}, {@code none}, {@code string}, {@code
 * mapping}, {@code false} and {@code true} tests.
 */
final class JinjaEnvironment {

    private final Jinjava jinjava;

    JinjaEnvironment() {
        var resolver = new CompositeELResolver();
        resolver.add(new PyStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        var config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withNestedInterpretationEnabled(false)
                .withFailOnUnknownTokens(false)
                .withElResolver(resolver)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withEvaluateMapKeys(true)
                        .withIterateOverMapKeys(true)
                        .withUsePyishObjectMapper(true)
                        .withKeepNullableLoopValues(true)
                        .withAllowAdjacentTextNodes(true)
                        .build())
                .withInterperterFactory(new PyInterpreterFactory())
                .build();
        jinjava = new PyJinjava(config);
        var globals = jinjava.getGlobalContext();
        globals.registerFilter(new PyJson());
        PyFilters.all().forEach(globals::registerFilter);
        globals.registerTag(new PyForTag());
        globals.registerFunction(new ELFunctionDefinition(
                "", "raise_exception", JinjaEnvironment.class, "raiseException", Object.class));
        globals.registerFunction(new ELFunctionDefinition(
                "", "strftime_now", JinjaEnvironment.class, "strftimeNow", String.class));
    }

    /** Renders {@code template}; throws {@link TemplateFailure} on any fatal error. */
    String render(String template, Map<String, Object> bindings) {
        RenderResult result = jinjava.renderForResult(template, bindings);
        TemplateError fatal = null;
        for (TemplateError e : result.getErrors()) {
            for (Throwable t = e.getException(); t != null; t = t.getCause()) {
                if (t instanceof TemplateFailure f) {
                    throw new TemplateFailure(f.getMessage(), f.raised); // with this stack
                }
            }
            if (fatal == null && e.getSeverity() == TemplateError.ErrorType.FATAL) {
                fatal = e;
            }
        }
        if (fatal != null) {
            String where = fatal.getLineno() > 0 ? "line " + fatal.getLineno() + ": " : "";
            throw new TemplateFailure(where + oneLine(fatal.getMessage()), false);
        }
        return result.getOutput();
    }

    private static String oneLine(String s) {
        return s == null ? "unknown error" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /**
     * A template error; {@code raised} when the template called {@code raise_exception}. Thrown
     * inside Jinjava too, where it is recorded as an error of the render and found again by {@link
     * #render}.
     */
    static final class TemplateFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final boolean raised;

        TemplateFailure(String message, boolean raised) {
            super(message);
            this.raised = raised;
        }
    }

    /** The template global {@code raise_exception(message)}. */
    static Object raiseException(Object message) {
        throw new TemplateFailure(String.valueOf(message), true);
    }

    /**
     * The template global {@code strftime_now(format)}: the local time formatted with the C
     * {@code strftime} codes templates use ({@code %d %m %Y %y %H %M %S %b %B %a %A %j %p %%}).
     */
    static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(), format);
    }

    static String strftime(ZonedDateTime t, String format) {
        var out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char code = format.charAt(++i);
            switch (code) {
                case 'd' -> out.append(String.format("%02d", t.getDayOfMonth()));
                case 'm' -> out.append(String.format("%02d", t.getMonthValue()));
                case 'Y' -> out.append(t.getYear());
                case 'y' -> out.append(String.format("%02d", t.getYear() % 100));
                case 'H' -> out.append(String.format("%02d", t.getHour()));
                case 'I' -> out.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'M' -> out.append(String.format("%02d", t.getMinute()));
                case 'S' -> out.append(String.format("%02d", t.getSecond()));
                case 'j' -> out.append(String.format("%03d", t.getDayOfYear()));
                case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
                case 'b' -> out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case '%' -> out.append('%');
                default -> out.append('%').append(code);
            }
        }
        return out.toString();
    }

    /** Interpreters that print booleans as Python does: {@code True}, {@code False}. */
    private static final class PyInterpreterFactory implements InterpreterFactory {
        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
            return new PyInterpreter(orig);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig config) {
            return new PyInterpreter(application, context, config);
        }
    }

    private static final class PyInterpreter extends JinjavaInterpreter {
        PyInterpreter(JinjavaInterpreter orig) {
            super(orig);
        }

        PyInterpreter(Jinjava application, Context context, JinjavaConfig config) {
            super(application, context, config);
        }

        @Override
        public String getAsString(Object object) {
            if (object instanceof Boolean b) {
                return b ? "True" : "False";
            }
            return super.getAsString(object);
        }
    }

    /** Jinjava whose expressions are parsed by {@link PyExpressionParser}. */
    private static final class PyJinjava extends Jinjava {
        private final ExpressionFactory factory = new ExpressionFactoryImpl(
                new TreeStore(new PyExpressionParser.PyBuilder(), new Cache(256)), new TruthyTypeConverter());

        PyJinjava(JinjavaConfig config) {
            super(config);
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return factory;
        }
    }
}
