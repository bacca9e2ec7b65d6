package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.eval.SupportOverlap;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.run.ScaleOut;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.steer.Steering;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg eval}: accuracy on a problem set, optionally under an intervention. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate accuracy on a problem set (greedy by default, the paper's protocol), optionally steered.",
                "Writes OUT/completions.jsonl (every completion, appended batch by batch) and OUT/summary.json "
                        + "(accuracy with its 95%% Wilson interval, mean generated tokens, reflection words, and for reasoning models the "
                        + "thinking and answer tokens apart: the answer is read after </think>); rerunning resumes."})
final class EvalCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--dataset", required = true, paramLabel = "FILE.jsonl", description = "Problems (GSM8K, MATH-500 or AIME shape, or --field).")
    Path dataset;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Output directory (created; resumed if it exists).")
    Path out;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "Evaluate the first N problems (0 = all).")
    int limit;

    @Option(names = "--intervention", defaultValue = "none", paramLabel = "SPEC",
            description = "none, scale:RUN_DIR:top-percent=P:gamma=G (or top-count=K)[:rank=abs][:site=SITE] or add:FILE:strength=S "
                    + "or, with --sae, reconstruction (the model on the SAE's reconstruction, its error term dropped) (default: ${DEFAULT-VALUE}).")
    String intervention;

    @Mixin
    SamplingOptions.Budget budget;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "B", description = "Problems generated together (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Mixin
    SamplingOptions.Decoding decoding;

    @Mixin
    SamplingOptions.TopK topK;

    @Option(names = "--sample-top-k", hidden = true, paramLabel = "K")
    void retiredSampleTopK(String value) {
        throw SelectionOptions.retired(spec, "--sample-top-k", "--top-k K (the sampling top-k)");
    }

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed when sampling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--words", split = ",", paramLabel = "W", description = "Reflection words counted (default: " + Signal.Reflection.DEFAULT_WORDS_TEXT
            + ", DeepSeek-R1's reflective terms without but and however).")
    List<String> words;

    @Mixin
    DatasetFormatOptions fmt;

    @Mixin
    SaeOptions saeOptions;

    @Option(names = "--spark", paramLabel = "MASTER", description = Cluster.HELP)
    String spark;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    static String describe(EvalRun.Summary s) {
        return String.format(Locale.ROOT, "accuracy %.2f%% [%.2f%%, %.2f%%] (%d/%d), %.1f generated tokens on average, "
                        + "%.2f reflection words per completion", 100 * s.accuracy(), 100 * s.interval().lower(), 100 * s.interval().upper(),
                s.correct(), s.problems(), s.meanGeneratedTokens(), s.reflectionPerCompletion())
                + (!s.thinks() ? "" : String.format(Locale.ROOT, "; think blocks: %d closed, %d unclosed, %d none; %.1f thinking and "
                        + "%.1f answer tokens on average", s.thinkBlocks().getOrDefault("closed", 0), s.thinkBlocks().getOrDefault("unclosed", 0),
                        s.thinkBlocks().getOrDefault("none", 0), s.meanThinkingTokens(), s.meanAnswerTokens()));
    }

    /** What an evaluation opens: the engine, the model, the tokenizer, the run. */
    record Opened(Parallel pool, Transformer model, Tokenizer tok, EvalRun run) implements AutoCloseable {
        @Override
        public void close() {
            try (pool; model; tok) {
                // closed in reverse order
            }
        }
    }

    /** The decoding the options ask for. */
    EvalRun.Decoding decoding() {
        return new EvalRun.Decoding(new SamplingParams(decoding.temperature, topK.topK, decoding.topP, seed), budget.maxNewTokens,
                batchSize);
    }

    /** Opens the model and the evaluation (on the driver, and once per executor JVM with --spark). */
    Opened open(Dataset data, Steering steering, ProgressListener progress) {
        Parallel pool = model.pool();
        Transformer m = null;
        Tokenizer tok = null;
        try {
            m = model.load(pool);
            tok = Tokenizer.load(model.dir());
            var es = new EvalRun.Spec(fmt.format(), decoding(), steering, words == null ? Signal.Reflection.DEFAULT_WORDS : words);
            var run = new EvalRun(m, tok, data, es, DatasetFormatOptions.eos(m, tok, model.dir()), out, progress);
            return new Opened(pool, m, tok, run);
        } catch (RuntimeException e) {
            try (Parallel p = pool; Transformer m0 = m; Tokenizer t0 = tok) {
                throw e;
            }
        }
    }

    /** The steering the options ask for. */
    Steering steering() {
        return saeOptions.given() ? Steering.parse(intervention, saeOptions.load(null)) : Steering.parse(intervention);
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter outw = spec.commandLine().getOut();
        if (limit < 0) {
            throw new IpgException("--limit must be >= 0, got " + limit);
        }
        var decoding = decoding();
        Dataset data = fmt.load(dataset);
        Steering steering = steering();
        if (steering instanceof Steering.Scale sc && sc.scores() != null) {
            sc.scores().constantWarning().ifPresent(w -> err.println("[warning: " + w + "]"));
            SupportOverlap.withEvaluation(sc.scores(), data, limit).ifPresent(w -> err.println("[warning: " + w + "]"));
        }
        ProgressBar bar = new ProgressBar(err);
        try (Opened o = open(data, steering, bar); ScaleOut cluster = spark == null ? null : Cluster.open(spark, bar)) {
            int used = limit > 0 ? Math.min(limit, data.size()) : data.size();
            var run = o.run();
            run.prepare(limit);
            err.printf(Locale.ROOT, "[evaluating %d problems of %s: %s; intervention %s; %d threads, %s]%n", used, dataset.getFileName(),
                    decoding.describe(), steering.describe(), o.pool().threads(), o.model().kernels().name());
            EvalRun.Result r;
            if (cluster == null) {
                r = run.run(limit);
            } else {
                Cluster.Job job = Cluster.job(spec);
                int lim = limit;
                Cluster.share(job, o);
                try {
                    r = run.run(limit, (blocks, done) -> cluster.run(blocks, b -> {
                        Opened e = Cluster.cached(job, () -> {
                            EvalCommand c = (EvalCommand) Cluster.parse(job);
                            Cluster.requireModel(c.model.model);
                            return c.open(c.fmt.load(c.dataset), c.steering(), ProgressListener.NONE);
                        });
                        synchronized (e) {
                            return e.run().computeBlock(lim, b);
                        }
                    }, done));
                } finally {
                    Cluster.unshare(job);
                }
            }
            outw.println(describe(r.summary()));
            outw.println("wrote " + out.resolve(EvalRun.COMPLETIONS) + ", " + out.resolve(EvalRun.SUMMARY));
        }
        return 0;
    }
}
