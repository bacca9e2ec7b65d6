package dev.ipg.core.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import dev.ipg.core.model.Site;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * A planted ground truth: the components of one site that a testbed model was built to carry a
 * behaviour with ({@code planted.json} beside the model: {@code site} and {@code indices}), and
 * how well a method's ranking finds them. Precision at k is the planted share of the method's
 * top k, recall at k the share of the planted set in it; average precision summarizes the whole
 * ranking (the mean, over planted components, of the precision at each one's rank).
 *
 * @param site    the planted site
 * @param indices the planted components, sorted, distinct
 * @param carries what the file says they carry (may be empty)
 * @param source  the file it was read from (for messages)
 */
public record PlantedTruth(Site site, int[] indices, String carries, String source) {

    public PlantedTruth {
        indices = indices.clone();
        if (indices.length == 0) {
            throw new IpgException(source + ": the planted set is empty");
        }
    }

    /**
     * How a method's ranking matches the planted set.
     *
     * @param method    the method
     * @param seeds     rankings averaged (random: its seeds; others 1)
     * @param k         the size of the planted set
     * @param precision precision at k = |planted| (also the recall there; random: mean over seeds)
     * @param min       random: lowest seed's precision at |planted| (others: = precision)
     * @param max       random: highest
     * @param ks        the curve's k
     * @param precisionAtK precision at each curve k (random: mean over seeds)
     * @param recallAtK recall at each curve k (random: mean over seeds)
     * @param averagePrecision average precision of the whole ranking (random: mean over seeds)
     * @param ranks     1-based rank of each planted component in the method's ranking (seed 0 for random)
     */
    public record Score(String method, int seeds, int k, double precision, double min, double max, int[] ks,
                        double[] precisionAtK, double[] recallAtK, double averagePrecision, int[] ranks) {
    }

    /** Reads {@code planted.json}: an object with {@code site} (a site name) and {@code indices} (distinct components). */
    public static PlantedTruth read(Path file) {
        JsonNode j = Json.readObject(file);
        JsonNode s = j.get("site");
        if (s == null || !s.isTextual()) {
            throw new IpgException(file + ": needs \"site\", a site name such as blocks.2.mlp.hook_post");
        }
        Site site;
        try {
            site = Site.parse(s.asText());
        } catch (IpgException e) {
            throw new IpgException(file + ": " + e.getMessage(), e);
        }
        JsonNode ix = j.get("indices");
        if (ix == null || !ix.isArray() || ix.isEmpty()) {
            throw new IpgException(file + ": needs \"indices\", a non-empty array of component indices");
        }
        TreeSet<Integer> set = new TreeSet<>();
        for (JsonNode n : ix) {
            if (!n.isIntegralNumber() || n.asLong() < 0 || n.asLong() > Integer.MAX_VALUE) {
                throw new IpgException(file + ": \"indices\" holds " + n + ", not a component index >= 0");
            }
            if (!set.add(n.asInt())) {
                throw new IpgException(file + ": \"indices\" lists " + n.asInt() + " twice");
            }
        }
        return new PlantedTruth(site, set.stream().mapToInt(Integer::intValue).toArray(), j.path("carries").asText(""),
                file.toString());
    }

    /** Refuses a planted set that does not fit a site of {@code width} components. */
    public void checkWidth(int width) {
        for (int i : indices) {
            if (i >= width) {
                throw new IpgException(source + ": planted component " + i + " is outside " + site + " (" + width + " components)");
            }
        }
    }

    /**
     * Scores rankings against the planted set. {@code keys} holds one ranking key per seed (the
     * scores, or their magnitudes under {@code --rank abs}): larger ranks first, ties by the lower
     * index, as everywhere in the protocol.
     */
    public Score score(String method, List<double[]> keys, int[] ks) {
        int k = indices.length;
        int seeds = keys.size();
        double p = 0;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double[] pk = new double[ks.length];
        double[] rk = new double[ks.length];
        double ap = 0;
        int[] ranks0 = null;
        for (double[] key : keys) {
            checkWidth(key.length);
            int[] order = PrecisionAtK.top(key, key.length);
            int[] rank = new int[key.length];
            for (int r = 0; r < order.length; r++) {
                rank[order[r]] = r + 1;
            }
            int[] ranks = new int[k];
            for (int i = 0; i < k; i++) {
                ranks[i] = rank[indices[i]];
            }
            if (ranks0 == null) {
                ranks0 = ranks;
            }
            double pi = hits(ranks, k) / (double) k;
            p += pi / seeds;
            lo = Math.min(lo, pi);
            hi = Math.max(hi, pi);
            for (int ki = 0; ki < ks.length; ki++) {
                int h = hits(ranks, ks[ki]);
                pk[ki] += (double) h / ks[ki] / seeds;
                rk[ki] += (double) h / k / seeds;
            }
            int[] sorted = ranks.clone();
            Arrays.sort(sorted);
            double a = 0;
            for (int i = 0; i < k; i++) {
                a += (i + 1.0) / sorted[i];
            }
            ap += a / k / seeds;
        }
        return new Score(method, seeds, k, p, lo, hi, ks.clone(), pk, rk, ap, ranks0);
    }

    private static int hits(int[] ranks, int k) {
        int h = 0;
        for (int r : ranks) {
            if (r <= k) {
                h++;
            }
        }
        return h;
    }

    /** The planted ground truth's part of {@code protocol.json}. */
    public static ObjectNode json(PlantedTruth t, List<Score> scores) {
        ObjectNode j = JsonNodeFactory.instance.objectNode();
        j.put("source", t.source());
        j.put("site", t.site().toString());
        j.put("carries", t.carries());
        ArrayNode ix = j.putArray("indices");
        for (int i : t.indices()) {
            ix.add(i);
        }
        j.put("k", t.indices().length);
        ArrayNode ms = j.putArray("methods");
        for (Score s : scores) {
            ObjectNode m = ms.addObject();
            m.put("method", s.method());
            m.put("seeds", s.seeds());
            m.put("precision_at_planted", s.precision());
            m.put("recall_at_planted", s.precision());
            if (s.seeds() > 1) {
                m.put("precision_seed_min", s.min());
                m.put("precision_seed_max", s.max());
            }
            ArrayNode ks = m.putArray("ks");
            ArrayNode pk = m.putArray("precision_at_k");
            ArrayNode rk = m.putArray("recall_at_k");
            for (int i = 0; i < s.ks().length; i++) {
                ks.add(s.ks()[i]);
                pk.add(s.precisionAtK()[i]);
                rk.add(s.recallAtK()[i]);
            }
            m.put("average_precision", s.averagePrecision());
            ArrayNode rr = m.putArray(s.seeds() > 1 ? "planted_ranks_seed0" : "planted_ranks");
            for (int r : s.ranks()) {
                rr.add(r);
            }
        }
        return j;
    }

    /** The plain-text table of the planted ground truth. */
    public static void text(StringBuilder sb, PlantedTruth t, List<Score> scores, int width) {
        sb.append(String.format(Locale.ROOT, "planted ground truth (%s): %d components %s%s; chance precision %d/%d = %.3f%n",
                t.source(), t.indices().length, Arrays.toString(t.indices()), t.carries().isEmpty() ? "" : " carrying the " + t.carries(),
                t.indices().length, width, (double) t.indices().length / width));
        if (scores.isEmpty()) {
            return;
        }
        int[] ks = scores.getFirst().ks();
        sb.append(String.format(Locale.ROOT, "%-24s %16s %6s", "method", "P=R@" + t.indices().length, "AP"));
        for (int k : ks) {
            sb.append(String.format(Locale.ROOT, " %11s", "P/R@" + k));
        }
        sb.append('\n');
        for (Score s : scores) {
            sb.append(String.format(Locale.ROOT, "%-24s %16s %6.3f", s.method() + (s.seeds() > 1 ? " (" + s.seeds() + " seeds)" : ""),
                    s.seeds() > 1 ? String.format(Locale.ROOT, "%.2f (%.2f..%.2f)", s.precision(), s.min(), s.max())
                            : String.format(Locale.ROOT, "%.2f", s.precision()), s.averagePrecision()));
            for (int i = 0; i < ks.length; i++) {
                sb.append(String.format(Locale.ROOT, " %11s", String.format(Locale.ROOT, "%.2f/%.2f", s.precisionAtK()[i],
                        s.recallAtK()[i])));
            }
            sb.append('\n');
        }
    }
}
