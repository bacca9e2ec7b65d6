package dev.ipg.core.compare;

import java.util.HashSet;
import java.util.Set;

/** The Dice coefficient of two sets of components, {@code 2 |A n B| / (|A| + |B|)}: 1 for equal sets, 0 for disjoint ones. */
public final class Dice {

    private Dice() {
    }

    /** Dice of the components in {@code a} and {@code b} (each without repeats). */
    public static double of(int[] a, int[] b) {
        if (a.length + b.length == 0) {
            return 1;
        }
        Set<Integer> sa = new HashSet<>();
        for (int x : a) {
            sa.add(x);
        }
        int both = 0;
        for (int x : b) {
            if (sa.contains(x)) {
                both++;
            }
        }
        return 2.0 * both / (a.length + b.length);
    }
}
