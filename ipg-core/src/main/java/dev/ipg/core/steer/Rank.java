package dev.ipg.core.steer;

import dev.ipg.core.IpgException;
import java.util.Locale;

/** How components are ordered before the top ones are kept. */
public enum Rank {
    /** Largest signed score first (the paper's). */
    SIGNED,
    /** Largest |score| first. */
    ABS;

    /** The key of component {@code i} under this rank (larger is better). */
    double key(float score) {
        return this == ABS ? Math.abs(score) : score;
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code signed} or {@code abs}. */
    public static Rank parse(String s) {
        for (Rank r : values()) {
            if (r.cliName().equalsIgnoreCase(s == null ? "" : s.strip())) {
                return r;
            }
        }
        throw new IpgException("unknown rank '" + s + "': use signed or abs");
    }
}
