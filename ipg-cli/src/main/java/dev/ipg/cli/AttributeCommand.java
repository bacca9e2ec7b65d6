package dev.ipg.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.AttributionRun;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.eval.Dataset;
import dev.ipg.core.eval.PromptFormat;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg attribute}: Integrated Policy Gradient over a support set. */
@Command(name = "attribute", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Attribute an outcome signal to the components of a site with Integrated Policy Gradient.",
                "Writes RUN_DIR/scores.safetensors (scores [d], per_prompt [M, d]), top.csv and run.json; "
                        + "rerunning the same command resumes."})
final class AttributeCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--dataset", required = true, paramLabel = "FILE.jsonl", description = "Support set (GSM8K, MATH-500 or AIME shape, or --field).")
    Path dataset;

    @Option(names = "--site", required = true, split = ",", paramLabel = "SITE",
            description = "Site(s), e.g. blocks.20.hook_resid_post, a layer range blocks.20-26.hook_resid_post, or a list.")
    List<String> sites;

    @Option(names = "--signal", required = true, paramLabel = "SPEC",
            description = "Outcome: correct, length, reflection[:w1,w2], regex:PATTERN, external:COMMAND, or sums like correct-0.01*reflection.")
    String signalSpec;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "RUN_DIR", description = "Run directory (created; resumed if it exists).")
    Path out;

    @Option(names = "--steps", defaultValue = "10", description = "q, path points (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--samples", defaultValue = "5", description = "N, trajectories per point (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--temperature", defaultValue = "0.6", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-p", defaultValue = "0.8", description = "Nucleus mass (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--top-k", defaultValue = "0", description = "Top-k, 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--max-new-tokens", defaultValue = "512", description = "Generation budget (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--advantage", defaultValue = "grpo", description = "grpo (paper) or rloo (unbiased; completeness holds) (default: ${DEFAULT-VALUE}).")
    String advantage;

    @Option(names = "--baseline", defaultValue = "zero", description = "zero or mean (default: ${DEFAULT-VALUE}).")
    String baseline;

    @Option(names = "--sampling", defaultValue = "on-path", description = "on-path or reuse-weighted (default: ${DEFAULT-VALUE}).")
    String sampling;

    @Option(names = "--positions", defaultValue = "all", description = "all or generated (default: ${DEFAULT-VALUE}).")
    String positions;

    @Option(names = "--quadrature", defaultValue = "riemann-right",
            description = "riemann-right (paper), midpoint, trapezoid or gauss-legendre (default: ${DEFAULT-VALUE}).")
    String quadrature;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "M", description = "Use the first M problems (0 = all).")
    int limit;

    @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    DatasetFormatOptions format;

    @Option(names = "--top", defaultValue = "50", description = "Rows per site in top.csv (default: ${DEFAULT-VALUE}).")
    int top;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    static <E extends Enum<E>> E choice(Class<E> type, String value, String option) {
        for (E e : type.getEnumConstants()) {
            if (e.name().replace('_', '-').equalsIgnoreCase(value)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        throw new IpgException(option + ": unknown value '" + value + "' (use " + String.join(", ", names) + ")");
    }

    private static final Pattern RANGE = Pattern.compile("blocks\\.(\\d+)-(\\d+)\\.(.+)");

    /** Expands site names and ranges such as blocks.20-26.hook_resid_post. */
    static List<Site> parseSites(List<String> specs) {
        Set<Site> out = new LinkedHashSet<>();
        for (String s : specs) {
            Matcher m = RANGE.matcher(s.strip());
            if (m.matches()) {
                int a = Integer.parseInt(m.group(1));
                int b = Integer.parseInt(m.group(2));
                if (b < a) {
                    throw new IpgException("site range " + s + " is empty");
                }
                for (int l = a; l <= b; l++) {
                    out.add(Site.parse("blocks." + l + "." + m.group(3)));
                }
            } else {
                out.add(Site.parse(s));
            }
        }
        return new ArrayList<>(out);
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter outw = spec.commandLine().getOut();
        IpgOptions opt = new IpgOptions(steps, samples, temperature, topP, topK, maxNewTokens,
                choice(Advantage.class, advantage, "--advantage"), choice(IpgOptions.BaselineKind.class, baseline, "--baseline"),
                choice(IpgOptions.SamplingMode.class, sampling, "--sampling"), choice(IpgOptions.Positions.class, positions, "--positions"),
                Quadrature.parse(quadrature), seed);
        List<Site> siteList = parseSites(sites);
        PromptFormat fmt = format.format();
        Dataset data = format.load(dataset);
        try (Parallel pool = model.pool(); Transformer m = model.load(pool); Tokenizer tok = Tokenizer.load(model.dir());
             Signal signal = Signals.parse(signalSpec)) {
            Set<Integer> eos = DatasetFormatOptions.eos(m, tok, model.dir());
            int used = limit > 0 ? Math.min(limit, data.size()) : data.size();
            var run = new AttributionRun(m, tok, data, signal, new AttributionRun.Spec(siteList, opt, signalSpec, fmt, top), eos, out,
                    new ProgressBar(err));
            run.check(limit); // bad input is reported before the run is announced
            err.printf(Locale.ROOT, "[IPG on %d prompts of %s at %s; q=%d N=%d T=%s top-p=%s, %s advantage, %s sampling, %d threads, %s]%n",
                    used, dataset.getFileName(), siteList.size() == 1 ? siteList.getFirst() : siteList.size() + " sites", steps, samples,
                    temperature, topP, opt.advantage().name().toLowerCase(Locale.ROOT), sampling, pool.threads(), m.kernels().name());
            JsonNode result = run.run(limit);
            for (Site s : siteList) {
                JsonNode c = result.path("completeness").path(s.toString());
                outw.printf(Locale.ROOT, "%s: sum of scores %.4f, Jbar(1) - Jbar(0) = %.4f (gap %.4f; Jbar(alpha_1) - Jbar(0) = %.4f)%n",
                        s, c.path("sum_scores").asDouble(), c.path("mean_jbar1_minus_jbar0").asDouble(), c.path("gap").asDouble(),
                        c.path("mean_jbar_alpha1_minus_jbar0").asDouble());
            }
            outw.println("wrote " + out.resolve("scores.safetensors") + ", " + out.resolve("top.csv") + ", " + out.resolve("run.json"));
        }
        return 0;
    }
}
