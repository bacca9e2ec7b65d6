package dev.ipg.core.steer;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Site;
import dev.ipg.core.run.ComponentStats;
import java.util.Arrays;

/**
 * The components of one site chosen for control: the {@link Top top} ones of a score vector
 * under a {@link Rank}. Ties are broken by the lower component index, so a selection is a pure
 * function of the scores.
 *
 * @param site       where
 * @param width      the site's number of components
 * @param components the chosen component indices, best first
 */
public record Selection(Site site, int width, int[] components) implements java.io.Serializable {

    public Selection {
        components = components.clone();
        boolean[] seen = new boolean[width];
        for (int c : components) {
            if (c < 0 || c >= width) {
                throw new IpgException("component " + c + " is outside " + site + " (width " + width + ")");
            }
            if (seen[c]) {
                throw new IpgException("component " + c + " selected twice");
            }
            seen[c] = true;
        }
    }

    /** The {@code top} components of {@code scores} (one per component of {@code site}) under {@code rank}. */
    public static Selection of(Site site, float[] scores, Top top, Rank rank) {
        for (int i = 0; i < scores.length; i++) {
            if (!Float.isFinite(scores[i])) {
                throw new IpgException("score of component " + i + " of " + site + " is " + scores[i]
                        + "; a selection needs finite scores");
            }
        }
        int[] order = ComponentStats.ranked(scores, v -> rank.key((float) v));
        int n = top.size(scores.length);
        int[] chosen = new int[n];
        for (int i = 0; i < n; i++) {
            chosen[i] = order[i];
        }
        return new Selection(site, scores.length, chosen);
    }

    /** Number of chosen components. */
    public int size() {
        return components.length;
    }

    /** Whether component {@code i} is chosen. */
    public boolean contains(int i) {
        for (int c : components) {
            if (c == i) {
                return true;
            }
        }
        return false;
    }

    /** Per-component factors: {@code gamma} on the chosen components, 1 elsewhere (width). */
    public float[] factors(double gamma) {
        float[] g = new float[width];
        Arrays.fill(g, 1f);
        for (int c : components) {
            g[c] = (float) gamma;
        }
        return g;
    }

    /** The chosen indices in increasing order. */
    public int[] sorted() {
        int[] s = components.clone();
        Arrays.sort(s);
        return s;
    }

    @Override
    public int[] components() {
        return components.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Selection s && s.site.equals(site) && s.width == width && Arrays.equals(s.components, components);
    }

    @Override
    public int hashCode() {
        return site.hashCode() * 31 + Arrays.hashCode(components);
    }

    @Override
    public String toString() {
        return components.length + " of " + width + " components of " + site;
    }
}
