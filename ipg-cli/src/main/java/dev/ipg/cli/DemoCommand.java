package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.baselines.ControlVectorBaseline;
import dev.ipg.core.attribution.baselines.IntegratedGradients;
import dev.ipg.core.attribution.baselines.Method;
import dev.ipg.core.compare.Comparison;
import dev.ipg.core.compare.PlantedTruth;
import dev.ipg.core.compare.Protocol;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.report.Report;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ipg demo}: the whole pipeline on a bundled model, offline. On the demo model (the
 * default testbed): at a residual and an MLP site, IPG and the baselines on the support split,
 * the comparison on the evaluation split under enhance and suppress, the localization protocol
 * (suppression curves over k with paired intervals against IPG, random selection over 10 seeds,
 * the ablation ground truth on the dev split, stability between support halves, the verdict per
 * site), and the HTML report; with the bundled SAE (or {@code --sae}) the table of the SAE's site
 * also has the IPG-SAE and SAE-R rows. On the planted testbed: the same protocol at the planted
 * site with the reflection signal, each method's precision and recall against the planted set,
 * and the steering effect of each method's top k on reflections. It runs the comparison and the
 * report of {@code ipg compare} and {@code ipg report} through the library, with small settings
 * sized for a laptop, so what it prints is exactly what those commands measure.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole pipeline on a bundled model: IPG attribution and the baselines on its support split, the "
                + "comparison (enhance / suppress) on its evaluation split, the localization protocol (suppression curves over k with "
                + "paired intervals against IPG, random selection over 10 seeds, a ground truth by ablation on its dev split), and "
                + "the HTML report.",
                "--testbed demo (the default): the demo model at a residual and an MLP site, accuracy as the signal, the top 5 percent "
                        + "of the components selected, stability between support halves; with the bundled SAE (models/ipg-demo-sae) the "
                        + "residual site's table also has IPG-SAE and SAE-R rows over its latents.",
                "--testbed planted: the testbed with a planted mechanism (models/ipg-planted: its re-check decision carried by the "
                        + "neurons listed in planted.json), at the planted site with the reflection signal, the top k = the planted "
                        + "set's size selected: each method's precision and recall against the planted set, and in the table the "
                        + "effect of suppressing and enhancing each method's top k on reflections (reflect) and length (mean tok).",
                "Runs what 'ipg compare' then 'ipg report' run, with the settings printed at the start; rerunning resumes. "
                        + "Prints the measured tables and the verdict per site: where IPG wins, ties and loses."})
final class DemoCommand implements Callable<Integer> {

    /** The bundled models the demo runs on. */
    enum Testbed {
        /** models/ipg-demo: the reasoning demo model. */
        DEMO,
        /** models/ipg-planted: a model with a planted re-check mechanism and its ground truth (planted.json). */
        PLANTED
    }

    static final class Testbeds extends Choice<Testbed> {
        Testbeds() {
            super(Testbed.class);
        }
    }

    @Option(names = "--testbed", paramLabel = "demo|planted", defaultValue = "demo", converter = Testbeds.class,
            completionCandidates = Testbeds.class,
            description = "The bundled model and its settings: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}; see above).")
    Testbed testbed;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR",
            description = "Model directory (default: the testbed's bundled model, models/ipg-demo or models/ipg-planted).")
    Path model;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = "demo-out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--site", paramLabel = "SITES",
            description = "Sites, comma-separated (default: demo, the middle block's hook_resid_post and mlp.hook_post; planted, the "
                    + "planted site).")
    String site;

    @Option(names = "--support-limit", paramLabel = "M",
            description = "Support problems attributed (default: " + Limits.DEMO_SUPPORT + "; planted " + Limits.PLANTED_SUPPORT + ").")
    Integer supportLimit;

    @Option(names = "--eval-limit", paramLabel = "N", defaultValue = "50", description = "Evaluation problems per condition (default: ${DEFAULT-VALUE}).")
    int evalLimit;

    @Option(names = "--dev-limit", paramLabel = "N", defaultValue = "32", description = "Dev problems of the ablation ground truth (default: ${DEFAULT-VALUE}).")
    int devLimit;

    @Option(names = "--curve-k", paramLabel = "K,K,...",
            description = "Selection sizes of the suppression curves (default: " + Limits.DEMO_CURVE_K + "; planted " + Limits.PLANTED_CURVE_K
                    + ").")
    String curveK;

    @Option(names = "--steps", paramLabel = "N",
            description = "IPG path points (default: " + Limits.DEMO_STEPS + "; planted " + Limits.PLANTED_STEPS + ").")
    Integer steps;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "4", description = "IPG samples per point (default: ${DEFAULT-VALUE}).")
    int samples;

    @Mixin
    SelectionOptions select;

    @Option(names = "--sae", paramLabel = "DIR",
            description = "An SAE at one of the sites: adds the IPG-SAE (IPG over its latents) and SAE-R (ReasonScore) rows to that "
                    + "site's table (default: the directory MODEL-sae beside the model if there is one, models/ipg-demo-sae for the bundled model).")
    Path sae;

    @Option(names = "--no-sae", description = "Leave out the IPG-SAE and SAE-R rows.")
    boolean noSae;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all available processors).")
    Integer threads;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** The sizes of each testbed, for a laptop (the planted ones run in a few minutes on 2 cores). */
    static final class Limits {
        static final int DEMO_SUPPORT = 32;
        static final int PLANTED_SUPPORT = 32;
        static final String DEMO_CURVE_K = "1,4,16,64";
        static final String PLANTED_CURVE_K = "1,4,16";
        static final int DEMO_STEPS = 5;
        static final int PLANTED_STEPS = 5;

        private Limits() {
        }
    }

    /**
     * What a testbed runs besides the sizes: its signal, methods, generation budget, gamma sweep,
     * whether the stability check runs, the batch size, the reasoning words.
     */
    record Settings(String signal, List<Method> methods, int maxNewTokens, List<Double> sweep, boolean stability, int batchSize,
                    List<String> words) {

        static Settings of(Testbed t) {
            return switch (t) {
                // the demo model's only reasoning word is "wait" (with words that never occur, ReasonScore's entropy
                // term would be 0 for every latent; the reasoning-neuron baseline finds the same positions either way)
                case DEMO -> new Settings("correct", List.of(Method.IPG, Method.RANDOM, Method.ACTIVATION, Method.REASONING_NEURON,
                        Method.CONTROL_VECTOR, Method.PG, Method.IG), 256, List.of(0.0, 0.5, 1.0, 1.5, 2.0), true, 25, List.of("wait"));
                // the planted mechanism carries the re-check decision, which the reflection signal measures
                case PLANTED -> new Settings("reflection", List.of(Method.IPG, Method.PG, Method.ACTIVATION, Method.IG, Method.RANDOM),
                        160, List.of(), false, 50, Signal.Reflection.DEFAULT_WORDS);
            };
        }
    }

    /** The enhance and suppress gammas of both testbeds (the paper's suppress; a moderate enhance). */
    static final double ENHANCE = 1.5;
    static final double SUPPRESS = 0;

    /** The model's own support completions are sampled (a greedy demo model never reflects). */
    static final double SUPPORT_TEMPERATURE = 0.6;

    /** The bundled model of a testbed: under the installation directory the launcher passes as ipg.home, or the working directory. */
    static Path bundled(Testbed t) {
        String home = System.getProperty("ipg.home");
        Path base = home != null ? Path.of(home) : Path.of("").toAbsolutePath();
        return base.resolve("models").resolve(t == Testbed.PLANTED ? "ipg-planted" : "ipg-demo");
    }

    /** The bundled demo model. */
    static Path bundled() {
        return bundled(Testbed.DEMO);
    }

    /** The SAE shipped beside a model directory M: M-sae (models/ipg-demo-sae for the bundled model). */
    static Path saeBeside(Path model) {
        Path abs = model.toAbsolutePath().normalize();
        return abs.resolveSibling(abs.getFileName() + "-sae");
    }

    /**
     * The comparison the demo runs (the protocol repeats it at every site): the library's defaults
     * of the estimator ({@link IpgOptions#paper()}) with the demo's sizes, and greedy evaluation.
     */
    static Comparison.Spec comparison(Site first, List<Method> methods, Top top, Settings s, int steps, int samples, int supportLimit,
                                      int evalLimit) {
        IpgOptions p = IpgOptions.paper();
        IpgOptions ipg = new IpgOptions(steps, samples, p.temperature(), p.topP(), p.topK(), s.maxNewTokens(), p.advantage(), p.baseline(),
                p.sampling(), p.positions(), p.quadrature(), p.seed());
        return new Comparison.Spec(first, new Comparison.Selection(methods, top, Rank.SIGNED),
                new Comparison.Conditions(ENHANCE, SUPPRESS, s.sweep(), List.of(Method.IPG)),
                new Comparison.Estimators(ipg, s.signal(), new IntegratedGradients.Options(p.steps(), p.quadrature(), p.baseline(), p.positions()),
                        s.words(), new Comparison.ControlVector(ControlVectorBaseline.Variant.MEAN_DIFFERENCE, Comparison.CvMode.ADD,
                        CompareCommand.CV_STRENGTH)),
                new Comparison.Seeding(CompareCommand.RANDOM_SEEDS, p.seed()),
                new Comparison.Splits(new PromptFormat(DatasetFormatOptions.TEMPLATE, true, null, null),
                        new EvalRun.Decoding(new SamplingParams(SUPPORT_TEMPERATURE, 0, 1, p.seed()), s.maxNewTokens(), s.batchSize()),
                        supportLimit, new EvalRun.Decoding(new SamplingParams(0, 0, 1, p.seed()), s.maxNewTokens(), s.batchSize()), evalLimit));
    }

    @Override
    public Integer call() {
        PrintWriter outw = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean planted = testbed == Testbed.PLANTED;
        Path dir = model != null ? model : bundled(testbed);
        List<String> needed = new ArrayList<>(List.of("config.json", "support.jsonl", "eval.jsonl", "dev.jsonl"));
        if (planted) {
            needed.add("planted.json");
        }
        for (String f : needed) {
            if (!Files.exists(dir.resolve(f))) {
                throw new IpgException(dir + " has no " + f + " (is it the " + (planted ? "planted testbed" : "demo model")
                        + "? train one with 'ipg train-demo " + (planted ? "--recipe planted " : "") + "--out DIR')");
            }
        }
        PlantedTruth truth = planted ? PlantedTruth.read(dir.resolve("planted.json")) : null;
        String s = site;
        if (s == null) {
            ModelConfig c = ModelConfig.load(dir);
            s = planted ? truth.site().toString()
                    : "blocks." + (c.numLayers() / 2) + ".hook_resid_post,blocks." + (c.numLayers() / 2) + ".mlp.hook_post";
        }
        List<Site> siteList = CompareCommand.sites(s);
        if (sae != null && noSae) {
            throw new IpgException("give one of --sae DIR and --no-sae");
        }
        Top top = select.given() ? select.top() : planted ? Top.count(Integer.toString(truth.indices().length)) : Top.percent("5");
        Path saeDir = noSae ? null : sae != null ? sae : Files.isRegularFile(saeBeside(dir).resolve("cfg.json")) ? saeBeside(dir) : null;
        Settings settings = Settings.of(testbed);
        List<Method> methods = new ArrayList<>(settings.methods());
        if (saeDir != null) {
            // the SAE's rows at its site
            methods.addAll(List.of(Method.IPG_SAE, Method.SAE_R));
        }
        int support = supportLimit != null ? supportLimit : planted ? Limits.PLANTED_SUPPORT : Limits.DEMO_SUPPORT;
        int q = steps != null ? steps : planted ? Limits.PLANTED_STEPS : Limits.DEMO_STEPS;
        String ks = curveK != null ? curveK : planted ? Limits.PLANTED_CURVE_K : Limits.DEMO_CURVE_K;
        Comparison.Spec cspec = comparison(siteList.getFirst(), methods, top, settings, q, samples, support, evalLimit);
        var pspec = new Protocol.Spec(siteList, CompareCommand.curveSizes(ks), false, CompareCommand.BOOTSTRAP, 0, settings.stability(), 0,
                devLimit);
        long t0 = System.nanoTime();
        Path cmp = out.resolve("compare");
        err.println("[demo on the " + Choice.spelling(testbed) + " testbed " + dir + ": " + String.join(", ", siteList.stream().map(Site::toString)
                .toList()) + "; signal " + settings.signal() + "; " + support + " support, " + evalLimit + " eval, " + devLimit + " dev problems; "
                + "IPG q=" + q + " N=" + samples + "; top " + top + "; curves k=" + ks + "; max " + settings.maxNewTokens()
                + " new tokens; writes " + cmp + "]");
        List<Dataset> exclude = Files.exists(dir.resolve("train.jsonl")) ? List.of(Dataset.load(dir.resolve("train.jsonl"))) : List.of();
        var splits = new CompareCommand.Splits(Dataset.load(dir.resolve("support.jsonl")), Dataset.load(dir.resolve("eval.jsonl")),
                Dataset.load(dir.resolve("dev.jsonl")), exclude, truth);
        ModelOptions mo = new ModelOptions();
        mo.model = dir;
        mo.threads = threads;
        // the report shows the first site's run and comparison, and the protocol of every site
        Path first = siteList.size() == 1 ? cmp : cmp.resolve(siteList.getFirst().toString());
        Path html = out.resolve("report.html");
        try (Parallel pool = mo.pool(); Transformer m = mo.load(pool); Tokenizer tok = Tokenizer.load(dir);
             Signal signal = Signals.parse(settings.signal(), pool)) {
            SaeOptions so = new SaeOptions();
            so.dir = saeDir;
            CompareCommand.run(new CompareCommand.Opened(pool, m, tok, signal, DatasetFormatOptions.eos(m, tok, dir)),
                    CompareCommand.sae(so, m, siteList), splits, cspec, pspec, cmp, outw, err);
            ReportCommand.write(ReportCommand.gather(first.resolve("methods").resolve("ipg"), first, dir, m, tok, Report.Options.defaults(), err),
                    html, outw);
        }
        outw.printf(Locale.ROOT, "%ndemo finished in %.0f s. Files:%n  %s   the report (open it in a browser)%n"
                        + "  %s   the protocol of every site (JSON; also curves.csv, ground_truth.csv, stability.csv)%n"
                        + "  %s   the first site's comparison and IPG run (comparison.json, methods/ipg)%n",
                (System.nanoTime() - t0) / 1e9, html, cmp.resolve("protocol.json"), first);
        return 0;
    }
}
