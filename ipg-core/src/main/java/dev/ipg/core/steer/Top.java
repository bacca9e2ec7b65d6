package dev.ipg.core.steer;

import dev.ipg.core.IpgException;
import java.math.BigDecimal;
import java.util.Locale;

/**
 * How many components a selection keeps: a percentage of the site's width or a count. On the
 * command line these are {@code --top-percent P} and {@code --top-count K}, in an intervention
 * spec {@code top-percent=P} and {@code top-count=K}; the unit is in the name, so {@code 5} is
 * never read as 5 % by accident.
 */
public sealed interface Top {

    /** The number of components kept out of {@code width}. */
    int size(int width);

    /**
     * {@code percent} % of the width, rounded to the nearest integer (halves up), and at least
     * one component when {@code percent > 0}: 5 % of 32 is 2, 50 % of 3 is 2, 100 % is all.
     */
    record Percent(double percent) implements Top {
        public Percent {
            if (!(percent >= 0 && percent <= 100)) {
                throw new IpgException("top-percent " + BigDecimal.valueOf(percent).stripTrailingZeros().toPlainString()
                        + " is not a percentage in [0, 100]");
            }
        }

        @Override
        public int size(int width) {
            // BigDecimal: 5% of 40 is exactly 2, not 2.0000000000000004
            long n = new BigDecimal(Double.toString(percent)).multiply(BigDecimal.valueOf(width))
                    .divide(BigDecimal.valueOf(100)).setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
            if (percent > 0 && n == 0) {
                n = 1;
            }
            return (int) Math.min(n, width);
        }

        @Override
        public String toString() {
            return BigDecimal.valueOf(percent).stripTrailingZeros().toPlainString() + "%";
        }
    }

    /** Exactly {@code k} components (all of them when the site is narrower). */
    record Count(int k) implements Top {
        public Count {
            if (k < 0) {
                throw new IpgException("top-count must be >= 0, got " + k);
            }
        }

        @Override
        public int size(int width) {
            return Math.min(k, width);
        }

        @Override
        public String toString() {
            return Integer.toString(k);
        }
    }

    /** Parses the value of {@code top-percent}: a number in [0, 100], a trailing '%' allowed ({@code 5}, {@code 2.5%}). */
    static Percent percent(String s) {
        String t = s == null ? "" : s.strip();
        if (t.endsWith("%")) {
            t = t.substring(0, t.length() - 1).strip();
        }
        try {
            double p = Double.parseDouble(t);
            if (!t.isEmpty() && Character.isDigit(t.charAt(t.length() - 1))) {
                return new Percent(p);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IpgException("top-percent '" + s + "' is not a number (expected a percentage such as 5 or 2.5)");
    }

    /** Parses the value of {@code top-count}: a whole number >= 0. */
    static Count count(String s) {
        String t = s == null ? "" : s.strip();
        try {
            return new Count(Integer.parseInt(t));
        } catch (NumberFormatException e) {
            throw new IpgException("top-count '" + s + "' is not a whole number (expected a count such as 20)");
        }
    }

    /** Reads a size as run files record it (its {@code toString()}): {@code 5%} is a percentage, {@code 12} a count. */
    static Top recorded(String s) {
        return s != null && s.strip().endsWith("%") ? percent(s) : count(s);
    }

    /** How the selection reads in descriptions: "top 5%" or "top 12". */
    static String format(Top top) {
        return top.toString().toLowerCase(Locale.ROOT);
    }

    /** The intervention-spec option that gives this size back: {@code top-percent=5} or {@code top-count=12}. */
    default String specOption() {
        return this instanceof Percent p ? "top-percent=" + BigDecimal.valueOf(p.percent()).stripTrailingZeros().toPlainString()
                : "top-count=" + this;
    }
}
