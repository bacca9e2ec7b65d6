package dev.ipg.core.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.ModelFingerprint;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.report.ReportData.Completeness;
import dev.ipg.core.report.ReportData.Completion;
import dev.ipg.core.report.ReportData.Curve;
import dev.ipg.core.report.ReportData.Header;
import dev.ipg.core.report.ReportData.PromptInfo;
import dev.ipg.core.report.ReportData.SiteCompletions;
import dev.ipg.core.report.ReportData.SiteScores;
import dev.ipg.core.report.ReportData.TopRow;
import dev.ipg.core.report.ReportData.Verdict;
import dev.ipg.core.run.AttributionFiles;
import dev.ipg.core.run.AttributionFiles.CurvePoint;
import dev.ipg.core.run.AttributionFiles.PromptFile;
import dev.ipg.core.run.AttributionFiles.RunFile;
import dev.ipg.core.run.AttributionFiles.RunTimings;
import dev.ipg.core.run.AttributionFiles.SiteCompleteness;
import dev.ipg.core.run.AttributionFiles.SiteResult;
import dev.ipg.core.run.CompletenessCheck;
import dev.ipg.core.run.ComponentStats;
import dev.ipg.core.run.RunConfig;
import dev.ipg.core.run.RunFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads an attribution run directory (see {@code AttributionRun}) into the parts of a report
 * that need no model: header, scores per site with their spread over prompts, the completeness
 * check with a verdict, Jbar curves and the completions that were scored.
 */
public final class RunReader {

    /**
     * What a run directory holds, ready for the report.
     *
     * @param dir          the run directory
     * @param config       run.json's {@code config}
     * @param modelDir     the model directory recorded in run.json, or null
     * @param header       what was run
     * @param sites        scores per site
     * @param completeness the check per site
     * @param curves       Jbar curves per prompt and site
     * @param meanCurves   mean curve per site
     * @param prompts      the support prompts
     */
    public record Run(Path dir, JsonNode config, Path modelDir, Header header, List<SiteScores> sites,
                      List<Completeness> completeness, List<Curve> curves, List<Curve> meanCurves, List<PromptInfo> prompts) {

        /** The advantage the run used (grpo or rloo). */
        public String advantage() {
            return config.at("/hyperparameters/advantage").asText("");
        }

        /** The scores of {@code site}. */
        public SiteScores scoresOf(String site) {
            return sites.stream().filter(s -> s.site().equals(site)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no site " + site));
        }
    }

    /** A component at a site with its score. */
    public record Component(Site site, int index, double score) {
    }

    private RunReader() {
    }

    /**
     * Refuses {@code model} unless it is the checkpoint {@code run} was made with: the same weights
     * (by content), tokenizer files and chat template; for a run recorded before ipg identified
     * models by content, the same configuration and tensor layout (all such a run recorded).
     *
     * @throws IpgException naming what differs
     */
    public static void requireModel(Run run, Transformer model) {
        if (model.dir() == null || model.checkpoint() == null) {
            return;
        }
        JsonNode recorded = run.config().path("model");
        if (!recorded.has("content")) {
            String fp = ModelFingerprint.of(model.dir(), model.checkpoint().files());
            if (!fp.equals(run.header().fingerprint())) {
                throw new IpgException(model.dir() + ": not the model the run in " + run.dir() + " was made with (fingerprint "
                        + fp.substring(0, 12) + "... vs " + abbreviate(run.header().fingerprint()) + ")");
            }
            return;
        }
        List<String> changes = RunConfig.modelChanges(recorded, RunConfig.model(model));
        if (!changes.isEmpty()) {
            throw new IpgException(model.dir() + ": not the model the run in " + run.dir() + " was made with: differs in "
                    + String.join("; ", changes));
        }
    }

    private static String abbreviate(String fingerprint) {
        return fingerprint.length() > 12 ? fingerprint.substring(0, 12) + "..." : fingerprint;
    }

    /** Reads {@code dir}; throws {@link IpgException} naming the file when something is missing or malformed. */
    public static Run read(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IpgException(dir + " is not a directory");
        }
        Path runJson = dir.resolve("run.json");
        if (!Files.exists(runJson)) {
            throw new IpgException(dir + " has no run.json: not an attribution run directory, or the run has not finished "
                    + "(rerun the same ipg attribute command to resume it)");
        }
        RunFile run = RunFiles.read(runJson, RunFile.class, "the run.json of an attribution run");
        JsonNode config = run.config();
        List<String> siteNames = new ArrayList<>();
        need(config, "sites", runJson).forEach(s -> siteNames.add(s.asText()));
        if (siteNames.isEmpty()) {
            throw new IpgException(runJson + ": config.sites is empty");
        }
        int m = config.at("/dataset/used").asInt(run.prompts().size());
        if (m < 1) {
            throw new IpgException(runJson + ": the run used no prompts");
        }
        List<PromptFile> promptFiles = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            Path p = dir.resolve("prompts").resolve(AttributionFiles.promptName(i) + ".json");
            if (!Files.exists(p)) {
                throw new IpgException(p + " is missing: run.json says " + m + " prompts were used");
            }
            PromptFile pf = RunFiles.read(p, PromptFile.class, "an attribution prompt file");
            for (String site : siteNames) {
                if (pf.at(site) == null) {
                    throw new IpgException("prompt " + pf.index() + " of " + dir + " has no results for " + site);
                }
            }
            promptFiles.add(pf);
        }
        List<SiteScores> sites = readScores(dir.resolve("scores.safetensors"), siteNames, m);
        List<Completeness> completeness = new ArrayList<>();
        List<Curve> curves = new ArrayList<>();
        List<Curve> means = new ArrayList<>();
        Estimator est = Estimator.of(config);
        for (SiteScores s : sites) {
            SiteCompleteness recorded = run.completeness().get(s.site());
            List<String> warnings = recorded == null ? List.of() : recorded.warnings();
            completeness.add(completeness(s, promptFiles, est, warnings));
            List<Curve> mine = new ArrayList<>();
            for (PromptFile pf : promptFiles) {
                mine.add(curve(s.site(), pf.index(), pf.id(), pf.at(s.site())));
            }
            curves.addAll(mine);
            means.add(meanCurve(s.site(), mine));
        }
        List<PromptInfo> prompts = new ArrayList<>();
        for (PromptFile pf : promptFiles) {
            List<SiteCompletions> sc = new ArrayList<>();
            for (String site : siteNames) {
                SiteResult sj = pf.at(site);
                List<Completion> items = sj.completionsLastPoint().stream()
                        .map(c -> new Completion(c.text(), c.tokens(), c.reward())).toList();
                double alpha = sj.curve().isEmpty() ? 1 : sj.curve().getLast().alpha();
                sc.add(new SiteCompletions(site, alpha, sj.completeness().jbar0(), sj.completeness().jbar1(), items));
            }
            prompts.add(new PromptInfo(pf.index(), pf.id(), pf.question(), pf.gold(), sc));
        }
        Path modelDir = run.modelDir() == null ? null : Path.of(run.modelDir());
        Header header = header(dir, run, siteNames, m, modelDir);
        return new Run(dir, config, modelDir, header, sites, completeness, curves, means, prompts);
    }

    private static JsonNode need(JsonNode node, String field, Path file) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw new IpgException(file + " has no '" + field + "'");
        }
        return v;
    }

    private static List<SiteScores> readScores(Path file, List<String> siteNames, int m) {
        if (!Files.exists(file)) {
            throw new IpgException(file + " is missing (the run has not finished?)");
        }
        List<SiteScores> out = new ArrayList<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : siteNames) {
                String key = name + "/per_prompt";
                if (!f.has(key)) {
                    throw new IpgException(file + " has no tensor " + key);
                }
                var pp = f.matrix(key); // [M, d]
                if (pp.rows() != m) {
                    throw new IpgException(file + ": " + key + " has " + pp.rows() + " rows, run.json says " + m + " prompts");
                }
                int d = pp.cols();
                float[] perPrompt = new float[m * d];
                for (int i = 0; i < m; i++) {
                    pp.copyRow(i, perPrompt, i * d);
                }
                ComponentStats stats = ComponentStats.of(name, perPrompt, m, d);
                Site site = Site.parse(name);
                out.add(new SiteScores(name, site.layer(), d, m, stats.scores(), stats.stdErr(), stats.positive()));
            }
        }
        return out;
    }

    /** The 0.975 quantile of Student's t with {@code df} degrees of freedom (table to 30, Cornish-Fisher beyond). */
    static double t975(int df) {
        final double[] table = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
            2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
        if (df < 1) {
            return Double.NaN;
        }
        if (df <= table.length) {
            return table[df - 1];
        }
        double z = 1.959963984540054;
        double z3 = z * z * z;
        double z5 = z3 * z * z;
        return z + (z3 + z) / (4.0 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96.0 * df * df);
    }

    /**
     * The {@code n} components with the largest |S_i| over all sites, as table rows (95% t
     * interval of the mean over prompts); rows whose component is in {@code selected} are marked.
     */
    public static List<TopRow> topRows(List<SiteScores> sites, int n, Set<String> selected) {
        record Entry(SiteScores s, int c) {
        }
        List<Entry> all = new ArrayList<>();
        for (SiteScores s : sites) {
            for (int c = 0; c < s.width(); c++) {
                all.add(new Entry(s, c));
            }
        }
        all.sort(Comparator.comparingDouble((Entry e) -> -Math.abs(e.s.scores()[e.c]))
                .thenComparing(e -> e.s.layer()).thenComparingInt(e -> e.c));
        List<TopRow> rows = new ArrayList<>();
        for (int r = 0; r < Math.min(n, all.size()); r++) {
            Entry e = all.get(r);
            double mu = e.s.scores()[e.c];
            double half = e.s.prompts() > 1 ? t975(e.s.prompts() - 1) * e.s.stdErr()[e.c] : Double.NaN;
            rows.add(new TopRow(r + 1, e.s.site(), e.c, mu, mu - half, mu + half, e.s.positivePrompts()[e.c], e.s.prompts(),
                    (int) Math.signum(mu), selected.contains(key(e.s.site(), e.c))));
        }
        return rows;
    }

    /** The key that names a component in {@link #topRows}'s {@code selected} set. */
    static String key(String site, int component) {
        return site + "#" + component;
    }

    /**
     * The {@code k} components with the largest signed S_i over all sites (the paper's selection),
     * ties broken by layer then index.
     */
    public static List<Component> selectTop(List<SiteScores> sites, int k) {
        List<Component> all = new ArrayList<>();
        for (SiteScores s : sites) {
            Site site = Site.parse(s.site());
            for (int c = 0; c < s.width(); c++) {
                all.add(new Component(site, c, s.scores()[c]));
            }
        }
        all.sort(Comparator.comparingDouble((Component c) -> -c.score()).thenComparingInt(c -> c.site().layer())
                .thenComparing(c -> c.site().kind()).thenComparingInt(Component::index));
        return List.copyOf(all.subList(0, Math.min(k, all.size())));
    }

    /**
     * What the completeness check depends on, from a run's configuration.
     *
     * @param advantage      grpo or rloo
     * @param policyGradient tempered or truncated ({@code truncated} for runs that predate the choice)
     * @param truncates      whether sampling truncates (top-k on or top-p below 1)
     * @param steps          the number of path points
     */
    record Estimator(String advantage, String policyGradient, boolean truncates, int steps) {

        static Estimator of(JsonNode config) {
            JsonNode h = config.path("hyperparameters");
            return new Estimator(h.path("advantage").asText(""), h.path("policy_gradient").asText("truncated"),
                    h.path("top_k").asInt(0) > 0 || h.path("top_p").asDouble(1) < 1, h.path("steps").asInt(2));
        }

        /** How the badge names the estimator, e.g. "rloo, tempered". */
        String label() {
            return (advantage.isEmpty() ? "unknown advantage" : advantage) + ", " + policyGradient + " gradient";
        }
    }

    static Completeness completeness(SiteScores s, List<PromptFile> prompts, Estimator est, List<String> warnings) {
        int m = prompts.size();
        double[] delta = new double[m];
        double[] sums = new double[m];
        double[] first = new double[m];
        boolean vary = false;
        for (int i = 0; i < m; i++) {
            SiteResult site = prompts.get(i).at(s.site());
            delta[i] = site.completeness().delta();
            sums[i] = site.completeness().sumIpg();
            first[i] = site.completeness().firstStep();
            vary |= site.rewardsVary();
        }
        CompletenessCheck c = CompletenessCheck.of(s.scores(), delta, sums, first);
        return verdict(s.site(), c.sumScores(), c.meanDelta(), c.gap(), c.gapStdErr(), c.meanFirstStep(), vary, est, warnings);
    }

    /** {@link #verdict(String, double, double, double, double, double, boolean, Estimator, List)} of an untruncated run. */
    static Completeness verdict(String site, double sum, double delta, double gap, double gapSe, double first, boolean rewardsVary,
                                String advantage) {
        return verdict(site, sum, delta, gap, gapSe, first, rewardsVary, new Estimator(advantage, "tempered", false, 2), List.of());
    }

    /**
     * Classifies the completeness check and says what it means in plain words. Only the rloo
     * advantage makes the identity hold (in expectation): under grpo, or with the truncated policy's
     * gradient under a truncating sampler, the verdict is "not expected" whatever the gap, since a
     * small gap there is a coincidence, not a check.
     */
    static Completeness verdict(String site, double sum, double delta, double gap, double gapSe, double first, boolean rewardsVary,
                                Estimator est, List<String> warnings) {
        String nums = String.format(Locale.ROOT, "sum of scores %s vs. Jbar(1) - Jbar(0) = %s", fmt(sum), fmt(delta));
        double scale = Math.max(Math.abs(sum), Math.abs(delta));
        String adv = est.advantage();
        if (!rewardsVary) {
            return new Completeness(site, sum, delta, gap, gapSe, first, Verdict.TRIVIAL,
                    "Every sampled trajectory got the same reward along the whole path, so the expected reward did not move and "
                            + "every score is zero: the check holds trivially and the scores carry no information. Use a signal that "
                            + "varies between samples (or more samples, a higher temperature).", est.label(), warnings);
        }
        CompletenessCheck.Reason why = CompletenessCheck.why(adv, est.policyGradient(), est.truncates(), est.steps());
        if (why == CompletenessCheck.Reason.ONE_POINT) {
            return new Completeness(site, sum, delta, gap, gapSe, first, Verdict.NOT_EXPECTED, String.format(Locale.ROOT,
                    "Not expected to hold: %s. One path point at alpha = 1 is a local gradient, not a path integral.", nums),
                    est.label(), warnings);
        }
        if (why == CompletenessCheck.Reason.ADVANTAGE) {
            return new Completeness(site, sum, delta, gap, gapSe, first, Verdict.NOT_EXPECTED, String.format(Locale.ROOT,
                    "Not expected to hold under the %s advantage: %s (gap %s, standard error %s). It divides every group of samples "
                            + "by its own standard deviation, so the scores rank components but need not add up to the change in "
                            + "reward, and a small gap is a coincidence of that scaling, not a check; use --advantage rloo for a run "
                            + "whose check should hold.", adv.isEmpty() ? "run's" : adv, nums, fmt(gap), fmt(gapSe)), est.label(), warnings);
        }
        if (why == CompletenessCheck.Reason.TRUNCATED_GRADIENT) {
            return new Completeness(site, sum, delta, gap, gapSe, first, Verdict.NOT_EXPECTED, String.format(Locale.ROOT,
                    "Not expected to hold with the truncated policy's gradient: %s (gap %s). Its log-probability is exactly 0 "
                            + "wherever top-k / top-p keeps a single token, so its gradient misses that part of the change; "
                            + "--policy-gradient tempered differentiates softmax(logits / T) instead.", nums, fmt(gap)),
                    est.label(), warnings);
        }
        String approx = est.truncates() ? " Sampling truncates (top-k / top-p), so the identity is approximate." : "";
        double tiny = 1e-9 + 1e-6 * scale;
        if (Math.abs(gap) <= tiny || (gapSe > 0 && Math.abs(gap) <= 2 * gapSe)) {
            return new Completeness(site, sum, delta, gap, gapSe, first, Verdict.HOLDS, String.format(Locale.ROOT,
                    "Holds: %s; the gap %s is within Monte-Carlo noise (2 standard errors = %s), so the scores account for the "
                            + "whole change in expected reward.%s", nums, fmt(gap), fmt(2 * gapSe), approx), est.label(), warnings);
        }
        if (Double.isNaN(gapSe)) {
            return new Completeness(site, sum, delta, gap, gapSe, first, Verdict.UNDETERMINED, String.format(Locale.ROOT,
                    "Cannot tell: %s (gap %s), but with one prompt there is no spread to tell noise from a real gap. "
                            + "Attribute more prompts.", nums, fmt(gap)), est.label(), warnings);
        }
        if (Math.abs(first) > 2 * gapSe && Math.abs(gap + first) < 0.5 * Math.abs(gap)) {
            return new Completeness(site, sum, delta, gap, gapSe, first, Verdict.FIRST_STEP, String.format(Locale.ROOT,
                    "Does not hold: %s (gap %s, standard error %s), and most of the gap is the first step Jbar(alpha_1) - Jbar(0) = %s, "
                            + "a jump near alpha = 0 that the path points never sample. Try --quadrature gauss-legendre, more "
                            + "--steps, or --baseline mean.", nums, fmt(gap), fmt(gapSe), fmt(first)), est.label(), warnings);
        }
        return new Completeness(site, sum, delta, gap, gapSe, first, Verdict.GAP, String.format(Locale.ROOT,
                "Does not hold: %s; the gap %s is more than twice its standard error %s. More samples (--samples) or path "
                        + "points (--steps) should shrink it; if not, look at the Jbar curves for a jump.%s", nums, fmt(gap), fmt(gapSe),
                approx), est.label(), warnings);
    }

    /** A number for people: 4 significant digits without trailing zeros, scientific notation outside [1e-3, 1e4). */
    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a < 1e-15) {
            return "0"; // rounding noise of sums that cancel
        }
        if (a >= 1e-3 && a < 1e4) {
            return new java.math.BigDecimal(String.format(Locale.ROOT, "%.4g", v)).stripTrailingZeros().toPlainString();
        }
        return String.format(Locale.ROOT, "%.3e", v);
    }

    static Curve curve(String site, int index, String id, SiteResult result) {
        List<double[]> pts = new ArrayList<>();
        List<CurvePoint> nodes = result.curve();
        if (nodes.isEmpty() || nodes.getFirst().alpha() > 0) {
            pts.add(new double[] {0, result.completeness().jbar0()});
        }
        nodes.forEach(n -> pts.add(new double[] {n.alpha(), n.jbar()}));
        if (nodes.isEmpty() || nodes.getLast().alpha() < 1) {
            pts.add(new double[] {1, result.completeness().jbar1()});
        }
        return new Curve(site, index, id, pts.stream().mapToDouble(p -> p[0]).toArray(), pts.stream().mapToDouble(p -> p[1]).toArray());
    }

    /** The pointwise mean of curves on the same path points. */
    static Curve meanCurve(String site, List<Curve> curves) {
        double[] alpha = curves.getFirst().alpha().clone();
        double[] mean = new double[alpha.length];
        for (Curve c : curves) {
            if (c.alpha().length != alpha.length) {
                throw new IpgException("the Jbar curves of " + site + " have different path points");
            }
            for (int k = 0; k < alpha.length; k++) {
                mean[k] += c.jbar()[k] / curves.size();
            }
        }
        return new Curve(site, -1, "mean", alpha, mean);
    }

    private static Header header(Path dir, RunFile run, List<String> sites, int m, Path modelDir) {
        JsonNode config = run.config();
        Map<String, String> hp = new LinkedHashMap<>();
        config.path("hyperparameters").fields().forEachRemaining(e -> hp.put(e.getKey(), text(e.getValue())));
        config.path("prompt_format").fields().forEachRemaining(e -> hp.put("prompt_format." + e.getKey(), text(e.getValue())));
        hp.put("dataset.sha256", config.at("/dataset/sha256").asText(""));
        RunTimings t = run.timings();
        String arch = config.at("/model/architecture").asText("unknown");
        return new Header(modelDir == null ? arch : String.valueOf(modelDir.getFileName()), modelDir == null ? null : modelDir.toString(),
                arch, config.at("/model/fingerprint").asText(""), config.path("method").asText("integrated-policy-gradient"),
                List.copyOf(sites), config.path("signal").asText(""), config.at("/dataset/file").asText(""),
                config.at("/dataset/problems").asInt(), m, hp, t.wallSeconds(), t.samplingSeconds(), t.backwardSeconds(),
                t.generatedTokens(), t.threads(), t.kernels(), run.ipgVersion() == null ? "dev" : run.ipgVersion(),
                String.valueOf(dir.toAbsolutePath().normalize().getFileName()), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    }

    private static String text(JsonNode v) {
        if (v == null || v.isNull()) {
            return "none";
        }
        if (v.isArray()) {
            List<String> parts = new ArrayList<>();
            v.forEach(x -> parts.add(text(x)));
            return String.join(", ", parts);
        }
        return v.isValueNode() ? v.asText() : v.toString();
    }
}
