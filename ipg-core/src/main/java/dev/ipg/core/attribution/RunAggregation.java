package dev.ipg.core.attribution;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.run.AttributionFiles;
import dev.ipg.core.run.AttributionFiles.PathPoint;
import dev.ipg.core.run.AttributionFiles.PromptFile;
import dev.ipg.core.run.AttributionFiles.PromptSummary;
import dev.ipg.core.run.AttributionFiles.RunFile;
import dev.ipg.core.run.AttributionFiles.RunTimings;
import dev.ipg.core.run.AttributionFiles.SiteCompleteness;
import dev.ipg.core.run.AttributionFiles.SiteResult;
import dev.ipg.core.run.CompletenessCheck;
import dev.ipg.core.run.ComponentStats;
import dev.ipg.core.run.RunDirectory;
import dev.ipg.core.run.RunFiles;
import dev.ipg.core.tensor.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The last step of an attribution run: reads the per-prompt files of {@code prompts/} and writes
 * {@code scores.safetensors} (S_i and the per-prompt scores of every site, the mean contribution
 * of every path point), {@code top.csv} and {@code run.json} (the completeness check per site).
 */
final class RunAggregation {

    /**
     * The scores of one site as the run names them.
     *
     * @param name  the site, or its SAE's latents
     * @param width the number of components
     */
    record Scores(String name, int width) {
    }

    private final Path dir;
    private final List<Scores> sites;
    private final IpgOptions options;
    private final int topRows;
    private final int m;

    RunAggregation(Path dir, List<Scores> sites, IpgOptions options, int topRows, int prompts) {
        this.dir = dir;
        this.sites = List.copyOf(sites);
        this.options = options;
        this.topRows = topRows;
        this.m = prompts;
    }

    /** Writes the outputs; returns run.json's record. */
    RunFile write(ObjectNode config, String modelDir, RunDirectory.Machine machine, double seconds) {
        List<PromptFile> prompts = readPrompts();
        SafetensorsWriter scores = new SafetensorsWriter();
        List<ComponentStats> stats = new ArrayList<>();
        Map<String, SiteCompleteness> completeness = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        for (Scores site : sites) {
            float[] perPrompt = perPrompt(site);
            ComponentStats s = ComponentStats.of(site.name(), perPrompt, m, site.width());
            stats.add(s);
            addScores(scores, site, s.scores(), perPrompt);
            SiteCompleteness c = completeness(site.name(), s.scores(), prompts);
            completeness.put(site.name(), c);
            warnings.addAll(c.warnings());
            scores.add(site.name() + "/points", meanPointContributions(site), new long[] {options.rule().nodes().length, site.width()},
                    DType.F32);
        }
        scores.metadata("ipg.config", config.toString());
        scores.write(dir.resolve("scores.safetensors"));
        ComponentStats.writeTopCsv(dir.resolve("top.csv"), stats, topRows);
        RunFile run = new RunFile(RunFiles.version(), modelDir, config, summaries(prompts), completeness, warnings,
                timings(prompts, seconds, machine));
        RunFiles.write(dir.resolve("run.json"), run);
        return run;
    }

    private Path promptFile(int i, String ext) {
        return dir.resolve("prompts").resolve(AttributionFiles.promptName(i) + ext);
    }

    private List<PromptFile> readPrompts() {
        List<PromptFile> out = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            out.add(RunFiles.read(promptFile(i, ".json"), PromptFile.class, "an attribution prompt file"));
        }
        return out;
    }

    private static List<PromptSummary> summaries(List<PromptFile> prompts) {
        List<PromptSummary> out = new ArrayList<>();
        for (PromptFile p : prompts) {
            Map<String, AttributionFiles.SiteSummary> bySite = new LinkedHashMap<>();
            p.sites().forEach((site, r) -> bySite.put(site, r.summary()));
            out.add(new PromptSummary(p.index(), p.id(), bySite));
        }
        return out;
    }

    /** The per-prompt scores of {@code site}, [m, width]. */
    private float[] perPrompt(Scores site) {
        float[] out = new float[m * site.width()];
        for (int i = 0; i < m; i++) {
            try (SafetensorsFile f = SafetensorsFile.open(promptFile(i, ".safetensors"))) {
                f.matrix(site.name()).copyRow(0, out, i * site.width());
            }
        }
        return out;
    }

    /** SITE/scores and SITE/per_prompt; with one site also unprefixed. */
    private void addScores(SafetensorsWriter w, Scores site, float[] mean, float[] perPrompt) {
        int width = site.width();
        w.add(site.name() + "/scores", mean, new long[] {width}, DType.F32);
        w.add(site.name() + "/per_prompt", perPrompt, new long[] {m, width}, DType.F32);
        if (sites.size() == 1) {
            w.add("scores", mean, new long[] {width}, DType.F32);
            w.add("per_prompt", perPrompt, new long[] {m, width}, DType.F32);
        }
    }

    /** The completeness check of one site with its path diagnostics. */
    private SiteCompleteness completeness(String site, float[] scores, List<PromptFile> prompts) {
        Quadrature.Rule rule = options.rule();
        int q = rule.nodes().length;
        double[] delta = new double[m];
        double[] first = new double[m];
        double j0 = 0;
        double j1 = 0;
        double[] pointJbar = new double[q];
        double[] pointContribution = new double[q];
        for (int i = 0; i < m; i++) {
            SiteResult r = prompts.get(i).at(site);
            if (r == null) {
                throw new IpgException(promptFile(i, ".json") + " has no results for " + site);
            }
            delta[i] = r.completeness().delta();
            first[i] = r.completeness().firstStep();
            j0 += r.completeness().jbar0() / m;
            j1 += r.completeness().jbar1() / m;
            for (int k = 0; k < q; k++) {
                pointJbar[k] += r.curve().get(k).jbar() / m;
                pointContribution[k] += r.curve().get(k).contribution() / m;
            }
        }
        CompletenessCheck check = CompletenessCheck.of(scores, delta, null, first);
        PathDiagnostics diag = PathDiagnostics.of(site, options.alphaMin(), rule.nodes(), rule.weights(), pointJbar, pointContribution,
                j0, j1, check.meanDelta(), check.deltaStdErr(), check.meanFirstStep());
        List<PathPoint> points = diag.points().stream()
                .map(p -> new PathPoint(p.alpha(), p.weight(), p.jbar(), p.contribution(), p.share(), p.far())).toList();
        return new SiteCompleteness(options.advantage().name().toLowerCase(Locale.ROOT), options.gradient().cliName(),
                options.alphaMin(), check.sumScores(), check.meanDelta(), check.deltaStdErr(), check.gap(), check.meanFirstStep(),
                CompletenessNotes.expected(options), CompletenessNotes.note(options), points, diag.warnings());
    }

    /** Each path point's mean contribution to the scores, [q, width] (zero for prompts written before points were kept). */
    private float[] meanPointContributions(Scores site) {
        int q = options.rule().nodes().length;
        int width = site.width();
        float[] byPoint = new float[q * width];
        for (int i = 0; i < m; i++) {
            try (SafetensorsFile f = SafetensorsFile.open(promptFile(i, ".safetensors"))) {
                if (f.has(site.name() + "/points")) {
                    var mtx = f.matrix(site.name() + "/points");
                    for (int k = 0; k < q; k++) {
                        for (int c = 0; c < width; c++) {
                            byPoint[k * width + c] += mtx.get(k, c) / m;
                        }
                    }
                }
            }
        }
        return byPoint;
    }

    private static RunTimings timings(List<PromptFile> prompts, double seconds, RunDirectory.Machine machine) {
        double sampling = 0;
        double backward = 0;
        long tokens = 0;
        for (PromptFile p : prompts) {
            for (SiteResult r : p.sites().values()) {
                sampling += r.timings().samplingSeconds();
                backward += r.timings().backwardSeconds();
                tokens += r.generatedTokens();
            }
        }
        return new RunTimings(seconds, sampling, backward, tokens, machine.threads(), machine.kernels());
    }
}
