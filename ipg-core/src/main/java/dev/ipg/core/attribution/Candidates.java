package dev.ipg.core.attribution;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Site;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.Top;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The components that move along the path, per site: with a candidate set C the path is
 * {@code alpha_i = alpha} for i in C and {@code alpha_i = 1} (the real activation) for every other
 * component, so the scores of C add up to {@code Jbar(1) - Jbar(C at the baseline)} and every other
 * component scores exactly 0. Used as a second stage that refines the top candidates of a first.
 *
 * @param source where the sets came from (a run directory), empty for all components
 * @param top    how many top components of the source were taken (0 for all components)
 * @param bySite the sorted component ids per site (empty map: every component moves)
 */
public record Candidates(String source, int top, Map<Site, int[]> bySite) implements java.io.Serializable {

    /** Every component moves (the usual path). */
    public static final Candidates ALL = new Candidates("", 0, Map.of());

    public Candidates {
        Map<Site, int[]> copy = new LinkedHashMap<>();
        bySite.forEach((s, ids) -> {
            int[] sorted = ids.clone();
            Arrays.sort(sorted);
            for (int i = 1; i < sorted.length; i++) {
                if (sorted[i] == sorted[i - 1]) {
                    throw new IpgException("candidate " + sorted[i] + " of " + s + " is listed twice");
                }
            }
            if (sorted.length == 0) {
                throw new IpgException("the candidate set of " + s + " is empty");
            }
            copy.put(s, sorted);
        });
        bySite = java.util.Collections.unmodifiableMap(copy);
    }

    /** Whether every component moves. */
    public boolean all() {
        return bySite.isEmpty();
    }

    /** The moving components of {@code site} (sorted), or null when every component moves. */
    public int[] of(Site site) {
        if (all()) {
            return null;
        }
        int[] ids = bySite.get(site);
        if (ids == null) {
            throw new IpgException("no candidate set for " + site + " (candidates from " + source + ")");
        }
        return ids;
    }

    /**
     * Parses {@code RUN_DIR:top=K}: the K top components by signed score of each site in
     * {@code RUN_DIR/scores.safetensors} (ties by the lower index, as every selection).
     */
    public static Candidates parse(String spec, List<Site> sites) {
        int at = spec.lastIndexOf(":top=");
        if (at <= 0) {
            throw new IpgException("--candidates: expected RUN_DIR:top=K, got '" + spec + "'");
        }
        int k;
        try {
            k = Integer.parseInt(spec.substring(at + ":top=".length()).strip());
        } catch (NumberFormatException e) {
            throw new IpgException("--candidates: top=K needs a whole number, got '" + spec.substring(at + 5) + "'");
        }
        if (k < 1) {
            throw new IpgException("--candidates: top=K needs K >= 1, got " + k);
        }
        Path dir = Path.of(spec.substring(0, at));
        Map<Site, int[]> out = new LinkedHashMap<>();
        for (Site s : sites) {
            ScoresFile f = ScoresFile.load(dir, s);
            if (k > f.scores().length) {
                throw new IpgException("--candidates: top=" + k + " is more than the " + f.scores().length + " components of " + s);
            }
            out.put(s, f.select(new Top.Count(k), Rank.SIGNED).components());
        }
        return new Candidates(dir.toString(), k, out);
    }
}
