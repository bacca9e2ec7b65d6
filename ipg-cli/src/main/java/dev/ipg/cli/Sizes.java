package dev.ipg.cli;

import dev.ipg.core.IpgException;
import java.util.Locale;

/** Parses memory sizes such as {@code 8g}, {@code 512m}, {@code 1.5g} or a plain byte count. */
final class Sizes {

    private Sizes() {
    }

    static long parse(String text, String option) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (s.endsWith("b")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.endsWith("k")) {
            unit = 1L << 10;
        } else if (s.endsWith("m")) {
            unit = 1L << 20;
        } else if (s.endsWith("g")) {
            unit = 1L << 30;
        } else if (s.endsWith("t")) {
            unit = 1L << 40;
        }
        if (unit > 1) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            double v = Double.parseDouble(s);
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return (long) (v * unit);
        } catch (NumberFormatException e) {
            throw new IpgException(option + ": '" + text + "' is not a size (e.g. 8g, 512m)");
        }
    }
}
