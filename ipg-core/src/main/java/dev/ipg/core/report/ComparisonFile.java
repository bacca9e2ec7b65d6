package dev.ipg.core.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.eval.Wilson;
import dev.ipg.core.io.Json;
import dev.ipg.core.report.ReportData.Arm;
import dev.ipg.core.report.ReportData.Comparison;
import dev.ipg.core.report.ReportData.MethodResult;
import dev.ipg.core.report.ReportData.SweepPoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The output of {@code ipg compare} as the report reads it: the one place that knows its shape.
 *
 * <pre>
 *   DIR/comparison.json
 *   {
 *     "dataset":  {"file": "test.jsonl", "problems": 200}      (or a plain string; optional)
 *     "original": ARM,
 *     "methods":  [ {"method": "ipg", "enhance": ARM, "suppress": ARM}, ... ],
 *     "gamma_sweep": [ {"method": "ipg", "gamma": 0.5, ...ARM fields}, ... ]   (optional)
 *   }
 *   ARM = {"gamma": 2.0, "problems": 200, "correct": 169, "accuracy": 0.845,
 *          "wilson95": {"lower": 0.79, "upper": 0.89}, "mean_generated_tokens": 312.4}
 *         (the figures may also sit under "results", as in an evaluation's summary.json;
 *          "lower"/"upper" may stand at the top level; a missing interval is computed
 *          from problems and correct with Wilson's formula)
 *
 *   DIR/gamma_sweep.csv   (used when comparison.json has no gamma_sweep)
 *   method,gamma,accuracy,lower,upper,mean_generated_tokens
 * </pre>
 */
public final class ComparisonFile {

    /** The JSON file name. */
    public static final String JSON = "comparison.json";
    /** The sweep CSV file name. */
    public static final String SWEEP_CSV = "gamma_sweep.csv";

    private ComparisonFile() {
    }

    /** Reads {@code dir}; throws {@link IpgException} naming the file when it is missing or malformed. */
    public static Comparison read(Path dir) {
        Path file = dir.resolve(JSON);
        if (!Files.exists(file)) {
            throw new IpgException(dir + " has no " + JSON + " (the output directory of ipg compare)");
        }
        JsonNode j = Json.read(file);
        String dataset = null;
        Integer problems = null;
        JsonNode d = j.path("dataset");
        if (d.isTextual()) {
            dataset = d.asText();
        } else if (d.isObject()) {
            dataset = d.path("file").asText(null);
            problems = d.has("problems") ? d.get("problems").asInt() : null;
        }
        Arm original = j.has("original") ? arm(j.get("original"), file, "original") : null;
        List<MethodResult> methods = new ArrayList<>();
        j.path("methods").forEach(m -> {
            String name = m.path("method").asText(null);
            if (name == null) {
                throw new IpgException(file + ": a methods entry has no 'method'");
            }
            methods.add(new MethodResult(name, m.hasNonNull("enhance") ? arm(m.get("enhance"), file, name + ".enhance") : null,
                    m.hasNonNull("suppress") ? arm(m.get("suppress"), file, name + ".suppress") : null));
        });
        if (original == null && methods.isEmpty()) {
            throw new IpgException(file + " has neither 'original' nor 'methods'");
        }
        List<SweepPoint> sweep = new ArrayList<>();
        if (j.has("gamma_sweep")) {
            j.get("gamma_sweep").forEach(p -> {
                Arm a = arm(p, file, "gamma_sweep");
                if (a.gamma() == null) {
                    throw new IpgException(file + ": a gamma_sweep entry has no 'gamma'");
                }
                sweep.add(new SweepPoint(p.path("method").asText("ipg"), a.gamma(), a.accuracy(), a.lower(), a.upper(), a.meanTokens()));
            });
        } else if (Files.exists(dir.resolve(SWEEP_CSV))) {
            sweep.addAll(readSweepCsv(dir.resolve(SWEEP_CSV)));
        }
        return new Comparison(dir.toAbsolutePath().normalize().getFileName().toString(), dataset, problems, original, methods,
                sweep);
    }

    static Arm arm(JsonNode node, Path file, String what) {
        JsonNode r = node.has("results") ? node.get("results") : node;
        JsonNode g = node.hasNonNull("gamma") ? node.get("gamma") : r.get("gamma");
        Double gamma = g == null || g.isNull() ? null : Double.valueOf(g.asDouble());
        Integer n = r.hasNonNull("problems") ? r.get("problems").asInt() : null;
        Integer correct = r.hasNonNull("correct") && r.get("correct").isNumber() ? r.get("correct").asInt() : null;
        double acc;
        if (r.hasNonNull("accuracy")) {
            acc = r.get("accuracy").asDouble();
        } else if (n != null && correct != null && n > 0) {
            acc = (double) correct / n;
        } else {
            throw new IpgException(file + ": " + what + " has no accuracy (nor problems and correct)");
        }
        double lo = Double.NaN;
        double hi = Double.NaN;
        JsonNode w = r.has("wilson95") ? r.get("wilson95") : r.has("interval") ? r.get("interval") : r;
        if (w.hasNonNull("lower") && w.hasNonNull("upper")) {
            lo = w.get("lower").asDouble();
            hi = w.get("upper").asDouble();
        } else if (n != null && correct != null) {
            Wilson wi = Wilson.of(correct, n);
            lo = wi.lower();
            hi = wi.upper();
        }
        Double len = r.hasNonNull("mean_generated_tokens") ? Double.valueOf(r.get("mean_generated_tokens").asDouble())
                : r.hasNonNull("mean_tokens") ? Double.valueOf(r.get("mean_tokens").asDouble()) : null;
        return new Arm(gamma, acc, lo, hi, n, len);
    }

    static List<SweepPoint> readSweepCsv(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IpgException("cannot read " + file + ": " + e.getMessage());
        }
        if (lines.isEmpty()) {
            return List.of();
        }
        List<String> head = Arrays.stream(lines.getFirst().split(",")).map(s -> s.strip().toLowerCase(Locale.ROOT)).toList();
        int method = head.indexOf("method");
        int gamma = head.indexOf("gamma");
        int acc = head.indexOf("accuracy");
        int lo = head.indexOf("lower");
        int hi = head.indexOf("upper");
        int len = head.indexOf("mean_generated_tokens") >= 0 ? head.indexOf("mean_generated_tokens") : head.indexOf("mean_tokens");
        if (gamma < 0 || acc < 0) {
            throw new IpgException(file + ": the header needs at least gamma and accuracy columns, got " + lines.getFirst());
        }
        List<SweepPoint> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String[] f = lines.get(i).split(",", -1);
            try {
                out.add(new SweepPoint(method >= 0 ? f[method].strip() : "ipg", Double.parseDouble(f[gamma]), Double.parseDouble(f[acc]),
                        lo >= 0 ? num(f[lo]) : Double.NaN, hi >= 0 ? num(f[hi]) : Double.NaN,
                        len >= 0 && !f[len].isBlank() ? Double.valueOf(num(f[len])) : null));
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                throw new IpgException(file + " line " + (i + 1) + " is not a sweep row: " + lines.get(i));
            }
        }
        return out;
    }

    private static double num(String s) {
        return s.isBlank() ? Double.NaN : Double.parseDouble(s.strip());
    }
}
