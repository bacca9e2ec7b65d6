package dev.ipg.core.tokenize;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.parse.TagToken;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.ObjectIterator;
import com.hubspot.jinjava.util.ObjectTruthValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Jinjava's {@code for} tag plus jinja2's loop filter, {@code {% for m in messages if m.role !=
 * 'system' %}}: items for which the condition is false are skipped before the loop starts, so
 * {@code loop.index}, {@code loop.length} and {@code loop.last} count only the others, as in
 * jinja2. Jinjava would otherwise read {@code messages if cond} as a conditional expression and
 * loop over everything.
 */
final class PyForTag extends ForTag {

    private static final long serialVersionUID = 1L;

    @Override
    public String interpretUnchecked(TagNode tagNode, JinjavaInterpreter interpreter) {
        var varsAndExpr = getLoopVarsAndExpression((TagToken) tagNode.getMaster());
        List<String> vars = varsAndExpr.getLeft();
        String expr = varsAndExpr.getRight();
        int at = topLevelIf(expr);
        if (at < 0) {
            return super.interpretUnchecked(tagNode, interpreter);
        }
        String sequence = expr.substring(0, at).trim();
        String condition = expr.substring(at + 2).trim();
        Object collection = interpreter.resolveELExpression(sequence, tagNode.getLineNumber());
        List<Object> kept = new ArrayList<>();
        ForLoop items = ObjectIterator.getLoop(collection);
        while (items.hasNext()) {
            Object item = items.next();
            try (var _ = interpreter.enterScope()) {
                bind(interpreter, vars, interpreter.wrap(item));
                if (ObjectTruthValue.evaluate(interpreter.resolveELExpression(condition, tagNode.getLineNumber()))) {
                    kept.add(item);
                }
            }
        }
        return renderForCollection(tagNode, interpreter, vars, kept);
    }

    /** Binds the loop variables to one item the way the loop body will see it. */
    private static void bind(JinjavaInterpreter interpreter, List<String> vars, Object item) {
        var context = interpreter.getContext();
        if (vars.size() == 1) {
            context.put(vars.get(0), item);
            return;
        }
        for (int i = 0; i < vars.size(); i++) {
            Object v = null;
            if (item instanceof Map.Entry<?, ?> e) {
                v = i == 0 ? e.getKey() : i == 1 ? e.getValue() : null;
            } else if (item instanceof List<?> l && i < l.size()) {
                v = l.get(i);
            }
            context.put(vars.get(i), v);
        }
    }

    /** Index of the word {@code if} outside strings and brackets in {@code expr}, or -1. */
    static int topLevelIf(String expr) {
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < expr.length(); i++) {
            char c = expr.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (depth == 0 && c == 'i' && expr.startsWith("if", i)
                    && (i == 0 || !isNamePart(expr.charAt(i - 1)))
                    && (i + 2 == expr.length() || !isNamePart(expr.charAt(i + 2)))) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isNamePart(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
