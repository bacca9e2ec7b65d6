package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.demo.DemoModel;
import dev.ipg.core.demo.DemoRecipe;
import dev.ipg.core.demo.Planted;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.train.Trainer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg train-demo}: trains the bundled demo reasoning model from scratch. */
@Command(name = "train-demo", mixinStandardHelpOptions = true, defaultValueProvider = TrainDemoCommand.Recipe.class,
        description = "Generate the synthetic chained-arithmetic task, train a small Llama on it with ipg's own reverse "
                + "mode, evaluate it, and write a Hugging Face model directory (weights, tokenizer, chat template, "
                + "data splits, model card).")
final class TrainDemoCommand implements Callable<Integer> {

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "New model directory (must not exist or be empty).")
    Path out;

    @Option(names = "--recipe", paramLabel = "standard|planted", defaultValue = "standard",
            description = "standard: the demo model (models/ipg-demo). planted: the planted-mechanism testbed "
                    + "(models/ipg-planted): 2 to 5 operations, a step re-checked exactly when its result is 50 or more, "
                    + "8 neurons of blocks.2.mlp.hook_post trained to carry that decision, 2400 scheduled steps with an "
                    + "evaluation every 100 and early stopping at 68 %% greedy probe accuracy; its dev split and planted.json "
                    + "are written too. The defaults shown with the other options are the standard recipe's; an option given explicitly "
                    + "overrides either recipe (default: ${DEFAULT-VALUE}).")
    String recipe;

    @Option(names = "--steps", paramLabel = "N", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    Integer steps;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of data, initialization, data order and sampling (default: ${DEFAULT-VALUE}).")
    Long seed;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "2", description = "Worker threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--batch", paramLabel = "N", description = "Examples per step (default: ${DEFAULT-VALUE}).")
    Integer batch;

    @Option(names = "--lr", paramLabel = "X", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    Double lr;

    @Option(names = "--warmup", paramLabel = "N", description = "Warmup steps (default: ${DEFAULT-VALUE}).")
    Integer warmup;

    @Option(names = "--train-size", paramLabel = "N", description = "Distinct training problems (default: steps x batch, each seen once).")
    Integer trainSize;

    @Option(names = "--eval-size", paramLabel = "N", description = "Eval problems (default: ${DEFAULT-VALUE}).")
    Integer evalSize;

    @Option(names = "--eval-every", paramLabel = "N", description = "Steps between held-out evaluations; 0 = only at the end (default: ${DEFAULT-VALUE}).")
    Integer evalEvery;

    @Option(names = "--probe", paramLabel = "N", description = "Eval problems answered greedily at each held-out evaluation (default: ${DEFAULT-VALUE}).")
    Integer probe;

    @Option(names = "--hidden", paramLabel = "N", description = "Hidden size (default: ${DEFAULT-VALUE}).")
    Integer hidden;

    @Option(names = "--layers", paramLabel = "N", description = "Blocks (default: ${DEFAULT-VALUE}).")
    Integer layers;

    @Option(names = "--heads", paramLabel = "N", description = "Query heads (default: ${DEFAULT-VALUE}).")
    Integer heads;

    @Option(names = "--kv-heads", paramLabel = "N", description = "Key/value heads (default: ${DEFAULT-VALUE}).")
    Integer kvHeads;

    @Option(names = "--intermediate", paramLabel = "N", description = "MLP width (default: ${DEFAULT-VALUE}).")
    Integer intermediate;

    @Option(names = "--dtype", paramLabel = "T", description = "Storage type of model.safetensors: F32 or BF16 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** The shipped recipe's settings as the options' defaults (shown by --help). */
    static final class Recipe implements CommandLine.IDefaultValueProvider {
        @Override
        public String defaultValue(CommandLine.Model.ArgSpec arg) {
            if (!(arg instanceof CommandLine.Model.OptionSpec o)) {
                return null;
            }
            DemoRecipe.Options d = DemoRecipe.Options.standard();
            DemoModel m = d.model();
            Object v = switch (o.longestName()) {
                case "--steps" -> d.steps();
                case "--seed" -> d.seed();
                case "--batch" -> d.batchSize();
                case "--lr" -> d.peakLr();
                case "--warmup" -> d.warmup();
                case "--eval-size" -> d.evalSize();
                case "--eval-every" -> d.evalEvery();
                case "--probe" -> d.probeSize();
                case "--hidden" -> m.hidden();
                case "--layers" -> m.layers();
                case "--heads" -> m.heads();
                case "--kv-heads" -> m.kvHeads();
                case "--intermediate" -> m.intermediate();
                case "--dtype" -> d.dtype().name();
                default -> null;
            };
            return v == null ? null : v.toString();
        }
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (threads < 1) {
            throw new IpgException("--threads must be >= 1, got " + threads);
        }
        DemoRecipe.Options o = options();
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IpgException(out + " exists and is not a directory");
        }
        String command = commandLine(o);
        Kernels kernels = KernelsProvider.lookup();
        try (Parallel pool = Parallel.of(threads)) {
            err.printf(Locale.ROOT, "[train-demo: %d threads, %s kernels]%n", threads, kernels.name());
            ProgressBar bar = new ProgressBar(err);
            DemoRecipe.Report r = DemoRecipe.build(out, o, kernels, pool, new DemoRecipe.Listener() {
                private boolean started;

                @Override
                public void stage(String message) {
                    bar.message(message);
                }

                @Override
                public void progress(Trainer.Progress p) {
                    if (!started) {
                        bar.start("steps", p.steps(), 0);
                        started = true;
                    }
                    bar.advanceTo(p.step(), String.format(Locale.ROOT, "loss %.4f  lr %.2e  |g| %.3f  %,.0f tok/s",
                            p.loss(), p.lr(), p.gradNorm(), p.tokensPerSecond()));
                }

                @Override
                public void evaluated(Trainer.Evaluation e) {
                    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "eval at step %d: held-out loss %.4f", e.step(),
                            e.heldOutLoss()));
                    for (Map.Entry<String, Double> m : new java.util.TreeMap<>(e.metrics()).entrySet()) {
                        sb.append(String.format(Locale.ROOT, "  %s %.3f", m.getKey(), m.getValue()));
                    }
                    bar.message(sb.toString());
                }
            }, command);
            err.printf(Locale.ROOT, "[greedy accuracy %.1f %% (%d/%d), sampled T=%.2g accuracy %.1f %% (%d/%d); wall time %s]%n",
                    100 * r.greedy().accuracy(), r.greedy().correct(), r.greedy().total(), o.temperature(),
                    100 * r.sampled().accuracy(), r.sampled().correct(), r.sampled().total(), hms(r.wallSeconds()));
            if (r.planted() != null) {
                var c = r.planted();
                double mean = c.random().stream().mapToDouble(x -> x.reflections()).average().orElse(Double.NaN);
                err.printf(Locale.ROOT, "[causal check on %d eval problems, reflections per answer: intact %.3f, planted %d "
                                + "ablated %.3f, %d random sets of %d ablated %.3f (mean)]%n", c.intact().total(),
                        c.intact().reflections(), c.indices().length, c.ablated().reflections(), c.random().size(),
                        c.indices().length, mean);
            }
            err.println("[wrote " + out + "]");
        }
        return 0;
    }

    private DemoRecipe.Options options() {
        DemoRecipe.Options d = DemoRecipe.Options.named(recipe);
        if (!"standard".equals(recipe)) {
            // the provider filled every unset option with the standard recipe's value: take the chosen recipe's instead
            var pr = spec.commandLine().getParseResult();
            steps = pr.hasMatchedOption("--steps") ? steps : Integer.valueOf(d.steps());
            seed = pr.hasMatchedOption("--seed") ? seed : Long.valueOf(d.seed());
            batch = pr.hasMatchedOption("--batch") ? batch : Integer.valueOf(d.batchSize());
            lr = pr.hasMatchedOption("--lr") ? lr : Double.valueOf(d.peakLr());
            warmup = pr.hasMatchedOption("--warmup") ? warmup : Integer.valueOf(d.warmup());
            evalSize = pr.hasMatchedOption("--eval-size") ? evalSize : Integer.valueOf(d.evalSize());
            evalEvery = pr.hasMatchedOption("--eval-every") ? evalEvery : Integer.valueOf(d.evalEvery());
            probe = pr.hasMatchedOption("--probe") ? probe : Integer.valueOf(d.probeSize());
            // the architecture and storage type of both recipes are the same, so their provider values stand
        }
        DemoModel m = d.model();
        DemoModel model = new DemoModel(or(hidden, m.hidden()), or(layers, m.layers()), or(heads, m.heads()),
                or(kvHeads, m.kvHeads()), or(intermediate, m.intermediate()), m.vocab(), m.context());
        DType dt = d.dtype();
        if (dtype != null) {
            try {
                dt = DType.valueOf(dtype.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IpgException("unknown --dtype '" + dtype + "': use F32 or BF16");
            }
        }
        int s = or(steps, d.steps());
        if (s < 1) {
            throw new IpgException("--steps must be >= 1, got " + s);
        }
        int e = or(evalSize, d.evalSize());
        int b = or(batch, d.batchSize());
        Planted pl = d.planted();
        if (pl != null && pl.perBatch() > b) {
            // the ablated term on half of every batch, as in the recipe
            pl = new Planted(pl.layer(), pl.count(), Math.max(1, b / 2), pl.stopAt());
        }
        return new DemoRecipe.Options(model, d.task(), or(trainSize, d.trainSize()), d.supportSize(), e, s,
                b, lr == null ? d.peakLr() : lr, d.minLr(), Math.min(or(warmup, d.warmup()), s),
                d.weightDecay(), d.clipNorm(), seed == null ? d.seed() : seed, or(evalEvery, d.evalEvery()),
                Math.min(e, or(probe, d.probeSize())), d.temperature(), dt, pl);
    }

    /** The command that reproduces this run, with every setting spelled out. */
    private String commandLine(DemoRecipe.Options o) {
        DemoModel m = o.model();
        return String.format(Locale.ROOT, "ipg train-demo --out DIR%s --steps %d --seed %d --threads %d --batch %d --lr %s "
                        + "--warmup %d%s --eval-size %d%s --hidden %d --layers %d --heads %d --kv-heads %d --intermediate %d --dtype %s",
                o.planted() != null ? " --recipe planted" : "", o.steps(), o.seed(), threads, o.batchSize(), o.peakLr(), o.warmup(),
                o.trainSize() > 0 ? " --train-size " + o.trainSize() : "", o.evalSize(),
                o.planted() != null ? " --eval-every " + o.evalEvery() + " --probe " + o.probeSize() : "", m.hidden(), m.layers(), m.heads(),
                m.kvHeads(), m.intermediate(), o.dtype());
    }

    private static int or(Integer v, int d) {
        return v == null ? d : v;
    }

    static String hms(double seconds) {
        if (!Double.isFinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
