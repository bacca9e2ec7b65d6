package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.io.Json;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.run.RunConfig;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeFiles;
import dev.ipg.core.sae.SaeFingerprint;
import dev.ipg.core.sae.SaeLensFormat;
import dev.ipg.core.sae.SaeTraining;
import dev.ipg.core.sae.SparsifyFormat;
import dev.ipg.core.sae.TopKTrainer;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ipg sae}: sparse autoencoders. */
@Command(name = "sae", mixinStandardHelpOptions = true, description = "Sparse autoencoders on a hook site.",
        subcommands = {SaeCommand.Train.class, SaeCommand.Eval.class})
final class SaeCommand implements Runnable {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The completion budget of SAE training. */
    static final String TRAINING_MAX_NEW_TOKENS = "128";

    /** The file formats an SAE is written in. */
    enum Format { SAELENS, SPARSIFY }

    static final class Formats extends Choice<Format> {
        Formats() {
            super(Format.class);
        }
    }

    /** What train and eval read: the prompts of a dataset, the model's completions of which are sampled with a seed. */
    static final class Completions {

        @Option(names = "--dataset", required = true, paramLabel = "FILE.jsonl", description = "Prompts (GSM8K, MATH-500 or AIME shape, or --field).")
        Path dataset;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the sampled completions (default: ${DEFAULT-VALUE}).")
        long seed;

        @Mixin
        DatasetFormatOptions fmt;

        Dataset load() {
            return fmt.load(dataset);
        }
    }

    /** {@code ipg sae train}. */
    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Train a TopK SAE (Gao et al. 2024: MSE, AuxK for dead latents, Adam, unit-norm decoder rows, b_dec at the "
                    + "geometric median) on a site's activations over the model's own completions of a dataset, streamed; "
                    + "report FVU, L0, dead latents and the loss with the SAE spliced in on held-out prompts; write the "
                    + "SAELens format (--format sparsify for sparsify). Rerunning the same command resumes."})
    static final class Train implements Callable<Integer> {

        @Mixin
        ModelOptions model;

        @Mixin
        Completions completions;

        @Option(names = "--site", required = true, paramLabel = "SITE", description = "e.g. blocks.2.hook_resid_post.")
        String site;

        @Option(names = "--expansion", paramLabel = "E", defaultValue = "16", description = "d_sae = expansion x the site's width (default: ${DEFAULT-VALUE}).")
        int expansion;

        @Option(names = "--k", paramLabel = "K", defaultValue = "32", description = "Latents kept per position (default: ${DEFAULT-VALUE}).")
        int k;

        @Option(names = "--tokens", paramLabel = "N", defaultValue = "200000", description = "Activation rows to train on (default: ${DEFAULT-VALUE}).")
        long tokens;

        @Option(names = "--batch-size", paramLabel = "B", defaultValue = "256", description = "Rows per step (default: ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--buffer", paramLabel = "N", defaultValue = "8192", description = "Rows collected and shuffled before training on them (default: ${DEFAULT-VALUE}).")
        int buffer;

        @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
        double lr;

        @Option(names = "--aux-alpha", paramLabel = "A", defaultValue = "0.03125", description = "Weight of the AuxK loss (default: ${DEFAULT-VALUE}).")
        double auxAlpha;

        @Option(names = "--dead-after", paramLabel = "N", defaultValue = "50000", description = "A latent silent for this many rows is dead (default: ${DEFAULT-VALUE}).")
        long deadAfter;

        @Option(names = "--eval-prompts", paramLabel = "N", defaultValue = "32", description = "Last prompts of the dataset held out for the report (default: ${DEFAULT-VALUE}).")
        int evalPrompts;

        @Option(names = "--temperature", paramLabel = "T", defaultValue = SamplingOptions.POLICY_TEMPERATURE,
                description = "Sampling temperature of the completions: by default IPG's, so that the SAE learns the activations "
                        + "IPG attributes (default: ${DEFAULT-VALUE}).")
        double temperature;

        @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = TRAINING_MAX_NEW_TOKENS,
                description = "Completion budget; shorter than the other commands' " + SamplingOptions.MAX_NEW_TOKENS + " so that the "
                        + "training rows come from more prompts (default: ${DEFAULT-VALUE}).")
        int maxNewTokens;

        @Option(names = "--format", paramLabel = "saelens|sparsify", defaultValue = "saelens", converter = Formats.class,
                completionCandidates = Formats.class, description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        Format format;

        @Option(names = {"-o", "--out"}, required = true, paramLabel = "SAE_DIR", description = "Output directory.")
        Path out;

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            PrintWriter outw = spec.commandLine().getOut();
            if (expansion <= 0) {
                throw new IpgException("--expansion must be >= 1, got " + expansion);
            }
            Site s = Site.parse(site);
            Dataset data = completions.load();
            DatasetFormatOptions fmt = completions.fmt;
            Path dataset = completions.dataset;
            long seed = completions.seed;
            try (Parallel pool = model.pool(); Transformer m = model.load(pool); Tokenizer tok = Tokenizer.load(model.dir())) {
                s.checkIn(m.config());
                int d = s.width(m.config());
                List<int[]> prompts = new ArrayList<>();
                for (int i = 0; i < data.size(); i++) {
                    prompts.add(fmt.format().encode(data.get(i).question(), tok));
                }
                if (prompts.size() <= evalPrompts) {
                    throw new IpgException(dataset + ": " + prompts.size() + " prompts, not more than the " + evalPrompts
                            + " held out (--eval-prompts)");
                }
                List<int[]> train = prompts.subList(0, prompts.size() - evalPrompts);
                List<int[]> held = prompts.subList(prompts.size() - evalPrompts, prompts.size());
                var topts = new TopKTrainer.Options(Math.multiplyExact(d, expansion), k, lr, auxAlpha, deadAfter, seed);
                var tspec = new SaeTraining.Spec(s, topts, batch, buffer, tokens, new SamplingParams(temperature, 0, 1.0, seed), maxNewTokens);
                var training = new SaeTraining(m, tspec, DatasetFormatOptions.eos(m, tok, model.dir()));
                Path work = out.resolve(".training");
                Files.createDirectories(work);
                Path state = work.resolve("state.safetensors");
                var config = Json.object();
                config.put("site", s.toString());
                config.set("dataset", RunConfig.dataset(data));
                config.set("model", RunConfig.model(m));
                config.put("latents", topts.latents());
                config.put("k", k);
                config.put("tokens", tokens);
                config.put("batch_size", batch);
                config.put("buffer", buffer);
                config.put("lr", lr);
                config.put("aux_alpha", auxAlpha);
                config.put("dead_after", deadAfter);
                config.put("eval_prompts", evalPrompts);
                config.put("temperature", temperature);
                config.put("max_new_tokens", maxNewTokens);
                config.put("seed", seed);
                config.set("prompt_format", fmt.format().json());
                RunConfig.prepare(work, "run-config.json", config, x -> false);
                err.printf(Locale.ROOT, "[training a TopK SAE at %s: d_in %d, d_sae %d, k %d, %d rows in batches of %d; %d threads]%n",
                        s, d, topts.latents(), k, tokens, batch, pool.threads());
                ProgressBar bar = new ProgressBar(err);
                long[] shown = {-1};
                TopKTrainer t = training.train(train, state, (rows, total, st) -> {
                    if (shown[0] < 0) {
                        bar.start("steps", (total + batch - 1) / batch, rows / batch - 1);
                        shown[0] = 0;
                    }
                    bar.advance(String.format(Locale.ROOT, "FVU %.3f L0 %.1f dead %.1f%%", st.fvu(), st.l0(), 100 * st.deadFraction()));
                });
                Sae sae = t.sae(s, out.toString());
                SaeTraining.Evaluation ev = training.evaluate(sae, held);
                if (format == Format.SAELENS) {
                    SaeLensFormat.write(sae, out, m.dir().getFileName().toString());
                } else {
                    SparsifyFormat.write(sae, out);
                }
                var report = Json.object();
                report.set("config", config);
                report.put("fvu", ev.fvu());
                report.put("l0", ev.l0());
                report.put("dead_fraction", ev.deadFraction());
                report.put("loss_original", ev.lossOriginal());
                report.put("loss_spliced", ev.lossSpliced());
                report.put("heldout_rows", ev.rows());
                report.put("steps", t.steps());
                report.set("sae", SaeFingerprint.json(sae));
                Json.write(out.resolve("training.json"), report);
                outw.printf(Locale.ROOT, "held out (%d rows): FVU %.4f, L0 %.2f, dead %.1f%%, loss %.4f -> %.4f nats with the SAE spliced in%n",
                        ev.rows(), ev.fvu(), ev.l0(), 100 * ev.deadFraction(), ev.lossOriginal(), ev.lossSpliced());
                outw.println("wrote " + out + " (" + Choice.spelling(format) + ") and " + out.resolve("training.json"));
            } catch (java.io.IOException e) {
                throw new IpgException("cannot write " + out + ": " + e.getMessage(), e);
            }
            return 0;
        }
    }

    /** {@code ipg sae eval}. */
    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = {"Measure an SAE on the model's own completions of a dataset: FVU (fraction of variance unexplained) over "
                    + "every position of prompt and completion, L0, the fraction of latents that never fire, and the mean loss of "
                    + "the completion tokens with and without the SAE's reconstruction in place of its site (no error term). "
                    + "For the accuracy with the reconstruction spliced in, run 'ipg eval --sae DIR --intervention reconstruction'."})
    static final class Eval implements Callable<Integer> {

        @Mixin
        ModelOptions model;

        @Option(names = "--sae", required = true, paramLabel = "DIR", description = "The SAE directory (SAELens or sparsify).")
        Path saeDir;

        @Mixin
        Completions completions;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "The first N problems (0 = all; default: ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--temperature", paramLabel = "T", defaultValue = SamplingOptions.GREEDY,
                description = "Sampling temperature of the completions, 0 = greedy (default: ${DEFAULT-VALUE}).")
        double temperature;

        @Mixin
        SamplingOptions.Budget budget;

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            PrintWriter outw = spec.commandLine().getOut();
            if (limit < 0) {
                throw new IpgException("--limit must be >= 0, got " + limit);
            }
            if (budget.maxNewTokens <= 0) {
                throw new IpgException("--max-new-tokens must be >= 1, got " + budget.maxNewTokens);
            }
            Sae sae = SaeFiles.load(saeDir, null);
            Dataset data = completions.load();
            DatasetFormatOptions fmt = completions.fmt;
            Path dataset = completions.dataset;
            long seed = completions.seed;
            int maxNewTokens = budget.maxNewTokens;
            try (Parallel pool = model.pool(); Transformer m = model.load(pool); Tokenizer tok = Tokenizer.load(model.dir())) {
                sae.checkIn(m.config());
                int n = limit > 0 ? Math.min(limit, data.size()) : data.size();
                List<int[]> prompts = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    int[] p = fmt.format().encode(data.get(i).question(), tok);
                    if (p.length >= m.config().maxPositions()) {
                        throw new IpgException(dataset + ": problem " + (i + 1) + " has " + p.length + " prompt tokens, not fewer than the context "
                                + m.config().maxPositions());
                    }
                    prompts.add(p);
                }
                var sampling = new SamplingParams(temperature, 0, 1.0, seed);
                err.printf(Locale.ROOT, "[measuring the %s on %d problems of %s: %s, %d tokens; %d threads]%n", sae, n, dataset.getFileName(),
                        temperature == 0 ? "greedy" : "temperature " + temperature, maxNewTokens, pool.threads());
                ProgressBar bar = new ProgressBar(err);
                bar.start("prompts (completions, then losses)", 2L * n, 0);
                int[] last = {0};
                var ev = SaeTraining.evaluator(m, sae, sampling, maxNewTokens, DatasetFormatOptions.eos(m, tok, model.dir()))
                        .evaluate(sae, prompts, k -> {
                            while (last[0] < k) {
                                bar.advance("");
                                last[0]++;
                            }
                        });
                outw.printf(Locale.ROOT, "%d rows: FVU %.4f, L0 %.2f, dead %.1f%% (%d of %d latents never fire), loss %.4f -> %.4f nats/token "
                                + "with the reconstruction in place of %s%n", ev.rows(), ev.fvu(), ev.l0(), 100 * ev.deadFraction(),
                        Math.round(ev.deadFraction() * sae.dSae()), sae.dSae(), ev.lossOriginal(), ev.lossSpliced(), sae.site());
            }
            return 0;
        }
    }
}
