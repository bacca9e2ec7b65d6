package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.attribution.baselines.ControlVectorBaseline;
import dev.ipg.core.attribution.baselines.IntegratedGradients;
import dev.ipg.core.attribution.baselines.Method;
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
                        + "cannot score is reported as such and the others go on."})
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

    @Option(names = "--rank", paramLabel = "signed|abs", defaultValue = "signed", description = "signed (the paper) or abs (default: ${DEFAULT-VALUE}).")
    String rank;

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

    @Option(names = "--random-seeds", defaultValue = "10", paramLabel = "N", description = "Seeds of the random baseline (default: ${DEFAULT-VALUE}).")
    int randomSeeds;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of IPG, pg and the baselines that draw (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--support-limit", defaultValue = "0", paramLabel = "M", description = "Use the first M support problems (0 = all).")
    int supportLimit;

    @Option(names = "--eval-limit", defaultValue = "0", paramLabel = "N", description = "Use the first N evaluation problems (0 = all).")
    int evalLimit;

    @Option(names = "--signal", defaultValue = "correct", paramLabel = "SPEC", description = "IPG and pg outcome signal (default: ${DEFAULT-VALUE}).")
    String signalSpec;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "10", description = "IPG: path points q (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "5", description = "IPG and pg: trajectories per point (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.6", description = "IPG and pg sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.8", description = "IPG and pg nucleus mass (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--max-new-tokens", defaultValue = "512", paramLabel = "N",
            description = "Generation budget on the support split (IPG, pg, the model's own completions) (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--advantage", paramLabel = "grpo|rloo", defaultValue = "grpo", description = "IPG and pg: grpo or rloo (default: ${DEFAULT-VALUE}).")
    String advantage;

    @Option(names = "--baseline", paramLabel = "zero|mean", defaultValue = "zero", description = "IPG, pg and ig: zero or mean (default: ${DEFAULT-VALUE}).")
    String baseline;

    @Option(names = "--sampling", paramLabel = "on-path|reuse-weighted", defaultValue = "on-path", description = "IPG and pg: on-path or reuse-weighted (default: ${DEFAULT-VALUE}).")
    String sampling;

    @Option(names = "--positions", paramLabel = "all|generated", defaultValue = "all", description = "IPG, pg and ig: all or generated (default: ${DEFAULT-VALUE}).")
    String positions;

    @Option(names = "--quadrature", paramLabel = "RULE", defaultValue = "riemann-right", description = "IPG quadrature (default: ${DEFAULT-VALUE}).")
    String quadrature;

    @Option(names = "--alpha-min", paramLabel = "A", defaultValue = "0",
            description = "IPG: the path runs over alpha in [A, 1] (default: ${DEFAULT-VALUE}, from the baseline); pg is unaffected.")
    double alphaMin;

    @Option(names = "--refine", paramLabel = "K", defaultValue = "0",
            description = "IPG in two stages: a second run moves only the first run's top K along the path (the rest stay at "
                    + "alpha = 1) and reorders them; IPG's ranking is those K in that order, then the rest in the first run's "
                    + "(default: ${DEFAULT-VALUE} = one stage; signed rank only).")
    int refine;

    @Option(names = "--ig-steps", paramLabel = "N", defaultValue = "10", description = "ig: quadrature points (default: ${DEFAULT-VALUE}).")
    int igSteps;

    @Option(names = "--ig-quadrature", paramLabel = "RULE", defaultValue = "riemann-right", description = "ig quadrature (default: ${DEFAULT-VALUE}).")
    String igQuadrature;

    @Option(names = "--words", split = ",", paramLabel = "W", description = "reasoning-neuron words (default: " + Signal.Reflection.DEFAULT_WORDS_TEXT + ").")
    List<String> words;

    @Option(names = "--cv-mode", paramLabel = "add|scale", defaultValue = "add", description = "control-vector: add the vector (enhance only, the paper) or scale its top components (default: ${DEFAULT-VALUE}).")
    String cvMode;

    @Option(names = "--cv-strength", defaultValue = "1", paramLabel = "S", description = "control-vector: strength of the added vector (default: ${DEFAULT-VALUE}).")
    double cvStrength;

    @Option(names = "--cv-pca", description = "control-vector: first principal direction instead of the mean difference.")
    boolean cvPca;

    @Option(names = "--eval-max-new-tokens", defaultValue = "512", paramLabel = "N", description = "Generation budget of the evaluations (default: ${DEFAULT-VALUE}).")
    int evalMaxNewTokens;

    @Option(names = "--eval-temperature", defaultValue = "0", paramLabel = "T", description = "Evaluation decoding; 0 = greedy, the paper's (default: ${DEFAULT-VALUE}).")
    double evalTemperature;

    @Option(names = "--support-temperature", defaultValue = "0", paramLabel = "T",
            description = "Decoding of the model's own support completions (activation, reasoning-neuron); 0 = greedy "
                    + "(default: ${DEFAULT-VALUE}). A model that reflects only when sampling needs T > 0 for reasoning-neuron.")
    double supportTemperature;

    @Option(names = "--eval-top-p", defaultValue = "1", paramLabel = "P", description = "Evaluation nucleus mass when sampling (default: ${DEFAULT-VALUE}).")
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

    @Option(names = "--bootstrap", defaultValue = "2000", paramLabel = "B",
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
        IpgOptions.BaselineKind base = AttributeCommand.choice(IpgOptions.BaselineKind.class, baseline, "--baseline");
        IpgOptions.Positions pos = AttributeCommand.choice(IpgOptions.Positions.class, positions, "--positions");
        IpgOptions ipg = new IpgOptions(steps, samples, temperature, topP, 0, maxNewTokens, AttributeCommand.choice(Advantage.class, advantage,
                "--advantage"), base, AttributeCommand.choice(IpgOptions.SamplingMode.class, sampling, "--sampling"), pos,
                Quadrature.parse(quadrature), seed);
        ipg = ipg.withPath(alphaMin, ipg.candidates());
        List<Site> siteList = sites(site);
        var pspec = new Protocol.Spec(siteList, curveSizes(curveK), !noEnhanceCurve, bootstrap, bootstrapSeed, !noStability, groundTruthAll,
                devLimit);
        var cspec = new Comparison.Spec(siteList.getFirst(), ms, t, Rank.parse(rank), enhance, suppress, gammas(sweep), sw, randomSeeds, seed, ipg,
                signalSpec, new EvalRun.Decoding(supportTemperature != 0 ? new SamplingParams(supportTemperature, 0, 1, seed)
                        : SamplingParams.greedy(), maxNewTokens, batchSize),
                new IntegratedGradients.Options(igSteps, Quadrature.parse(igQuadrature), base, pos),
                words == null ? Signal.Reflection.DEFAULT_WORDS : words,
                cvPca ? ControlVectorBaseline.Variant.PCA : ControlVectorBaseline.Variant.MEAN_DIFFERENCE,
                AttributeCommand.choice(Comparison.CvMode.class, cvMode, "--cv-mode"), cvStrength, fmt.format(),
                new EvalRun.Decoding(new SamplingParams(evalTemperature, 0, evalTopP, seed), evalMaxNewTokens, batchSize), supportLimit,
                evalLimit);
        Dataset support = fmt.load(supportFile);
        Dataset eval = fmt.load(evalFile);
        Dataset dev = devFile == null ? null : fmt.load(devFile);
        PlantedTruth planted = groundTruthFile == null ? null : PlantedTruth.read(groundTruthFile);
        List<Dataset> exclude = new ArrayList<>();
        for (Path x : excludeFiles == null ? List.<Path>of() : excludeFiles) {
            exclude.add(fmt.load(x));
        }
        try (Parallel pool = model.pool(); Transformer m = model.load(pool); Tokenizer tok = Tokenizer.load(model.dir());
             Signal signal = Signals.parse(signalSpec, pool)) {
            Sae sae = null;
            if (saeOptions.given()) {
                sae = siteList.size() == 1 ? saeOptions.load(m.config(), siteList.getFirst()) : saeOptions.load(null).checkIn(m.config());
                if (!siteList.contains(sae.site())) {
                    throw new IpgException(sae.source() + ": the SAE reads " + sae.site() + ", which is not among --site "
                            + String.join(",", siteList.stream().map(Site::toString).toList()));
                }
            }
            var p = new Protocol(m, tok, support, eval, dev, exclude, signal, cspec, pspec, DatasetFormatOptions.eos(m, tok, model.dir()), out,
                    new ProgressBar(err), sae);
            p.plantedTruth(planted).refine(refine);
            // every prompt is checked before the comparison is announced
            support.prompts(checkLimit(supportLimit, "--support-limit"), cspec.format(), tok, m.config().maxPositions());
            eval.prompts(checkLimit(evalLimit, "--eval-limit"), cspec.format(), tok, m.config().maxPositions());
            err.printf(Locale.ROOT, "[comparing %s at %s, top %s by %s score, enhance gamma %s, suppress gamma %s; %d threads, %s]%n",
                    String.join(", ", ms.stream().map(Method::cliName).toList()), String.join(", ", siteList.stream().map(Site::toString).toList()),
                    t, cspec.rank().cliName(),
                    java.math.BigDecimal.valueOf(enhance).stripTrailingZeros().toPlainString(),
                    java.math.BigDecimal.valueOf(suppress).stripTrailingZeros().toPlainString(),
                    pool.threads(), m.kernels().name());
            var r = p.run();
            for (var s : r.sites()) {
                outw.printf(Locale.ROOT, "%n## %s: top %s by %s score%n", s.site(), t, cspec.rank().cliName());
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
        }
        return 0;
    }
}
