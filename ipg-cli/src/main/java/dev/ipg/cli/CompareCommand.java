package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.attribution.baselines.ControlVectorBaseline;
import dev.ipg.core.attribution.baselines.IntegratedGradients;
import dev.ipg.core.attribution.baselines.Method;
import dev.ipg.core.eval.Comparison;
import dev.ipg.core.eval.Dataset;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Site;
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

/** {@code ipg compare}: the paper's Table 1 for one model. */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compare component selection methods: scores on the support split, then accuracy on the (disjoint) evaluation "
                + "split with the top components enhanced and suppressed, beside the original model, with 95%% Wilson intervals; "
                + "random selection averaged over seeds; and a gamma sweep (accuracy and mean length).",
                "Writes OUT/comparison.json, comparison.csv, gamma_sweep.csv and every intermediate run (resumable) under OUT/methods "
                        + "and OUT/evals; prints the table."})
final class CompareCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--support", required = true, paramLabel = "FILE.jsonl", description = "Support split (scores are computed on it).")
    Path supportFile;

    @Option(names = "--eval", required = true, paramLabel = "FILE.jsonl", description = "Evaluation split (must share no id or question with the support split).")
    Path evalFile;

    @Option(names = "--site", required = true, paramLabel = "SITE", description = "The site, e.g. blocks.20.hook_resid_post.")
    String site;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "OUT_DIR", description = "Output directory (created; resumed if it exists).")
    Path out;

    @Option(names = "--methods", defaultValue = "ipg,random,activation,reasoning-neuron,control-vector,pg,ig", split = ",", paramLabel = "METHOD",
            description = "Methods to compare (default: ${DEFAULT-VALUE}).")
    List<String> methods;

    @Option(names = "--top", paramLabel = "P%", description = "Select the top P percent of the components (e.g. 5%%).")
    String top;

    @Option(names = "--top-k", paramLabel = "K", description = "Select the top K components.")
    Integer topK;

    @Option(names = "--rank", defaultValue = "signed", description = "signed (the paper) or abs (default: ${DEFAULT-VALUE}).")
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

    @Option(names = "--random-seeds", defaultValue = "3", paramLabel = "N", description = "Seeds of the random baseline (default: ${DEFAULT-VALUE}).")
    int randomSeeds;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of IPG, pg and the baselines that draw (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--support-limit", defaultValue = "0", paramLabel = "M", description = "Use the first M support problems (0 = all).")
    int supportLimit;

    @Option(names = "--eval-limit", defaultValue = "0", paramLabel = "N", description = "Use the first N evaluation problems (0 = all).")
    int evalLimit;

    @Option(names = "--signal", defaultValue = "correct", paramLabel = "SPEC", description = "IPG and pg outcome signal (default: ${DEFAULT-VALUE}).")
    String signalSpec;

    @Option(names = "--steps", defaultValue = "10", description = "IPG: path points q (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--samples", defaultValue = "5", description = "IPG and pg: trajectories per point (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--temperature", defaultValue = "0.6", description = "IPG and pg sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-p", defaultValue = "0.8", description = "IPG and pg nucleus mass (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--max-new-tokens", defaultValue = "512", paramLabel = "N",
            description = "Generation budget on the support split (IPG, pg, the model's own completions) (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--advantage", defaultValue = "grpo", description = "IPG and pg: grpo or rloo (default: ${DEFAULT-VALUE}).")
    String advantage;

    @Option(names = "--baseline", defaultValue = "zero", description = "IPG, pg and ig: zero or mean (default: ${DEFAULT-VALUE}).")
    String baseline;

    @Option(names = "--sampling", defaultValue = "on-path", description = "IPG and pg: on-path or reuse-weighted (default: ${DEFAULT-VALUE}).")
    String sampling;

    @Option(names = "--positions", defaultValue = "all", description = "IPG, pg and ig: all or generated (default: ${DEFAULT-VALUE}).")
    String positions;

    @Option(names = "--quadrature", defaultValue = "riemann-right", description = "IPG quadrature (default: ${DEFAULT-VALUE}).")
    String quadrature;

    @Option(names = "--ig-steps", defaultValue = "10", description = "ig: quadrature points (default: ${DEFAULT-VALUE}).")
    int igSteps;

    @Option(names = "--ig-quadrature", defaultValue = "riemann-right", description = "ig quadrature (default: ${DEFAULT-VALUE}).")
    String igQuadrature;

    @Option(names = "--words", split = ",", paramLabel = "W", description = "reasoning-neuron words (default: wait,but,double-check,hmm).")
    List<String> words;

    @Option(names = "--cv-mode", defaultValue = "add", description = "control-vector: add the vector (enhance only, the paper) or scale its top components (default: ${DEFAULT-VALUE}).")
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

    @Mixin
    DatasetFormatOptions fmt;

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
        if ((top == null) == (topK == null)) {
            throw new IpgException("give one of --top P% or --top-k K");
        }
        Top t = top != null ? Top.parse(top.endsWith("%") ? top : top + "%") : new Top.Count(topK);
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
        var cspec = new Comparison.Spec(Site.parse(site), ms, t, Rank.parse(rank), enhance, suppress, gammas(sweep), sw, randomSeeds, seed, ipg,
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
        try (Parallel pool = model.pool(); Transformer m = model.load(pool); Tokenizer tok = Tokenizer.load(model.dir());
             Signal signal = Signals.parse(signalSpec)) {
            var c = new Comparison(m, tok, support, eval, signal, cspec, DatasetFormatOptions.eos(m, tok, model.dir()), out, new ProgressBar(err));
            // every prompt is checked before the comparison is announced
            support.prompts(checkLimit(supportLimit, "--support-limit"), cspec.format(), tok, m.config().maxPositions());
            eval.prompts(checkLimit(evalLimit, "--eval-limit"), cspec.format(), tok, m.config().maxPositions());
            err.printf(Locale.ROOT, "[comparing %s at %s, top %s by %s score, enhance gamma %s, suppress gamma %s; %d threads, %s]%n",
                    String.join(", ", ms.stream().map(Method::cliName).toList()), cspec.site(), t, cspec.rank().cliName(),
                    java.math.BigDecimal.valueOf(enhance).stripTrailingZeros().toPlainString(),
                    java.math.BigDecimal.valueOf(suppress).stripTrailingZeros().toPlainString(),
                    pool.threads(), m.kernels().name());
            var r = c.run();
            outw.print(r.table());
            List<String> verdict = r.verdict();
            if (!verdict.isEmpty()) {
                outw.println();
                verdict.forEach(outw::println);
            }
            outw.println("wrote " + out.resolve("comparison.json") + ", " + out.resolve("comparison.csv") + ", " + out.resolve("gamma_sweep.csv"));
        }
        return 0;
    }
}
