package dev.ipg.core.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import dev.ipg.core.model.Site;
import dev.ipg.core.report.ReportData.Arm;
import dev.ipg.core.report.ReportData.Comparison;
import dev.ipg.core.report.ReportData.MethodResult;
import dev.ipg.core.report.ReportData.SweepPoint;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.Top;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The output of {@code ipg compare} ({@link dev.ipg.core.compare.Comparison}) as the report reads
 * it: the one place that knows its shape. Only {@code comparison.json} is read; the two CSV
 * files beside it ({@code comparison.csv}, {@code gamma_sweep.csv}) hold the same figures.
 *
 * <pre>
 *   DIR/comparison.json
 *   {
 *     "ipg_version": "...",
 *     "config": {
 *       "model":   {"architecture": "Qwen3ForCausalLM", "fingerprint": "9f2c..."},
 *       "support": {"file": "train.jsonl", "sha256": "...", "used": 200},
 *       "eval":    {"file": "test.jsonl",  "sha256": "...", "used": 500},
 *       "site": "blocks.20.hook_resid_post", "top": "5%", "rank": "signed",
 *       "eval_decoding": {"greedy": true, "max_new_tokens": 512}       (sampled: temperature, top_p, top_k, seed)
 *       ... (gammas, methods, seeds, signal, control vector mode)
 *     },
 *     "original":    ROW,                    condition "original"
 *     "rows":        [ROW, ...],             condition "enhance" or "suppress", methods in order
 *     "gamma_sweep": [ROW, ...],             condition "sweep" (empty without a sweep)
 *     "verdict":     ["enhance (gamma 2): IPG ...", ...]   whether IPG beats every baseline (absent in older files)
 *   }
 *   ROW = {"method": "ipg", "condition": "enhance", "gamma": 2.0 (or "strength": 4.0 for an added vector),
 *          "intervention": "...", "problems": 500, "correct": 412, "accuracy": 0.824,
 *          "wilson95": {"lower": 0.788, "upper": 0.855}, "mean_generated_tokens": 301.2,
 *          "delta_vs_original": 0.03, "seed_accuracies": [0.824], ...}
 * </pre>
 *
 * <p>For random selection averaged over several seeds, counts are summed over the seeds and
 * the interval is Wilson's on those counts.
 */
public final class ComparisonFile {

    /** The JSON file name. */
    public static final String JSON = "comparison.json";

    private ComparisonFile() {
    }

    /** Reads {@code dir}; throws {@link IpgException} naming the file when it is missing or malformed. */
    public static Comparison read(Path dir) {
        Path file = dir.resolve(JSON);
        if (!Files.exists(file)) {
            throw new IpgException(dir + " has no " + JSON + " (is it the output directory of a finished ipg compare?)");
        }
        JsonNode j = Json.read(file);
        JsonNode c = j.path("config");
        if (!c.isObject() || !j.path("original").isObject() || !j.path("rows").isArray()) {
            throw new IpgException(file + " is not a comparison written by ipg compare (no 'config', 'original' or 'rows')");
        }
        Arm original = arm(j.get("original"), file, "original");
        if (!"original".equals(j.get("original").path("condition").asText())) {
            throw new IpgException(file + ": 'original' has condition '" + j.get("original").path("condition").asText() + "'");
        }
        Map<String, Arm[]> byMethod = new LinkedHashMap<>();
        for (JsonNode r : j.get("rows")) {
            String method = text(r, "method", file, "a row");
            String condition = text(r, "condition", file, method);
            int slot = switch (condition) {
                case "enhance" -> 0;
                case "suppress" -> 1;
                default -> throw new IpgException(file + ": row " + method + " has condition '" + condition
                        + "', expected enhance or suppress");
            };
            Arm[] arms = byMethod.computeIfAbsent(method, k -> new Arm[2]);
            if (arms[slot] != null) {
                throw new IpgException(file + ": two " + condition + " rows for " + method);
            }
            arms[slot] = arm(r, file, method + " " + condition);
        }
        List<MethodResult> methods = new ArrayList<>();
        byMethod.forEach((m, a) -> methods.add(new MethodResult(m, a[0], a[1])));
        List<SweepPoint> sweep = new ArrayList<>();
        for (JsonNode r : j.path("gamma_sweep")) {
            String method = text(r, "method", file, "a gamma_sweep row");
            Arm a = arm(r, file, method + " sweep");
            if (a.gamma() == null) {
                throw new IpgException(file + ": gamma_sweep row of " + method + " has no 'gamma'");
            }
            sweep.add(new SweepPoint(method, a.gamma(), a));
        }
        List<String> verdict = new ArrayList<>();
        for (JsonNode v : j.path("verdict")) {
            verdict.add(v.asText());
        }
        JsonNode top = c.path("top");
        String selection = top.isMissingNode() ? null : "top " + top.asText() + " by " + c.path("rank").asText("signed") + " score";
        return new Comparison(dir.toAbsolutePath().normalize().getFileName().toString(), c.at("/eval/file").asText(null),
                c.at("/eval/used").asInt(), c.at("/support/file").asText(null), c.at("/support/used").asInt(),
                c.at("/model/architecture").asText(null), c.at("/model/fingerprint").asText(null), c.path("site").asText(null), selection,
                decoding(c.path("eval_decoding")), original, methods, sweep, verdict);
    }

    /**
     * The IPG intervention a comparison evaluated: the selection rule of its configuration
     * ({@code site}, {@code top}, {@code rank}) applied to its own IPG scores
     * ({@code DIR/methods/ipg}), and the enhance and suppress gammas.
     *
     * @param scores   the comparison's IPG run directory
     * @param site     where the components were selected
     * @param top      how many ({@code 5%} or a count)
     * @param rank     signed or abs
     * @param enhance  gamma of the enhance arm
     * @param suppress gamma of the suppress arm
     */
    public record IpgIntervention(Path scores, Site site, Top top, Rank rank,
                                  double enhance, double suppress) {
    }

    /** The IPG intervention of the comparison in {@code dir}, or null when it did not evaluate IPG. */
    public static IpgIntervention ipgIntervention(Path dir) {
        JsonNode c = Json.read(dir.resolve(JSON)).path("config");
        boolean ipg = false;
        for (JsonNode m : c.path("methods")) {
            ipg |= m.asText().equals("ipg");
        }
        Path scores = dir.resolve("methods").resolve("ipg");
        if (!ipg || !Files.isRegularFile(scores.resolve("scores.safetensors")) || !c.hasNonNull("site") || !c.hasNonNull("top")) {
            return null;
        }
        return new IpgIntervention(scores, Site.parse(c.get("site").asText()), Top.recorded(c.get("top").asText()),
                Rank.parse(c.path("rank").asText("signed")), c.path("enhance_gamma").asDouble(), c.path("suppress_gamma").asDouble());
    }

    /** One row; {@code what} names it in errors. */
    static Arm arm(JsonNode r, Path file, String what) {
        int n = integer(r, "problems", file, what);
        int correct = integer(r, "correct", file, what);
        if (n < 0 || correct < 0 || correct > n) {
            throw new IpgException(file + ": " + what + " has " + correct + " correct of " + n + " problems");
        }
        double acc = number(r, "accuracy", file, what);
        JsonNode w = r.path("wilson95");
        double lo = number(w, "lower", file, what + " wilson95");
        double hi = number(w, "upper", file, what + " wilson95");
        boolean original = "original".equals(r.path("condition").asText());
        Double gamma = !original && r.hasNonNull("gamma") ? Double.valueOf(r.get("gamma").asDouble()) : null;
        Double strength = r.hasNonNull("strength") ? Double.valueOf(r.get("strength").asDouble()) : null;
        if (!original && (gamma == null) == (strength == null)) {
            throw new IpgException(file + ": " + what + " needs exactly one of 'gamma' and 'strength'");
        }
        List<Double> seeds = new ArrayList<>();
        r.path("seed_accuracies").forEach(x -> seeds.add(x.asDouble()));
        if (seeds.isEmpty()) {
            seeds.add(acc);
        }
        return new Arm(gamma, strength, acc, lo, hi, correct, n, number(r, "mean_generated_tokens", file, what),
                original ? 0 : number(r, "delta_vs_original", file, what), List.copyOf(seeds), r.path("intervention").asText(""));
    }

    /** "greedy, 512 tokens" or "T=0.6 top-p=0.95 top-k=0 seed=1, 512 tokens" (as the evaluation describes itself). */
    static String decoding(JsonNode d) {
        if (!d.isObject()) {
            return null;
        }
        String tokens = d.path("max_new_tokens").asInt() + " tokens";
        if (d.path("greedy").asBoolean(true)) {
            return "greedy, " + tokens;
        }
        return String.format(Locale.ROOT, "T=%s top-p=%s top-k=%d seed=%d, %s", plain(d.path("temperature").asDouble()),
                plain(d.path("top_p").asDouble()), d.path("top_k").asInt(), d.path("seed").asLong(), tokens);
    }

    private static String plain(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    private static String text(JsonNode r, String field, Path file, String what) {
        JsonNode v = r.get(field);
        if (v == null || !v.isTextual()) {
            throw new IpgException(file + ": " + what + " has no '" + field + "'");
        }
        return v.asText();
    }

    private static int integer(JsonNode r, String field, Path file, String what) {
        JsonNode v = r.get(field);
        if (v == null || !v.isIntegralNumber()) {
            throw new IpgException(file + ": " + what + " has no integer '" + field + "'");
        }
        return v.asInt();
    }

    private static double number(JsonNode r, String field, Path file, String what) {
        JsonNode v = r.get(field);
        if (v == null || !v.isNumber()) {
            throw new IpgException(file + ": " + what + " has no number '" + field + "'");
        }
        return v.asDouble();
    }
}
