package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.attribution.baselines.ControlVectorBaseline;
import dev.ipg.core.attribution.baselines.IntegratedGradients;
import dev.ipg.core.attribution.baselines.Method;
import dev.ipg.core.attribution.baselines.Offload;
import dev.ipg.core.compare.Comparison;
import dev.ipg.core.compare.PlantedTruth;
import dev.ipg.core.compare.Protocol;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg compare}: the paper's Table 1 for one model, and the localization protocol over a layer sweep. */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compare component selection methods: scores on the support split, then accuracy on the (disjoint) evaluation "
                + "split with the top components enhanced and suppressed, beside the original model, with 95%% Wilson intervals; "
                + "random selection over seeds; and a gamma sweep (accuracy and mean length).",
                "Then the localization protocol at every site: suppression (and enhancement) curves over k = 1, 2, 4, ... with their "
                        + "area and paired bootstrap intervals (and McNemar) of every method against IPG; random selection as a "
                        + "distribution over its seeds; a ground truth by ablating each component alone on the --dev split, with each "
                        + "method's precision@k and Spearman correlation; the Dice stability of each method's top set between two "
                        + "support halves; and a verdict per site saying where IPG wins, ties and loses.",
                "Writes OUT/protocol.json, curves.csv, ground_truth.csv, stability.csv, each site's comparison.json, comparison.csv, "
                        + "gamma_sweep.csv and every intermediate run (resumable); prints the tables and the verdict. A baseline that "
                        + "cannot score is reported as such and the others go on.",
                "IPG and pg read the estimator options of ipg attribute (--steps, --quadrature, --samples, --advantage, --temperature, "
                        + "--top-p, --max-new-tokens, --baseline, --positions, --sampling; pg with one step at alpha = 1); ig reads "
                        + "--ig-steps, --ig-quadrature, --baseline and --positions."})
final class CompareCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--support", required = true, paramLabel = "FILE.jsonl", description = "Support split (scores are computed on it).")
    Path supportFile;

    @Option(names = "--eval", required = true, paramLabel = "FILE.jsonl", description = "Evaluation split (must share no id or question with the support split).")
    Path evalFile;

    @Option(names = "--site", required = true, paramLabel = "SITES",
            description = "The site, or several (a layer sweep), comma-separated; a layer range expands, e.g. "
                    + "blocks.0-3.hook_resid_post,blocks.0-3.mlp.hook_post. With several sites each gets its own directory OUT/SITE.")
    String site;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "OUT_DIR", description = "Output directory (created; resumed if it exists).")
    Path out;

    @Option(names = "--methods", defaultValue = "ipg,random,activation,reasoning-neuron,control-vector,pg,ig", split = ",", paramLabel = "METHOD",
            description = "Methods to compare (default: ${DEFAULT-VALUE}); with --sae also ipg-sae (IPG over the SAE latents) and sae-r (ReasonScore).")
    List<String> methods;

    @Mixin
    SelectionOptions select;

    @Option(names = "--top-k", hidden = true, paramLabel = "K")
    void retiredTopK(String value) {
        throw SelectionOptions.retired(spec, "--top-k", "--top-count K (the number of components; --top-k only ever means sampling top-k)");
    }

    @Option(names = "--rank", paramLabel = "signed|abs", defaultValue = "signed", converter = Choice.Ranks.class,
            completionCandidates = Choice.Ranks.class, description = "signed (the paper) or abs (|score|) (default: ${DEFAULT-VALUE}).")
    Rank rank;

    @Option(names = "--enhance", defaultValue = "1.5", paramLabel = "G", description = "Gamma of the enhance condition (default: ${DEFAULT-VALUE}).")
    double enhance;

    @Option(names = "--suppress", defaultValue = "0", paramLabel = "G", description = "Gamma of the suppress condition (default: ${DEFAULT-VALUE}).")
    double suppress;

    @Option(names = "--sweep", defaultValue = "0,0.5,1,1.5,2", paramLabel = "GAMMAS",
            description = "Gammas of the sweep, or none (default: ${DEFAULT-VALUE}).")
    String sweep;

    @Option(names = "--sweep-methods", defaultValue = "ipg", split = ",", paramLabel = "METHOD",
            description = "Methods swept (default: ${DEFAULT-VALUE}, when compared).")
    List<String> sweepMethods;

    /** Seeds of the random baseline. */
    static final int RANDOM_SEEDS = 10;

    /** Resamples of the paired bootstrap. */
    static final int BOOTSTRAP = 2000;

    /** Strength of the added control vector. */
    static final double CV_STRENGTH = 1;

    @Option(names = "--random-seeds", defaultValue = "" + RANDOM_SEEDS, paramLabel = "N", description = "Seeds of the random baseline (default: ${DEFAULT-VALUE}).")
    int randomSeeds;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of IPG, pg and the baselines that draw (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--support-limit", defaultValue = "0", paramLabel = "M", description = "Use the first M support problems (0 = all).")
    int supportLimit;

    @Option(names = "--eval-limit", defaultValue = "0", paramLabel = "N", description = "Use the first N evaluation problems (0 = all).")
    int evalLimit;

    @Option(names = "--signal", defaultValue = "correct", paramLabel = "SPEC", description = "IPG and pg outcome signal (default: ${DEFAULT-VALUE}).")
    String signalSpec;

    @Mixin
    EstimatorOptions.Ipg estimator;

    @Option(names = "--alpha-min", paramLabel = "A", defaultValue = "0",
            description = "IPG: the path runs over alpha in [A, 1] (default: ${DEFAULT-VALUE}, from the baseline); pg is unaffected.")
    double alphaMin;

    @Option(names = "--refine", paramLabel = "K", defaultValue = "0",
            description = "IPG in two stages: a second run moves only the first run's top K along the path (the rest stay at "
                    + "alpha = 1) and reorders them; IPG's ranking is those K in that order, then the rest in the first run's "
                    + "(default: ${DEFAULT-VALUE} = one stage; signed rank only).")
    int refine;

    @Option(names = "--ig-steps", paramLabel = "N", defaultValue = EstimatorOptions.STEPS, description = "ig: quadrature points (default: ${DEFAULT-VALUE}).")
    int igSteps;

    @Option(names = "--ig-quadrature", paramLabel = "RULE", defaultValue = EstimatorOptions.QUADRATURE,
            converter = Choice.Quadratures.class, completionCandidates = Choice.Quadratures.class,
            description = "ig quadrature: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Quadrature igQuadrature;

    @Option(names = "--words", split = ",", paramLabel = "W", description = "reasoning-neuron words (default: " + Signal.Reflection.DEFAULT_WORDS_TEXT + ").")
    List<String> words;

    @Option(names = "--cv-mode", paramLabel = "add|scale", defaultValue = "add", converter = Choice.CvModes.class,
            completionCandidates = Choice.CvModes.class,
            description = "control-vector (${COMPLETION-CANDIDATES}): add the vector (enhance only, the paper) or scale its top components (default: ${DEFAULT-VALUE}).")
    Comparison.CvMode cvMode;

    @Option(names = "--cv-strength", defaultValue = "" + CV_STRENGTH, paramLabel = "S", description = "control-vector: strength of the added vector (default: ${DEFAULT-VALUE}).")
    double cvStrength;

    @Option(names = "--cv-pca", description = "control-vector: first principal direction instead of the mean difference.")
    boolean cvPca;

    @Option(names = "--eval-max-new-tokens", defaultValue = SamplingOptions.MAX_NEW_TOKENS, paramLabel = "N",
            description = "Generation budget of the evaluations; --max-new-tokens is that of the support split (IPG, pg, the model's "
                    + "own completions) (default: ${DEFAULT-VALUE}).")
    int evalMaxNewTokens;

    @Option(names = "--eval-temperature", defaultValue = SamplingOptions.GREEDY, paramLabel = "T", description = "Evaluation decoding; 0 = greedy, the paper's (default: ${DEFAULT-VALUE}).")
    double evalTemperature;

    @Option(names = "--support-temperature", defaultValue = SamplingOptions.GREEDY, paramLabel = "T",
            description = "Decoding of the model's own support completions (activation, reasoning-neuron); 0 = greedy "
                    + "(default: ${DEFAULT-VALUE}). A model that reflects only when sampling needs T > 0 for reasoning-neuron.")
    double supportTemperature;

    @Option(names = "--eval-top-p", defaultValue = SamplingOptions.WHOLE_NUCLEUS, paramLabel = "P", description = "Evaluation nucleus mass when sampling (default: ${DEFAULT-VALUE}).")
    double evalTopP;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "B", description = "Problems generated together (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--dev", paramLabel = "FILE.jsonl",
            description = "Dev split for the ground truth by direct ablation (must share no problem with the support and evaluation "
                    + "splits, nor with any --exclude file). Without it there is no ground truth.")
    Path devFile;

    @Option(names = "--dev-limit", defaultValue = "0", paramLabel = "N", description = "Use the first N dev problems (0 = all).")
    int devLimit;

    @Option(names = "--exclude", paramLabel = "FILE.jsonl",
            description = "Problems no split may contain, e.g. the model's training data (repeatable).")
    List<Path> excludeFiles;

    @Option(names = "--curve-k", defaultValue = "auto", paramLabel = "K,K,...",
            description = "Selection sizes of the suppression and enhancement curves; auto = 1, 2, 4, ... up to half of each site's "
                    + "width (default: ${DEFAULT-VALUE}).")
    String curveK;

    @Option(names = "--no-enhance-curve", description = "Curves for the suppress condition only.")
    boolean noEnhanceCurve;

    @Option(names = "--bootstrap", defaultValue = "" + BOOTSTRAP, paramLabel = "B",
            description = "Resamples of the paired bootstrap over evaluation problems (default: ${DEFAULT-VALUE}).")
    int bootstrap;

    @Option(names = "--bootstrap-seed", defaultValue = "0", paramLabel = "S", description = "Seed of the bootstrap (default: ${DEFAULT-VALUE}).")
    long bootstrapSeed;

    @Option(names = "--no-stability", description = "Skip the stability check (every method scored again on each support half).")
    boolean noStability;

    @Option(names = "--ground-truth-all", defaultValue = "256", paramLabel = "W",
            description = "Sites at most W wide have every component ablated for the ground truth; wider ones the union of every "
                    + "method's top 2k candidates (default: ${DEFAULT-VALUE}).")
    int groundTruthAll;

    @Option(names = "--ground-truth", paramLabel = "FILE.json",
            description = "A planted ground truth (a testbed model's planted.json: \"site\" and \"indices\"); at its site, which "
                    + "must be compared, every method's precision and recall against the planted set are reported at k = its size "
                    + "and at each curve k, with average precision, beside the ablation ground truth.")
    Path groundTruthFile;

    @Mixin
    DatasetFormatOptions fmt;

    @Mixin
    SaeOptions saeOptions;

    @Mixin
    Cluster.SparkOption spark;

    /** {@code blocks.0-3.hook_resid_post,blocks.2.mlp.hook_post} as its sites, ranges expanded, in order. */
    static List<Site> sites(String spec) {
        List<Site> out = new ArrayList<>();
        for (String part : spec.split(",")) {
            String p = part.strip();
            var m = java.util.regex.Pattern.compile("blocks\\.(\\d+)-(\\d+)\\.(.+)").matcher(p);
            if (m.matches()) {
                int a = Integer.parseInt(m.group(1));
                int b = Integer.parseInt(m.group(2));
                if (b < a) {
                    throw new IpgException("--site: empty layer range in '" + p + "'");
                }
                for (int l = a; l <= b; l++) {
                    out.add(Site.parse("blocks." + l + "." + m.group(3)));
                }
            } else {
                out.add(Site.parse(p));
            }
        }
        return out;
    }

    static List<Integer> curveSizes(String s) {
        List<Integer> out = new ArrayList<>();
        if (s.strip().equalsIgnoreCase("auto")) {
            return out;
        }
        for (String p : s.split(",")) {
            try {
                out.add(Integer.parseInt(p.strip()));
            } catch (NumberFormatException e) {
                throw new IpgException("--curve-k: '" + p.strip() + "' is not a whole number (expected e.g. 1,2,4,8 or auto)");
            }
        }
        return out;
    }

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    static List<Double> gammas(String s) {
        List<Double> out = new ArrayList<>();
        if (s.isBlank() || s.strip().equalsIgnoreCase("none")) {
            return out;
        }
        for (String p : s.split(",")) {
            try {
                out.add(Double.parseDouble(p.strip()));
            } catch (NumberFormatException e) {
                throw new IpgException("--sweep: '" + p.strip() + "' is not a number (expected e.g. 0,0.5,1,1.5,2 or none)");
            }
        }
        return out;
    }

    private static int checkLimit(int limit, String option) {
        if (limit < 0) {
            throw new IpgException(option + " must be >= 0 (0 = all), got " + limit);
        }
        return limit;
    }

    /** The splits of a comparison: support, evaluation, dev (null: no ablation ground truth), problems no split may hold, and a planted ground truth (or null). */
    record Splits(Dataset support, Dataset eval, Dataset dev, List<Dataset> exclude, PlantedTruth planted) {
    }

    /** An open model: its engine, tokenizer, outcome signal and end-of-sequence ids. */
    record Opened(Parallel pool, Transformer model, Tokenizer tok, Signal signal, Set<Integer> eos) {
    }

    /** The SAE of --sae, which must read one of the sites (null without --sae). */
    static Sae sae(SaeOptions options, Transformer m, List<Site> siteList) {
        if (!options.given()) {
            return null;
        }
        Sae sae = siteList.size() == 1 ? options.load(m.config(), siteList.getFirst()) : options.load(null).checkIn(m.config());
        if (!siteList.contains(sae.site())) {
            throw new IpgException(sae.source() + ": the SAE reads " + sae.site() + ", which is not among --site "
                    + String.join(",", siteList.stream().map(Site::toString).toList()));
        }
        return sae;
    }

    /** Runs the protocol and prints its tables and verdict (what ipg compare and ipg demo print). */
    static Protocol.Result run(Opened o, Sae sae, Splits splits, Comparison.Spec cspec, Protocol.Spec pspec, Path out, PrintWriter outw,
                               PrintWriter err) {
        return run(o, sae, splits, cspec, pspec, out, outw, new ProgressBar(err), Offload.HERE, 0);
    }

    /**
     * {@link #run(Opened, Sae, Splits, Comparison.Spec, Protocol.Spec, Path, PrintWriter, PrintWriter)} reporting to {@code bar},
     * its runs offloaded by {@code offload}, IPG in two stages when {@code refine} > 0 ({@code --refine}).
     */
    static Protocol.Result run(Opened o, Sae sae, Splits splits, Comparison.Spec cspec, Protocol.Spec pspec, Path out, PrintWriter outw,
                               ProgressBar bar, Offload offload, int refine) {
        PrintWriter err = bar.err();
        Transformer m = o.model();
        var p = new Protocol(m, o.tok(), splits.support(), splits.eval(), splits.dev(), splits.exclude(), o.signal(), cspec, pspec, o.eos(), out,
                bar, sae).offload(offload);
        p.plantedTruth(splits.planted()).refine(refine);
        // every prompt is checked before the comparison is announced
        splits.support().prompts(checkLimit(cspec.splits().supportLimit(), "--support-limit"), cspec.splits().format(), o.tok(), m.config().maxPositions());
        splits.eval().prompts(checkLimit(cspec.splits().evalLimit(), "--eval-limit"), cspec.splits().format(), o.tok(), m.config().maxPositions());
        List<Site> siteList = pspec.sites();
        err.printf(Locale.ROOT, "[comparing %s at %s, top %s by %s score, enhance gamma %s, suppress gamma %s; %d threads, %s]%n",
                String.join(", ", cspec.selection().methods().stream().map(Method::cliName).toList()),
                String.join(", ", siteList.stream().map(Site::toString).toList()), cspec.selection().top(), cspec.selection().rank().cliName(),
                java.math.BigDecimal.valueOf(cspec.conditions().enhance()).stripTrailingZeros().toPlainString(),
                java.math.BigDecimal.valueOf(cspec.conditions().suppress()).stripTrailingZeros().toPlainString(),
                o.pool().threads(), m.kernels().name());
        var r = p.run();
        for (var s : r.sites()) {
            outw.printf(Locale.ROOT, "%n## %s: top %s by %s score%n", s.site(), cspec.selection().top(), cspec.selection().rank().cliName());
            outw.print(s.table().table());
            List<String> verdict = s.table().verdict();
            if (!verdict.isEmpty()) {
                outw.println();
                verdict.forEach(outw::println);
            }
        }
        outw.print(r.text());
        outw.println("wrote " + out.resolve(Protocol.JSON) + ", curves.csv, ground_truth.csv, stability.csv"
                + (siteList.size() == 1 ? ", comparison.json, comparison.csv, gamma_sweep.csv" : " and per site OUT/SITE/comparison.json"));
        return r;
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter outw = spec.commandLine().getOut();
        Top t = select.top();
        List<Method> ms = methods.stream().map(Method::parse).toList();
        List<Method> sw = new ArrayList<>();
        for (String x : sweepMethods) {
            Method m = Method.parse(x);
            if (ms.contains(m)) {
                sw.add(m);
            } else if (!sweepMethods.equals(List.of("ipg"))) {
                throw new IpgException("--sweep-methods: " + m + " is not among --methods");
            }
        }
        IpgOptions ipg = estimator.options(0, seed);
        ipg = ipg.withPath(alphaMin, ipg.candidates());
        List<Site> siteList = sites(site);
        var pspec = new Protocol.Spec(siteList, curveSizes(curveK), !noEnhanceCurve, bootstrap, bootstrapSeed, !noStability, groundTruthAll,
                devLimit);
        var cspec = new Comparison.Spec(siteList.getFirst(), new Comparison.Selection(ms, t, rank),
                new Comparison.Conditions(enhance, suppress, gammas(sweep), sw),
                new Comparison.Estimators(ipg, signalSpec, new IntegratedGradients.Options(igSteps, igQuadrature,
                        estimator.interpolation.baseline, estimator.interpolation.positions),
                        words == null ? Signal.Reflection.DEFAULT_WORDS : words,
                        new Comparison.ControlVector(cvPca ? ControlVectorBaseline.Variant.PCA : ControlVectorBaseline.Variant.MEAN_DIFFERENCE,
                                cvMode, cvStrength)),
                new Comparison.Seeding(randomSeeds, seed),
                new Comparison.Splits(fmt.format(), new EvalRun.Decoding(supportTemperature != 0
                        ? new SamplingParams(supportTemperature, 0, 1, seed) : SamplingParams.greedy(), estimator.budget.maxNewTokens, batchSize),
                        supportLimit, new EvalRun.Decoding(new SamplingParams(evalTemperature, 0, evalTopP, seed), evalMaxNewTokens, batchSize),
                        evalLimit));
        Dataset support = fmt.load(supportFile);
        Dataset eval = fmt.load(evalFile);
        Dataset dev = devFile == null ? null : fmt.load(devFile);
        PlantedTruth planted = groundTruthFile == null ? null : PlantedTruth.read(groundTruthFile);
        List<Dataset> exclude = new ArrayList<>();
        for (Path x : excludeFiles == null ? List.<Path>of() : excludeFiles) {
            exclude.add(fmt.load(x));
        }
        var splits = new Splits(support, eval, dev, exclude, planted);
        ProgressBar bar = new ProgressBar(err);
        try (Parallel pool = model.pool(); Transformer m = model.load(pool); Tokenizer tok = Tokenizer.load(model.dir());
             Signal signal = Signals.parse(signalSpec, pool); Cluster.Session cluster = spark.session(spec, saeOptions, pool, m, tok, bar)) {
            run(new Opened(pool, m, tok, signal, DatasetFormatOptions.eos(m, tok, model.dir())), sae(saeOptions, m, siteList), splits, cspec,
                    pspec, out, outw, bar, cluster.offload(), refine);
        }
        return 0;
    }
}
