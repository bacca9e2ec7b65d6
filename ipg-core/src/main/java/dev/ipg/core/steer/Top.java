package dev.ipg.core.steer;

import dev.ipg.core.IpgException;
import java.math.BigDecimal;
import java.util.Locale;

/**
 * How many components a selection keeps: a percentage of the site's width ({@code 5%}) or a
 * count ({@code 12}).
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
                throw new IpgException("top " + percent + "% is not a percentage in [0, 100]");
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
                throw new IpgException("top-k must be >= 0, got " + k);
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

    /** Parses {@code P%} (a percentage) or {@code K} (a count). */
    static Top parse(String s) {
        String t = s == null ? "" : s.strip();
        try {
            if (t.endsWith("%")) {
                return new Percent(Double.parseDouble(t.substring(0, t.length() - 1).strip()));
            }
            return new Count(Integer.parseInt(t));
        } catch (NumberFormatException e) {
            throw new IpgException("bad top '" + s + "': expected a percentage such as 5% or a count such as 12");
        }
    }

    /** The spelling {@link #parse} reads back. */
    static String format(Top top) {
        return top.toString().toLowerCase(Locale.ROOT);
    }
}
