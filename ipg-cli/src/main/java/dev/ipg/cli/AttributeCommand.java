package dev.ipg.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.AttributionRun;
import dev.ipg.core.attribution.Candidates;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeSite;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.run.ScaleOut;
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
            description = {"Outcome signal: correct, length[:thinking|:answer], reflection[:w1,w2], regex:PATTERN, external:COMMAND, "
                    + "reward-model:DIR (a ...ForSequenceClassification checkpoint's score), or weighted sums such as "
                    + "correct-0.01*reflection."})
    String signalSpec;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "RUN_DIR", description = "Run directory (created; resumed if it exists).")
    Path out;

    @Mixin
    EstimatorOptions.Ipg ipg;

    @Mixin
    SamplingOptions.TopK topK;

    @Mixin
    EstimatorOptions.Gradient gradient;

    @Option(names = "--alpha-min", defaultValue = "0", paramLabel = "A",
            description = "The path runs over alpha in [A, 1] instead of [0, 1]; scores then sum to Jbar(1) - Jbar(A) (default: ${DEFAULT-VALUE}).")
    double alphaMin;

    @Option(names = "--candidates", paramLabel = "RUN_DIR:top=K",
            description = "Move only the K top components (signed score) of each site of an earlier run along the path; the rest "
                    + "stay at alpha = 1 and score 0 (a second stage refining a first).")
    String candidates;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "M", description = "Use the first M problems (0 = all).")
    int limit;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    DatasetFormatOptions format;

    @Option(names = "--csv-rows", defaultValue = "50", paramLabel = "N", description = "Rows per site in top.csv (default: ${DEFAULT-VALUE}).")
    int csvRows;

    @Option(names = "--top", hidden = true, paramLabel = "N")
    void retiredTop(String value) {
        throw SelectionOptions.retired(spec, "--top", "--csv-rows N (rows per site in top.csv)");
    }

    @Mixin
    SaeOptions saeOptions;

    @Option(names = "--spark", paramLabel = "MASTER", description = Cluster.HELP)
    String spark;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

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
            } else if (SaeSite.isSaeName(s)) {
                out.add(SaeSite.parse(s).site());
            } else {
                out.add(Site.parse(s));
            }
        }
        return new ArrayList<>(out);
    }

    private static Candidates candidatesOf(String spec, List<Site> sites) {
        try {
            return Candidates.parse(spec, sites);
        } catch (IpgException e) {
            String m = e.getMessage();
            throw new IpgException(m.startsWith("--candidates") ? m : "--candidates: " + m);
        }
    }

    /** What a run opens: the engine, the model, the tokenizer, the signal, the SAE, the run. */
    record Opened(Parallel pool, Transformer model, Tokenizer tok, Signal signal, Sae sae, IpgOptions options, AttributionRun run)
            implements AutoCloseable {
        @Override
        public void close() {
            try (pool; model; tok; signal) {
                // closed in reverse order
            }
        }
    }

    /** Checks the options and opens everything the run needs (on the driver, and once per executor JVM with --spark). */
    Opened open(ProgressListener progress) {
        if (csvRows < 1) {
            throw new IpgException("--csv-rows must be >= 1, got " + csvRows);
        }
        List<Site> siteList = parseSites(sites);
        if (!(alphaMin >= 0 && alphaMin < 1)) {
            throw new IpgException("--alpha-min: must be in [0, 1), got " + alphaMin);
        }
        IpgOptions opt = ipg.options(topK.topK, seed)
                .withGradient(gradient.gradient)
                .withPath(alphaMin, candidates == null ? Candidates.ALL : candidatesOf(candidates, siteList));
        PromptFormat fmt = format.format();
        Dataset data = format.load(dataset);
        Parallel pool = model.pool();
        Transformer m = null;
        Tokenizer tok = null;
        Signal signal = null;
        try {
            m = model.load(pool);
            tok = Tokenizer.load(model.dir());
            signal = Signals.parse(signalSpec, pool);
            Set<Integer> eos = DatasetFormatOptions.eos(m, tok, model.dir());
            Sae sae = saeOptions.given() ? saeOptions.load(m.config(), siteList.size() == 1 ? siteList.getFirst() : null) : null;
            var run = new AttributionRun(m, tok, data, signal, new AttributionRun.Spec(siteList, opt, signalSpec, fmt, csvRows), eos, out,
                    progress, sae);
            return new Opened(pool, m, tok, signal, sae, opt, run);
        } catch (RuntimeException e) {
            try (Parallel p = pool; Transformer m0 = m; Tokenizer t0 = tok; Signal s0 = signal) {
                throw e;
            }
        }
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter outw = spec.commandLine().getOut();
        ProgressBar bar = new ProgressBar(err);
        try (Opened o = open(bar); ScaleOut cluster = spark == null ? null : Cluster.open(spark, bar)) {
            Parallel pool = o.pool();
            Transformer m = o.model();
            Sae sae = o.sae();
            IpgOptions opt = o.options();
            AttributionRun run = o.run();
            List<Site> siteList = parseSites(sites);
            Dataset data = format.load(dataset);
            int used = limit > 0 ? Math.min(limit, data.size()) : data.size();
            run.check(limit); // bad input is reported before the run is announced
            err.printf(Locale.ROOT, "[IPG on %d prompts of %s at %s; q=%d N=%d T=%s top-p=%s, %s advantage, %s policy gradient, %s sampling%s%s, "
                            + "%d threads, %s]%n",
                    used, dataset.getFileName(), siteList.size() == 1 ? siteList.getFirst() : siteList.size() + " sites", opt.steps(),
                    opt.samples(), opt.temperature(), opt.topP(), Choice.spelling(opt.advantage()), opt.gradient().cliName(),
                    Choice.spelling(opt.sampling()),
                    alphaMin > 0 ? ", path from alpha " + alphaMin : "", opt.candidates().all() ? "" : ", top " + opt.candidates().top()
                            + " candidates of " + opt.candidates().source(), pool.threads(), m.kernels().name());
            if (sae != null) {
                err.println("[IPG-SAE: the components at " + sae.site() + " are the " + sae.dSae() + " latents of " + sae + "]");
            }
            JsonNode result;
            if (cluster == null) {
                result = run.run(limit);
            } else {
                Cluster.Job job = Cluster.job(spec);
                int lim = limit;
                Cluster.share(job, o);
                try {
                    result = run.run(limit, (missing, baselines, done) -> cluster.run(missing, i -> {
                        Opened e = Cluster.cached(job, () -> {
                            AttributeCommand c = (AttributeCommand) Cluster.parse(job);
                            Cluster.requireModel(c.model.model);
                            return c.open(ProgressListener.NONE);
                        });
                        synchronized (e) {
                            return e.run().computePrompt(lim, i, baselines);
                        }
                    }, done));
                } finally {
                    Cluster.unshare(job);
                }
            }
            for (Site s : siteList) {
                String n = sae != null && sae.site().equals(s) ? sae.name(SaeSite.Point.ACTS_POST) : s.toString();
                JsonNode c = result.path("completeness").path(n);
                String a0 = alphaMin > 0 ? Double.toString(alphaMin) : "0";
                outw.printf(Locale.ROOT, "%s: sum of scores %.4f, Jbar(1) - Jbar(%s) = %.4f (gap %.4f; Jbar(alpha_1) - Jbar(%s) = %.4f); %s%n",
                        n, c.path("sum_scores").asDouble(), a0, c.path("mean_jbar1_minus_jbar0").asDouble(), c.path("gap").asDouble(), a0,
                        c.path("mean_jbar_alpha1_minus_jbar0").asDouble(), c.path("note").asText());
                StringBuilder pts = new StringBuilder();
                c.path("points").forEach(p -> pts.append(String.format(Locale.ROOT, " %.3g:%+.3g", p.path("alpha").asDouble(),
                        p.path("contribution").asDouble())));
                outw.printf(Locale.ROOT, "%s: contribution of each path point (alpha:sum):%s%n", n, pts);
            }
            outw.println("wrote " + out.resolve("scores.safetensors") + ", " + out.resolve("top.csv") + ", " + out.resolve("run.json"));
        }
        return 0;
    }
}
