package dev.ipg.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.attribution.baselines.ActivationBaseline;
import dev.ipg.core.attribution.baselines.ControlVectorBaseline;
import dev.ipg.core.attribution.baselines.IntegratedGradients;
import dev.ipg.core.attribution.baselines.Method;
import dev.ipg.core.attribution.baselines.PolicyGradientBaseline;
import dev.ipg.core.attribution.baselines.RandomBaseline;
import dev.ipg.core.attribution.baselines.ReasoningNeuronBaseline;
import dev.ipg.core.attribution.baselines.SaeReasonScore;
import dev.ipg.core.attribution.baselines.Support;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.sae.SaeSite;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg baseline}: the selection methods IPG is compared with, in the scores format of {@code ipg attribute}. */
@Command(name = "baseline", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Score the components of a site with a baseline method; writes RUN_DIR/scores.safetensors, top.csv and run.json "
                + "like ipg attribute (control-vector also vector.safetensors).",
                "Methods: random (seeded), activation (mean |h| over the model's own completions), reasoning-neuron (activation on "
                        + "reasoning words minus other tokens), control-vector (gold chain-of-thought minus random letters), "
                        + "pg (IPG with one step at alpha = 1), ig (integrated gradients of the gold solution's log-probability).",
                "The estimator options are those of ipg attribute: pg reads --samples, --advantage, --policy-gradient, --baseline, "
                        + "--positions (and --temperature, --top-p, --max-new-tokens, --signal); ig reads --steps and --quadrature (its "
                        + "integral) and --baseline, --positions."})
final class BaselineCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--method", required = true, paramLabel = "METHOD",
            description = "random, activation, reasoning-neuron, control-vector, pg or ig.")
    String method;

    @Option(names = "--site", required = true, paramLabel = "SITE", description = "The site, e.g. blocks.20.hook_resid_post.")
    String site;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "RUN_DIR", description = "Run directory (created; resumed if it exists).")
    Path out;

    @Option(names = "--dataset", paramLabel = "FILE.jsonl", description = "Support set (every method but random).")
    Path dataset;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "M", description = "Use the first M problems (0 = all).")
    int limit;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed (random, control-vector letters, pg sampling) (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    SamplingOptions.Budget budget;

    @Option(names = "--temperature", paramLabel = "T",
            description = "Sampling temperature: pg default " + SamplingOptions.POLICY_TEMPERATURE + " (the policy IPG samples); "
                    + "the model's own completions (activation, reasoning-neuron, sae-r) default " + SamplingOptions.GREEDY + " (greedy).")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus mass: pg default " + SamplingOptions.POLICY_TOP_P
            + ", the model's own completions default " + SamplingOptions.WHOLE_NUCLEUS + ".")
    Double topP;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "B", description = "Completions generated together (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--completions", paramLabel = "DIR", description = "Where the model's own completions are kept (default: RUN_DIR/completions); share one between activation and reasoning-neuron.")
    Path completions;

    @Option(names = "--words", split = ",", paramLabel = "W", description = "Reasoning words (default: " + Signal.Reflection.DEFAULT_WORDS_TEXT
            + "; for sae-r the paper's alternatively,hmm,maybe,wait,perhaps,let me,therefore,however,but,another).")
    List<String> words;

    @Option(names = "--pca", description = "control-vector: the first principal direction of the differences instead of their mean.")
    boolean pca;

    @Option(names = "--signal", defaultValue = "correct", paramLabel = "SPEC", description = "pg: outcome signal (default: ${DEFAULT-VALUE}).")
    String signalSpec;

    @Mixin
    EstimatorOptions.Group group;

    @Mixin
    EstimatorOptions.Gradient gradient;

    @Mixin
    EstimatorOptions.Path path;

    @Mixin
    EstimatorOptions.Interpolation interpolation;

    @Mixin
    DatasetFormatOptions fmt;

    @Mixin
    SaeOptions saeOptions;

    @Option(names = "--window", paramLabel = "BEFORE,AFTER", defaultValue = "1,2",
            description = "sae-r: the positions up to BEFORE tokens before and AFTER tokens after a reasoning word count as its context; "
                    + "one number T means T,T (default: ${DEFAULT-VALUE}, as in the paper's run).")
    String window;

    @Option(names = "--entropy-power", paramLabel = "E", defaultValue = "0.7", description = "sae-r: exponent of the entropy term over the words (default: ${DEFAULT-VALUE}).")
    double entropyPower;

    @Mixin
    Cluster.SparkOption spark;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** One side of --window (0: before, 1: after). */
    private int windowSide(int side) {
        String[] p = window.strip().split(",", -1);
        if (p.length > 2) {
            throw new IpgException("--window: expected BEFORE,AFTER or T, got '" + window + "'");
        }
        try {
            int v = Integer.parseInt(p[p.length == 1 ? 0 : side].strip());
            if (v < 0) {
                throw new IpgException("--window: the window must be >= 0 on both sides, got '" + window + "'");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IpgException("--window: expected BEFORE,AFTER or T (whole numbers), got '" + window + "'");
        }
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter outw = spec.commandLine().getOut();
        Method m = Method.parse(method);
        if (m == Method.IPG || m == Method.IPG_SAE) {
            throw new IpgException("--method " + m + ": use 'ipg attribute' (this command computes the baselines)");
        }
        Site s = SaeSite.isSaeName(site) ? SaeSite.parse(site).site() : Site.parse(site);
        if (m == Method.SAE_R && !saeOptions.given()) {
            throw new IpgException("--method sae-r needs the SAE (--sae DIR)");
        }
        if (m == Method.SAE_R) {
            windowSide(0); // checked before any work
            windowSide(1);
        }
        if (m != Method.RANDOM && dataset == null) {
            throw new IpgException("--method " + m + " needs --dataset (the support set)");
        }
        try (Parallel pool = model.pool(); Transformer tm = model.load(pool)) {
            s.checkIn(tm.config());
            JsonNode run;
            if (m == Method.RANDOM) {
                run = RandomBaseline.run(tm, s, seed, out);
            } else {
                ProgressBar bar = new ProgressBar(err);
                try (Tokenizer tok = Tokenizer.load(model.dir()); Cluster.Session cluster = spark.session(spec, saeOptions, pool, tm, tok, bar)) {
                    var sup = new Support(tm, tok, fmt.load(dataset), limit, fmt.format(), DatasetFormatOptions.eos(tm, tok, model.dir()),
                            bar).withOffload(cluster.offload());
                    run = switch (m) {
                        case ACTIVATION -> ActivationBaseline.run(sup, s, completionDecoding(), completions, out);
                        case REASONING_NEURON -> ReasoningNeuronBaseline.run(sup, s, completionDecoding(),
                                words == null ? Signal.Reflection.DEFAULT_WORDS : words, completions, out);
                        case CONTROL_VECTOR -> ControlVectorBaseline.run(sup, s, pca ? ControlVectorBaseline.Variant.PCA
                                : ControlVectorBaseline.Variant.MEAN_DIFFERENCE, seed, out);
                        case IG -> IntegratedGradients.run(sup, s, new IntegratedGradients.Options(path.steps, path.quadrature,
                                interpolation.baseline, interpolation.positions), out);
                        case PG -> {
                            try (Signal sig = Signals.parse(signalSpec, pool)) {
                                IpgOptions o = new IpgOptions(1, group.samples, pgTemperature(), pgTopP(), 0, budget.maxNewTokens,
                                        group.advantage, interpolation.baseline, IpgOptions.SamplingMode.ON_PATH, interpolation.positions,
                                        Quadrature.RIEMANN_RIGHT, seed).withGradient(gradient.gradient);
                                yield PolicyGradientBaseline.run(sup, s, o, sig, signalSpec, out);
                            }
                        }
                        case SAE_R -> SaeReasonScore.run(sup, saeOptions.load(tm.config(), s),
                                completionDecoding(), words == null ? SaeReasonScore.PAPER_WORDS : words,
                                windowSide(0), windowSide(1), entropyPower, completions, out);
                        default -> throw new AssertionError(m);
                    };
                }
            }
            outw.println(m + " scores of " + (m == Method.SAE_R ? s + ".hook_sae_acts_post" : s) + " ("
                    + (m == Method.SAE_R ? saeOptions.load(s).dSae() : s.width(tm.config())) + " components): " + summary(run));
            outw.println("wrote " + out.resolve("scores.safetensors") + ", " + out.resolve("top.csv") + ", " + out.resolve("run.json"));
        }
        return 0;
    }

    private EvalRun.Decoding completionDecoding() {
        double t = temperature != null ? temperature : Double.parseDouble(SamplingOptions.GREEDY);
        double p = topP != null ? topP : Double.parseDouble(SamplingOptions.WHOLE_NUCLEUS);
        return new EvalRun.Decoding(new SamplingParams(t, 0, p, seed), budget.maxNewTokens, batchSize);
    }

    private double pgTemperature() {
        return temperature != null ? temperature : Double.parseDouble(SamplingOptions.POLICY_TEMPERATURE);
    }

    private double pgTopP() {
        return topP != null ? topP : Double.parseDouble(SamplingOptions.POLICY_TOP_P);
    }

    private static String summary(JsonNode run) {
        JsonNode r = run.path("results");
        if (r.has("completeness")) {
            return String.format(java.util.Locale.ROOT, "sum of scores %.4f vs L(1) - L(0) = %.4f", r.at("/completeness/sum_scores").asDouble(),
                    r.at("/completeness/mean_l1_minus_l0").asDouble());
        }
        if (run.has("completeness")) {
            return "raw policy gradient over " + run.path("prompts").size() + " prompts";
        }
        return r.has("problems") ? r.get("problems").asInt() + " problems" : r.has("completions") ? r.get("completions").asInt()
                + " completions" : "done";
    }
}
