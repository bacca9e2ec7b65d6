package dev.ipg.core.demo;

import dev.ipg.core.IpgException;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.HeapTensors;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import dev.ipg.core.train.AdamW;
import dev.ipg.core.train.LrSchedule;
import dev.ipg.core.train.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Builds the demo model from nothing: tokenizer files, data splits, a freshly initialized Llama
 * trained with {@link Trainer}, then a Hugging Face model directory. The directory is assembled
 * under a temporary name beside the target and renamed into place only when complete. The final
 * accuracies are measured on the model as loaded back from the written files, by the same code
 * that loads any downloaded model.
 */
public final class DemoRecipe {

    /**
     * Everything that determines the result.
     *
     * @param model        architecture
     * @param task         problem and solution distribution
     * @param trainSize    training examples (0: steps x batch, each seen once)
     * @param supportSize  support examples
     * @param evalSize     eval examples
     * @param steps        optimizer steps
     * @param batchSize    examples per step
     * @param peakLr       learning rate after warmup
     * @param minLr        learning rate of the last step
     * @param warmup       warmup steps
     * @param weightDecay  AdamW decoupled weight decay
     * @param clipNorm     global gradient norm limit
     * @param seed         data, initialization, data order and sampling
     * @param evalEvery    steps between held-out evaluations (0: only at the end)
     * @param probeSize    eval problems answered greedily at each held-out evaluation
     * @param temperature  sampling temperature of the reported sampled accuracy and of generation_config.json
     * @param dtype        storage type of model.safetensors
     */
    public record Options(DemoModel model, ChainTask.Spec task, int trainSize, int supportSize, int evalSize, int steps,
                          int batchSize, double peakLr, double minLr, int warmup, double weightDecay, double clipNorm,
                          long seed, int evalEvery, int probeSize, double temperature, DType dtype) {

        public Options {
            if (supportSize < 1 || evalSize < 1 || trainSize < 0 || probeSize < 0 || probeSize > evalSize) {
                throw new IpgException("demo data sizes must be positive (probe at most the eval size): train "
                        + trainSize + ", support " + supportSize + ", eval " + evalSize + ", probe " + probeSize);
            }
        }

        /** The recipe of the shipped model. */
        public static Options standard() {
            return new Options(DemoModel.standard(), ChainTask.Spec.standard(), 0, 200, 500, 3000, 16, 2e-3, 1e-4, 100,
                    0.1, 1.0, 1234, 500, 100, 0.6, DType.F32);
        }

        public Options withSteps(int s) {
            return new Options(model, task, trainSize, supportSize, evalSize, s, batchSize, peakLr, minLr,
                    Math.min(warmup, s), weightDecay, clipNorm, seed, evalEvery, probeSize, temperature, dtype);
        }

        public Options withSeed(long s) {
            return new Options(model, task, trainSize, supportSize, evalSize, steps, batchSize, peakLr, minLr, warmup,
                    weightDecay, clipNorm, s, evalEvery, probeSize, temperature, dtype);
        }

        int examples() {
            return trainSize > 0 ? trainSize : steps * batchSize;
        }
    }

    /** Receives training progress and a line for each stage. */
    public interface Listener extends Trainer.Listener {
        default void stage(String message) {
        }
    }

    /**
     * What the build produced.
     *
     * @param parameters  number of weights
     * @param training    the loss curve and evaluations
     * @param greedy      greedy accuracy on the eval split
     * @param sampled     accuracy at the recipe's temperature on the eval split
     * @param wallSeconds wall time of the whole build
     * @param trainStats  mean length and reflections of the training solutions
     * @param machine     threads and kernels the build ran on
     */
    public record Report(long parameters, Trainer.Result training, DemoEval.Result greedy, DemoEval.Result sampled,
                         double wallSeconds, String trainStats, String machine) {
    }

    /** Max new tokens when answering: more than the longest solution the task writes. */
    public static final int MAX_NEW_TOKENS = 160;
    private static final int EVAL_BATCH = 50;

    private DemoRecipe() {
    }

    /**
     * Builds the model into {@code out}, which must not exist or be an empty directory.
     *
     * @param command the command line that reproduces the build, for the model card
     */
    public static Report build(Path out, Options o, Kernels kernels, Parallel pool, Listener listener, String command) {
        long t0 = System.nanoTime();
        Path target = out.toAbsolutePath();
        if (Files.exists(target) && !(Files.isDirectory(target) && isEmpty(target))) {
            throw new IpgException(out + " already exists and is not an empty directory");
        }
        Path tmp;
        try {
            Files.createDirectories(target.getParent());
            tmp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + "-");
            try {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
        } catch (IOException e) {
            throw new IpgException("cannot create a directory beside " + out + ": " + e.getMessage(), e);
        }
        try {
            Report r = buildInto(tmp, o, kernels, pool, listener, command, t0);
            if (Files.exists(target)) {
                Files.delete(target);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return r;
        } catch (IOException e) {
            deleteTree(tmp);
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            deleteTree(tmp);
            throw e;
        }
    }

    private static Report buildInto(Path dir, Options o, Kernels kernels, Parallel pool, Listener listener, String command,
                                    long t0) throws IOException {
        writeText(dir.resolve("tokenizer.json"), CharVocabulary.tokenizerJson());
        writeText(dir.resolve("tokenizer_config.json"), CharVocabulary.tokenizerConfigJson(o.model().context()));
        writeText(dir.resolve("config.json"), o.model().configJson(o.dtype()));
        writeText(dir.resolve("generation_config.json"), DemoModel.generationConfigJson(o.temperature(), 1.0));
        ChainTask task = new ChainTask(o.task());
        listener.stage("generating " + o.examples() + " training, " + o.supportSize() + " support and " + o.evalSize()
                + " eval problems (seed " + o.seed() + ")");
        DemoData data = DemoData.generate(task, o.seed(), o.examples(), o.supportSize(), o.evalSize());
        DemoData.writeJsonl(dir.resolve("train.jsonl"), data.train());
        DemoData.writeJsonl(dir.resolve("support.jsonl"), data.support());
        DemoData.writeJsonl(dir.resolve("eval.jsonl"), data.eval());

        ModelConfig cfg = o.model().config();
        Trainer.Result training;
        List<DemoData.Example> probe = data.eval().subList(0, o.probeSize());
        try (Tokenizer tok = Tokenizer.load(dir)) {
            List<Trajectory> train = encode(tok, data.train());
            List<Trajectory> heldOut = encode(tok, data.eval());
            String stats = stats(data.train(), train);
            listener.stage("training set: " + stats);
            HeapTensors weights = Trainer.initialize(cfg, o.seed());
            Trainer trainer = new Trainer(cfg, weights, kernels, pool);
            listener.stage(String.format(java.util.Locale.ROOT, "model: %,d parameters (hidden %d, %d layers, %d/%d heads, mlp %d)",
                    cfg.parameterCount(), cfg.hiddenSize(), cfg.numLayers(), cfg.numHeads(), cfg.numKvHeads(),
                    cfg.intermediateSize()));
            var schedule = new LrSchedule(o.peakLr(), o.minLr(), Math.min(o.warmup(), o.steps()), o.steps());
            var adam = new AdamW.Hyper(0.9, 0.95, 1e-8, o.weightDecay());
            var topts = new Trainer.Options(o.steps(), o.batchSize(), schedule, adam, o.clipNorm(), o.seed(),
                    Math.max(1, Math.min(25, o.steps() / 20)), o.evalEvery());
            Trainer.Probe accuracy = o.probeSize() == 0 ? null : (model, step) -> {
                DemoEval.Result g = DemoEval.run(model, tok, probe, SamplingParams.greedy(), MAX_NEW_TOKENS, EVAL_BATCH);
                Map<String, Double> m = new LinkedHashMap<>();
                m.put("greedy_accuracy", g.accuracy());
                m.put("mean_tokens", g.meanTokens());
                m.put("reflections", g.reflections());
                return m;
            };
            training = trainer.train(train, heldOut.subList(0, Math.min(heldOut.size(), 200)), topts, listener, accuracy);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt");
            weights.write(dir.resolve("model.safetensors"), o.dtype(), meta);

            listener.stage("evaluating the written model on " + data.eval().size() + " eval problems");
            DemoEval.Result greedy;
            DemoEval.Result sampled;
            try (Transformer loaded = Transformer.load(dir, kernels, pool); Tokenizer tok2 = Tokenizer.load(dir)) {
                greedy = DemoEval.run(loaded, tok2, data.eval(), SamplingParams.greedy(), MAX_NEW_TOKENS, EVAL_BATCH);
                sampled = DemoEval.run(loaded, tok2, data.eval(), new SamplingParams(o.temperature(), 0, 1.0, o.seed()),
                        MAX_NEW_TOKENS, EVAL_BATCH);
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            Report report = new Report(cfg.parameterCount(), training, greedy, sampled, wall, stats,
                    pool.threads() + " threads, " + kernels.name() + " kernels");
            writeText(dir.resolve("README.md"), ModelCard.text(o, report, command, Files.size(dir.resolve("model.safetensors"))));
            return report;
        }
    }

    /** Chat-formatted training sequences: prompt, solution, {@code <|im_end|>}; only the reply is scored. */
    public static List<Trajectory> encode(Tokenizer tok, List<DemoData.Example> examples) {
        List<Trajectory> out = new ArrayList<>(examples.size());
        for (DemoData.Example e : examples) {
            int[] prompt = DemoEval.prompt(tok, e.question());
            int[] reply = tok.encode(e.answer(), false);
            int[] all = new int[prompt.length + reply.length + 1];
            System.arraycopy(prompt, 0, all, 0, prompt.length);
            System.arraycopy(reply, 0, all, prompt.length, reply.length);
            all[all.length - 1] = CharVocabulary.IM_END;
            out.add(new Trajectory(all, prompt.length));
        }
        return out;
    }

    private static String stats(List<DemoData.Example> ex, List<Trajectory> ts) {
        long tokens = 0;
        int longest = 0;
        long refl = 0;
        int withRefl = 0;
        for (int i = 0; i < ex.size(); i++) {
            tokens += ts.get(i).tokens().length;
            longest = Math.max(longest, ts.get(i).tokens().length);
            refl += ex.get(i).reflections();
            withRefl += ex.get(i).reflections() > 0 ? 1 : 0;
        }
        return String.format(java.util.Locale.ROOT,
                "%d examples, %.1f tokens on average (longest %d), %.2f reflections per solution, %.0f%% reflect at least once",
                ex.size(), (double) tokens / ex.size(), longest, (double) refl / ex.size(), 100.0 * withRefl / ex.size());
    }

    private static void writeText(Path file, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(b)));
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> {
                try {
                    Files.deleteIfExists(x);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
