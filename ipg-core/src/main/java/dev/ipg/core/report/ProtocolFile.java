package dev.ipg.core.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The localization protocol of {@code ipg compare} ({@link dev.ipg.core.compare.Protocol}) as the
 * report reads it: {@code protocol.json} in the comparison directory, or in its parent when the
 * comparison is one site of a sweep ({@code OUT/SITE/}). The one place that knows its shape:
 *
 * <pre>
 *   {"config": {..., "random_seeds": 10, "bootstrap": 2000, "area": "...", "ground_truth": "..."},
 *    "sites": [{"site": "blocks.2.hook_resid_post", "width": 128, "ks": [1, 2, 4], "headline_k": 6,
 *               "original_accuracy": 0.93, "eval_problems": 100, "unavailable": {"reasoning-neuron": "why"},
 *               "curves": [{"condition": "suppress", "gamma": 0,
 *                           "methods": [{"method": "pg", "seeds": 1, "delta_points": [...], "area": -20.7,
 *                                        "seed_min_points": [...], "seed_max_points": [...]       (random only)
 *                                        "minus_ipg": [{"mean", "lower", "upper", "mcnemar_p"}, ...],
 *                                        "area_minus_ipg": {"mean", "lower", "upper"}}, ...]}],
 *               "ground_truth": {"dev_problems": 64, "all_components": true, "candidates": [...], "drops": [...],
 *                                "k": 6, "costliest": [...], "methods": [{"method", "precision_at_k", "spearman",
 *                                "precision_min", "precision_max"}]}            (or "ground_truth_note")
 *               "stability": {"half_size": 16, "methods": [{"method", "dice": [...], "dice_at_headline_k"}]},
 *               "verdict": ["..."]}],
 *    "verdict": ["..."]}
 * </pre>
 */
public final class ProtocolFile {

    /** The JSON file name. */
    public static final String JSON = "protocol.json";

    /** The protocol of every site. */
    public record View(String file, int randomSeeds, String area, String groundTruth, List<SiteView> sites, List<String> verdict) {
    }

    /** One site. */
    public record SiteView(String site, int width, int[] ks, int headlineK, double originalAccuracy, int evalProblems,
                           Map<String, String> unavailable, List<CurveSet> curves, GroundTruth groundTruth, String groundTruthNote,
                           int halfSize, List<Stability> stability, List<String> verdict) {
    }

    /** The curves of one condition. */
    public record CurveSet(String condition, double gamma, List<Line> methods) {
    }

    /**
     * One method's curve; the {@code minus*} arrays (method - IPG, paired) are null for IPG, and
     * {@code seedMin}/{@code seedMax} are null for a method of one selection.
     */
    public record Line(String method, int seeds, double[] delta, double[] seedMin, double[] seedMax, double area, double[] minus,
                       double[] minusLower, double[] minusUpper, double[] mcnemar, Double areaMinus, Double areaLower, Double areaUpper) {
    }

    /** The ablation ground truth. */
    public record GroundTruth(int devProblems, boolean allComponents, int candidates, int k, int[] costliest, List<Match> methods) {
    }

    /** One method against the ground truth; {@code spearman} is null for a constant ranking. */
    public record Match(String method, double precision, Double spearman, double precisionMin, double precisionMax) {
    }

    /** Dice between support halves. */
    public record Stability(String method, double[] dice, double headline) {
    }

    private ProtocolFile() {
    }

    /** The protocol file for comparison directory {@code dir}: in it, or in its parent; null when neither has one. */
    public static Path find(Path dir) {
        Path here = dir.resolve(JSON);
        if (Files.exists(here)) {
            return here;
        }
        Path parent = dir.toAbsolutePath().normalize().getParent();
        return parent != null && Files.exists(parent.resolve(JSON)) ? parent.resolve(JSON) : null;
    }

    /** Reads {@code file}; throws {@link IpgException} naming it when it is malformed. */
    public static View read(Path file) {
        JsonNode j = Json.read(file);
        if (!j.path("sites").isArray() || !j.path("config").isObject()) {
            throw new IpgException(file + " is not a protocol written by ipg compare (no 'config' or 'sites')");
        }
        List<SiteView> sites = new ArrayList<>();
        for (JsonNode s : j.get("sites")) {
            String name = s.path("site").asText(null);
            if (name == null || !s.path("ks").isArray() || !s.path("curves").isArray()) {
                throw new IpgException(file + ": a site has no 'site', 'ks' or 'curves'");
            }
            Map<String, String> un = new LinkedHashMap<>();
            s.path("unavailable").fields().forEachRemaining(e -> un.put(e.getKey(), e.getValue().asText()));
            List<CurveSet> curves = new ArrayList<>();
            for (JsonNode c : s.get("curves")) {
                List<Line> lines = new ArrayList<>();
                for (JsonNode m : c.path("methods")) {
                    JsonNode mi = m.path("minus_ipg");
                    double[] minus = mi.isArray() ? field(mi, "mean") : null;
                    double[] mcn = null;
                    if (mi.isArray()) {
                        mcn = new double[mi.size()];
                        for (int i = 0; i < mcn.length; i++) {
                            mcn[i] = mi.get(i).has("mcnemar_p") ? mi.get(i).get("mcnemar_p").asDouble() : Double.NaN;
                        }
                    }
                    JsonNode am = m.path("area_minus_ipg");
                    lines.add(new Line(m.path("method").asText(), m.path("seeds").asInt(1), doubles(m.path("delta_points")),
                            m.has("seed_min_points") ? doubles(m.get("seed_min_points")) : null,
                            m.has("seed_max_points") ? doubles(m.get("seed_max_points")) : null, m.path("area").asDouble(), minus,
                            mi.isArray() ? field(mi, "lower") : null, mi.isArray() ? field(mi, "upper") : null, mcn,
                            am.isObject() ? am.get("mean").asDouble() : null, am.isObject() ? am.get("lower").asDouble() : null,
                            am.isObject() ? am.get("upper").asDouble() : null));
                }
                curves.add(new CurveSet(c.path("condition").asText(), c.path("gamma").asDouble(), lines));
            }
            GroundTruth gt = null;
            JsonNode g = s.path("ground_truth");
            if (g.isObject()) {
                List<Match> ms = new ArrayList<>();
                for (JsonNode m : g.path("methods")) {
                    ms.add(new Match(m.path("method").asText(), m.path("precision_at_k").asDouble(),
                            m.path("spearman").isNumber() ? m.get("spearman").asDouble() : null, m.path("precision_min").asDouble(),
                            m.path("precision_max").asDouble()));
                }
                gt = new GroundTruth(g.path("dev_problems").asInt(), g.path("all_components").asBoolean(), g.path("candidates").size(),
                        g.path("k").asInt(), ints(g.path("costliest")), ms);
            }
            List<Stability> stab = new ArrayList<>();
            for (JsonNode m : s.path("stability").path("methods")) {
                stab.add(new Stability(m.path("method").asText(), doubles(m.path("dice")), m.path("dice_at_headline_k").asDouble()));
            }
            sites.add(new SiteView(name, s.path("width").asInt(), ints(s.get("ks")), s.path("headline_k").asInt(),
                    s.path("original_accuracy").asDouble(), s.path("eval_problems").asInt(), un, curves, gt,
                    s.path("ground_truth_note").asText(null), s.path("stability").path("half_size").asInt(), stab, texts(s.path("verdict"))));
        }
        JsonNode c = j.get("config");
        return new View(file.toString(), c.path("random_seeds").asInt(), c.path("area").asText(""), c.path("ground_truth").asText(""),
                sites, texts(j.path("verdict")));
    }

    private static double[] field(JsonNode arr, String f) {
        double[] d = new double[arr.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = arr.get(i).path(f).asDouble();
        }
        return d;
    }

    private static double[] doubles(JsonNode a) {
        double[] d = new double[a.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.get(i).asDouble();
        }
        return d;
    }

    private static int[] ints(JsonNode a) {
        int[] d = new int[a.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.get(i).asInt();
        }
        return d;
    }

    private static List<String> texts(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(x -> out.add(x.asText()));
        return out;
    }
}
