package dev.ipg.core.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.model.Site;
import dev.ipg.core.report.ReportData.Arm;
import dev.ipg.core.report.ReportData.Comparison;
import dev.ipg.core.report.ReportData.MethodResult;
import dev.ipg.core.report.ReportData.SweepPoint;
import dev.ipg.core.run.ComparisonFiles;
import dev.ipg.core.run.EvalResults;
import dev.ipg.core.run.RunFiles;
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
 * it, through the records the comparison writes ({@link ComparisonFiles}). Only
 * {@code comparison.json} is read; the two CSV files beside it ({@code comparison.csv},
 * {@code gamma_sweep.csv}) hold the same figures.
 *
 * <p>For random selection averaged over several seeds, counts are summed over the seeds and
 * the interval is Wilson's on those counts.
 */
public final class ComparisonFile {

    /** The JSON file name. */
    public static final String JSON = ComparisonFiles.JSON;

    private ComparisonFile() {
    }

    /** Reads {@code dir}; throws {@link IpgException} naming the file when it is missing or malformed. */
    public static Comparison read(Path dir) {
        Path file = dir.resolve(JSON);
        ComparisonFiles.File j = file(dir);
        Arm original = arm(j.original());
        if (!j.original().isOriginal()) {
            throw new IpgException(file + ": 'original' has condition '" + j.original().condition() + "'");
        }
        Map<String, Arm[]> byMethod = new LinkedHashMap<>();
        for (ComparisonFiles.Row r : j.rows()) {
            int slot = switch (r.condition()) {
                case "enhance" -> 0;
                case "suppress" -> 1;
                default -> throw new IpgException(file + ": row " + r.method() + " has condition '" + r.condition()
                        + "', expected enhance or suppress");
            };
            Arm[] arms = byMethod.computeIfAbsent(r.method(), k -> new Arm[2]);
            if (arms[slot] != null) {
                throw new IpgException(file + ": two " + r.condition() + " rows for " + r.method());
            }
            arms[slot] = arm(r);
        }
        List<MethodResult> methods = new ArrayList<>();
        byMethod.forEach((m, a) -> methods.add(new MethodResult(m, a[0], a[1])));
        List<SweepPoint> sweep = new ArrayList<>();
        for (ComparisonFiles.Row r : j.gammaSweep()) {
            if (r.gamma() == null) {
                throw new IpgException(file + ": gamma_sweep row of " + r.method() + " has no 'gamma'");
            }
            sweep.add(new SweepPoint(r.method(), r.gamma(), arm(r)));
        }
        ComparisonFiles.Config c = j.config();
        String selection = c.top() == null ? null : "top " + c.top() + " by " + (c.rank() == null ? "signed" : c.rank()) + " score";
        return new Comparison(dir.toAbsolutePath().normalize().getFileName().toString(), c.eval() == null ? null : c.eval().file(),
                c.eval() == null ? 0 : c.eval().used(), c.support() == null ? null : c.support().file(),
                c.support() == null ? 0 : c.support().used(), c.architecture(), c.fingerprint(), c.site(), selection,
                decoding(c.evalDecoding()), original, methods, sweep, j.verdict() == null ? List.of() : j.verdict());
    }

    /** The comparison file of {@code dir} as its record; throws {@link IpgException} naming it when it is missing or malformed. */
    static ComparisonFiles.File file(Path dir) {
        Path file = dir.resolve(JSON);
        if (!Files.exists(file)) {
            throw new IpgException(dir + " has no " + JSON + " (is it the output directory of a finished ipg compare?)");
        }
        ComparisonFiles.File j = RunFiles.read(file, ComparisonFiles.File.class, "a comparison written by ipg compare");
        if (j.config() == null || j.original() == null || j.rows() == null) {
            throw new IpgException(file + " is not a comparison written by ipg compare (no 'config', 'original' or 'rows')");
        }
        return j;
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
        ComparisonFiles.Config c = file(dir).config();
        Path scores = dir.resolve("methods").resolve("ipg");
        if (!c.methods().contains("ipg") || !Files.isRegularFile(scores.resolve("scores.safetensors")) || c.site() == null
                || c.top() == null) {
            return null;
        }
        return new IpgIntervention(scores, Site.parse(c.site()), Top.recorded(c.top()), Rank.parse(c.rank() == null ? "signed" : c.rank()),
                c.enhanceGamma(), c.suppressGamma());
    }

    /** One row as the report shows it. */
    static Arm arm(ComparisonFiles.Row r) {
        EvalResults f = r.results();
        return new Arm(r.isOriginal() ? null : r.gamma(), r.strength(), f.accuracy(), f.wilson95().lower(), f.wilson95().upper(), f.correct(),
                f.problems(), f.meanGeneratedTokens(), r.isOriginal() ? 0 : r.deltaVsOriginal(), r.seedAccuracies(),
                r.intervention() == null ? "" : r.intervention());
    }

    /** "greedy, 512 tokens" or "T=0.6 top-p=0.95 top-k=0 seed=1, 512 tokens" (as the evaluation describes itself). */
    static String decoding(JsonNode d) {
        if (d == null || !d.isObject()) {
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
}
