package dev.ipg.core.signal;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.regex.Pattern;

/**
 * An exact rational number num/den in lowest terms with den > 0, so that record equality is
 * numeric equality (0.5 = 1/2 = \frac{2}{4}, but 0.33 != 1/3).
 */
record Rational(BigInteger num, BigInteger den) {

    private static final Pattern DECIMAL = Pattern.compile("\\d+(?:\\.\\d*)?|\\.\\d+");
    private static final Pattern MIXED = Pattern.compile("(\\d+)\\\\frac\\{(\\d+)\\}\\{(\\d+)\\}");

    Rational {
        if (den.signum() == 0) {
            throw new ArithmeticException("zero denominator");
        }
        if (den.signum() < 0) {
            num = num.negate();
            den = den.negate();
        }
        var g = num.gcd(den);
        if (!g.equals(BigInteger.ONE) && g.signum() != 0) {
            num = num.divide(g);
            den = den.divide(g);
        }
        if (num.signum() == 0) {
            den = BigInteger.ONE;
        }
    }

    static Rational of(BigDecimal d) {
        return d.scale() <= 0
                ? new Rational(d.toBigIntegerExact(), BigInteger.ONE)
                : new Rational(d.unscaledValue(), BigInteger.TEN.pow(d.scale()));
    }

    Rational add(Rational o) {
        return new Rational(num.multiply(o.den).add(o.num.multiply(den)), den.multiply(o.den));
    }

    Rational divide(Rational o) {
        return new Rational(num.multiply(o.den), den.multiply(o.num));
    }

    Rational negate() {
        return new Rational(num.negate(), den);
    }

    /**
     * The value of a normalized answer (no whitespace) when it is one of: a decimal ({@code 12},
     * {@code 025}, {@code 3.50}, {@code .5}), a fraction {@code a/b} of decimals, {@code \frac{a}{b}}
     * whose parts are themselves numbers, a mixed number {@code 1\frac{4}{5}} (= 9/5), each with
     * an optional leading sign. Anything else, or a zero denominator, gives {@code null}.
     */
    static Rational parse(String s) {
        if (s.isEmpty()) {
            return null;
        }
        char c = s.charAt(0);
        if (c == '-' || c == '+') {
            String rest = s.substring(1);
            if (rest.isEmpty() || rest.charAt(0) == '-' || rest.charAt(0) == '+') {
                return null;
            }
            var r = parse(rest);
            return r == null ? null : c == '-' ? r.negate() : r;
        }
        if (DECIMAL.matcher(s).matches()) {
            return of(new BigDecimal(s.startsWith(".") ? "0" + s : s));
        }
        var mixed = MIXED.matcher(s);
        if (mixed.matches()) {
            var den = new BigInteger(mixed.group(3));
            if (den.signum() == 0) {
                return null;
            }
            return new Rational(new BigInteger(mixed.group(1)), BigInteger.ONE)
                    .add(new Rational(new BigInteger(mixed.group(2)), den));
        }
        if (s.startsWith("\\frac{")) {
            int end1 = Latex.closingBrace(s, 5);
            if (end1 < 0 || end1 + 1 >= s.length() || s.charAt(end1 + 1) != '{') {
                return null;
            }
            int end2 = Latex.closingBrace(s, end1 + 1);
            if (end2 != s.length() - 1) {
                return null;
            }
            return quotient(parse(s.substring(6, end1)), parse(s.substring(end1 + 2, end2)));
        }
        int slash = s.indexOf('/');
        if (slash > 0 && slash == s.lastIndexOf('/')) {
            String a = s.substring(0, slash), b = s.substring(slash + 1);
            if (a.contains("\\") || b.contains("\\")) {
                return null;
            }
            return quotient(parse(a), parse(b));
        }
        return null;
    }

    private static Rational quotient(Rational a, Rational b) {
        if (a == null || b == null || b.num.signum() == 0) {
            return null;
        }
        return a.divide(b);
    }
}
