package dev.ipg.core.demo;

import dev.ipg.core.IpgException;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.HeapTensors;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Matrix;
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
     * @param planted      the planted mechanism of the testbed recipe (null: none, the demo model)
     */
    public record Options(DemoModel model, ChainTask.Spec task, int trainSize, int supportSize, int evalSize, int steps,
                          int batchSize, double peakLr, double minLr, int warmup, double weightDecay, double clipNorm,
                          long seed, int evalEvery, int probeSize, double temperature, DType dtype, Planted planted) {

        public Options {
            if (supportSize < 1 || evalSize < 1 || trainSize < 0 || probeSize < 0 || probeSize > evalSize) {
                throw new IpgException("demo data sizes must be positive (probe at most the eval size): train "
                        + trainSize + ", support " + supportSize + ", eval " + evalSize + ", probe " + probeSize);
            }
            if (planted != null && (planted.layer() >= model.layers() || planted.count() > model.intermediate()
                    || planted.perBatch() > batchSize || !task.ruleBased())) {
                throw new IpgException("the planted mechanism needs a block of the model (0.." + (model.layers() - 1)
                        + "), at most " + model.intermediate() + " neurons, at most the batch size (" + batchSize
                        + ") of ablated examples and a rule-based task; got " + planted);
            }
        }

        /** Without a planted mechanism. */
        public Options(DemoModel model, ChainTask.Spec task, int trainSize, int supportSize, int evalSize, int steps,
                       int batchSize, double peakLr, double minLr, int warmup, double weightDecay, double clipNorm,
                       long seed, int evalEvery, int probeSize, double temperature, DType dtype) {
            this(model, task, trainSize, supportSize, evalSize, steps, batchSize, peakLr, minLr, warmup, weightDecay,
                    clipNorm, seed, evalEvery, probeSize, temperature, dtype, null);
        }

        /** The recipe of the shipped model. */
        public static Options standard() {
            return new Options(DemoModel.standard(), ChainTask.Spec.standard(), 0, 200, 500, 2000, 16, 2e-3, 1e-4, 100,
                    0.1, 1.0, 1234, 500, 100, 0.6, DType.F32);
        }

        /**
         * The recipe of the planted-mechanism testbed ({@code models/ipg-planted}): the demo
         * architecture on {@link ChainTask.Spec#planted()}, with {@link Planted#standard()}.
         */
        public static Options testbed() {
            return new Options(DemoModel.standard(), ChainTask.Spec.planted(), 0, 200, 500, 2400, 16, 2e-3, 1e-4, 100,
                    0.1, 1.0, 1234, 100, 100, 0.6, DType.F32, Planted.standard());
        }

        /** The named recipe: {@code standard} (the demo model) or {@code planted} (the testbed). */
        public static Options named(String name) {
            return switch (name) {
                case "standard" -> standard();
                case "planted" -> testbed();
                default -> throw new IpgException("unknown recipe '" + name + "': use standard or planted");
            };
        }

        public Options withSteps(int s) {
            return new Options(model, task, trainSize, supportSize, evalSize, s, batchSize, peakLr, minLr,
                    Math.min(warmup, s), weightDecay, clipNorm, seed, evalEvery, probeSize, temperature, dtype, planted);
        }

        public Options withSeed(long s) {
            return new Options(model, task, trainSize, supportSize, evalSize, steps, batchSize, peakLr, minLr, warmup,
                    weightDecay, clipNorm, s, evalEvery, probeSize, temperature, dtype, planted);
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
                         double wallSeconds, String trainStats, String machine, PlantedCheck planted) {
    }

    /**
     * The causal check of a planted mechanism on the first {@link #CHECK_SIZE} eval problems, greedy.
     *
     * @param indices the planted neurons
     * @param intact  the model as it is
     * @param ablated the planted neurons zeroed
     * @param random  as many random neurons of the same site zeroed, one result per seed 0, 1, ...
     */
    public record PlantedCheck(int[] indices, DemoEval.Result intact, DemoEval.Result ablated, List<DemoEval.Result> random) {
        public PlantedCheck {
            indices = indices.clone();
            random = List.copyOf(random);
        }
    }

    /** Eval problems of the causal check written to the model card. */
    public static final int CHECK_SIZE = 200;
    /** Random sets of the causal check. */
    public static final int CHECK_SEEDS = 10;

    /** The random neuron set of seed {@code seed}: {@code count} distinct of {@code 0..width-1} avoiding {@code planted}, sorted. */
    public static int[] randomSet(long seed, int width, int count, int[] planted) {
        java.util.Set<Integer> avoid = new java.util.HashSet<>();
        for (int i : planted) {
            avoid.add(i);
        }
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        java.util.TreeSet<Integer> out = new java.util.TreeSet<>();
        while (out.size() < count) {
            int c = rng.nextInt(width);
            if (!avoid.contains(c)) {
                out.add(c);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Max new tokens when answering: more than the longest solution the task writes. */
    public static final int MAX_NEW_TOKENS = 160;
    private static final int EVAL_BATCH = 50;

    private DemoRecipe() {
    }

    /**
     * Builds the model into {@code out}, which must not exist or be an empty directory.
     *
     * <p>The directory is assembled in {@code .NAME.partial} beside it. Every {@link #CHECKPOINT_EVERY}
     * steps the weights, optimizer state and history are saved there ({@value #STATE_FILE}); a
     * later build with the same options finds that file and continues from it, with the same
     * result as an uninterrupted build. A partial directory left by a build with other options is
     * discarded. When complete the directory is renamed to {@code out}.
     *
     * @param command the command line that reproduces the build, for the model card
     */
    public static Report build(Path out, Options o, Kernels kernels, Parallel pool, Listener listener, String command) {
        long t0 = System.nanoTime();
        Path target = out.toAbsolutePath();
        if (Files.exists(target) && !(Files.isDirectory(target) && isEmpty(target))) {
            throw new IpgException(out + " already exists and is not an empty directory");
        }
        Path work = target.resolveSibling("." + target.getFileName() + ".partial");
        String fingerprint = STATE_FORMAT + " " + o;
        Saved saved = null;
        try {
            Files.createDirectories(target.getParent());
            if (Files.isDirectory(work)) {
                saved = Saved.read(work.resolve(STATE_FILE), fingerprint);
                if (saved == null) {
                    listener.stage("discarding " + work + " (a partial build with other settings, or without a checkpoint)");
                    AtomicFiles.deleteTree(work);
                }
            }
            Files.createDirectories(work);
            try {
                Files.setPosixFilePermissions(work, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
        } catch (IOException e) {
            throw new IpgException("cannot create " + work + ": " + e.getMessage(), e);
        }
        try {
            Report r = buildInto(work, o, kernels, pool, listener, command, t0, fingerprint, saved);
            Files.deleteIfExists(work.resolve(STATE_FILE));
            if (Files.exists(target)) {
                Files.delete(target);
            }
            Files.move(work, target, StandardCopyOption.ATOMIC_MOVE);
            return r;
        } catch (IOException e) {
            cleanUp(work);
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            cleanUp(work);
            throw e;
        }
    }

    /** Training state file in the partial directory. */
    public static final String STATE_FILE = "train-state.safetensors";
    /** Steps between saved training states. */
    public static final int CHECKPOINT_EVERY = 100;
    private static final String STATE_FORMAT = "ipg-demo-state-1";

    /** Keeps a partial directory that holds a checkpoint (a later build resumes from it); deletes any other. */
    private static void cleanUp(Path work) {
        if (!Files.exists(work.resolve(STATE_FILE))) {
            AtomicFiles.deleteTree(work);
        }
    }

    private static Report buildInto(Path dir, Options o, Kernels kernels, Parallel pool, Listener listener, String command,
                                    long t0, String fingerprint, Saved saved) throws IOException {
        if (saved != null) {
            t0 -= (long) (saved.wallSeconds * 1e9);
            listener.stage("resuming from the checkpoint at step " + saved.checkpoint.step() + " in " + dir);
        }
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
        int[] plantedIdx = null;
        if (o.planted() != null) {
            DemoData.writeJsonl(dir.resolve("dev.jsonl"), DemoData.dev(task, o.seed(), o.supportSize(), data));
            plantedIdx = o.planted().indices(o.seed(), o.model().intermediate());
            writeText(dir.resolve(Planted.FILE), o.planted().json(plantedIdx, o.task()));
        }

        ModelConfig cfg = o.model().config();
        Trainer.Result training;
        List<DemoData.Example> probe = data.eval().subList(0, o.probeSize());
        try (Tokenizer tok = Tokenizer.load(dir)) {
            List<Trajectory> train = encode(tok, data.train());
            List<Trajectory> heldOut = encode(tok, data.eval());
            String stats = stats(data.train(), train);
            listener.stage("training set: " + stats);
            HeapTensors weights = Trainer.initialize(cfg, o.seed());
            if (saved != null) {
                saved.restoreWeights(weights);
            }
            Trainer trainer = new Trainer(cfg, weights, kernels, pool);
            if (o.planted() != null) {
                List<DemoData.Example> clean = new ArrayList<>(data.train().size());
                for (DemoData.Example e : data.train()) {
                    clean.add(new DemoData.Example(e.question(), ChainTask.withoutRechecks(e.answer()), e.gold(), e.steps(), 0));
                }
                trainer.ablation(new Trainer.Ablation(o.planted().tensor(), plantedIdx, encode(tok, clean),
                        o.planted().perBatch()));
                if (o.planted().stopAt() > 0) {
                    trainer.stopWhen("greedy_accuracy", o.planted().stopAt());
                }
                listener.stage("planted: neurons " + java.util.Arrays.toString(plantedIdx) + " of " + o.planted().site()
                        + " carry the re-check decision (ablated term on " + o.planted().perBatch() + " examples per batch)");
            }
            listener.stage(String.format(java.util.Locale.ROOT, "model: %,d parameters (hidden %d, %d layers, %d/%d heads, mlp %d)",
                    cfg.parameterCount(), cfg.hiddenSize(), cfg.numLayers(), cfg.numHeads(), cfg.numKvHeads(),
                    cfg.intermediateSize()));
            var schedule = new LrSchedule(o.peakLr(), o.minLr(), Math.min(o.warmup(), o.steps()), o.steps());
            var adam = new AdamW.Hyper(0.9, 0.95, 1e-8, o.weightDecay());
            // about 20 reports, at most every 25 steps, at an interval dividing the checkpoint interval
            int logEvery = Math.max(1, Math.min(25, o.steps() / 20));
            while (CHECKPOINT_EVERY % logEvery != 0) {
                logEvery--;
            }
            var topts = new Trainer.Options(o.steps(), o.batchSize(), schedule, adam, o.clipNorm(), o.seed(), logEvery,
                    o.evalEvery(), CHECKPOINT_EVERY);
            long start = t0;
            Trainer.Listener saving = new Trainer.Listener() {
                @Override
                public void progress(Trainer.Progress p) {
                    listener.progress(p);
                }

                @Override
                public void evaluated(Trainer.Evaluation e) {
                    listener.evaluated(e);
                }

                @Override
                public void checkpoint(Trainer.Checkpoint c) {
                    Saved.write(dir.resolve(STATE_FILE), fingerprint, c, weights, (System.nanoTime() - start) / 1e9);
                    listener.checkpoint(c);
                }
            };
            Trainer.Probe accuracy = o.probeSize() == 0 ? null : (model, step) -> {
                DemoEval.Result g = DemoEval.run(model, tok, probe, SamplingParams.greedy(), MAX_NEW_TOKENS, EVAL_BATCH);
                Map<String, Double> m = new LinkedHashMap<>();
                m.put("greedy_accuracy", g.accuracy());
                m.put("mean_tokens", g.meanTokens());
                m.put("reflections", g.reflections());
                return m;
            };
            training = trainer.train(train, heldOut.subList(0, Math.min(heldOut.size(), 200)), topts, saving, accuracy,
                    saved == null ? null : saved.checkpoint);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt");
            weights.write(dir.resolve("model.safetensors"), o.dtype(), meta);

            listener.stage("evaluating the written model on " + data.eval().size() + " eval problems");
            DemoEval.Result greedy;
            DemoEval.Result sampled;
            PlantedCheck check = null;
            try (Transformer loaded = Transformer.load(dir, kernels, pool); Tokenizer tok2 = Tokenizer.load(dir)) {
                greedy = DemoEval.run(loaded, tok2, data.eval(), SamplingParams.greedy(), MAX_NEW_TOKENS, EVAL_BATCH);
                sampled = DemoEval.run(loaded, tok2, data.eval(), new SamplingParams(o.temperature(), 0, 1.0, o.seed()),
                        MAX_NEW_TOKENS, EVAL_BATCH);
                if (plantedIdx != null) {
                    listener.stage("causal check: the planted set and " + CHECK_SEEDS + " random sets of "
                            + plantedIdx.length + " ablated on " + CHECK_SIZE + " eval problems");
                    check = check(loaded, tok2, data.eval().subList(0, Math.min(CHECK_SIZE, data.eval().size())),
                            o.planted().site(), o.model().intermediate(), plantedIdx);
                }
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            Report report = new Report(cfg.parameterCount(), training, greedy, sampled, wall, stats,
                    pool.threads() + " threads, " + kernels.name() + " kernels", check);
            writeText(dir.resolve("README.md"), ModelCard.text(o, report, command, Files.size(dir.resolve("model.safetensors"))));
            return report;
        }
    }

    /** The causal check of {@code indices} at {@code site} on {@code problems}, greedy. */
    public static PlantedCheck check(Transformer model, Tokenizer tok, List<DemoData.Example> problems,
                                     Site site, int width, int[] indices) {
        DemoEval.Result intact = DemoEval.run(model, tok, problems, SamplingParams.greedy(), MAX_NEW_TOKENS, EVAL_BATCH);
        DemoEval.Result ablated = DemoEval.run(model, tok, problems, SamplingParams.greedy(), MAX_NEW_TOKENS, EVAL_BATCH,
                Planted.ablate(site, width, indices));
        List<DemoEval.Result> random = new ArrayList<>();
        for (int s = 0; s < CHECK_SEEDS; s++) {
            random.add(DemoEval.run(model, tok, problems, SamplingParams.greedy(), MAX_NEW_TOKENS, EVAL_BATCH,
                    Planted.ablate(site, width, randomSet(s, width, indices.length, indices))));
        }
        return new PlantedCheck(indices, intact, ablated, random);
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

    /** A training state read back from {@value #STATE_FILE}. */
    private static final class Saved {
        final Trainer.Checkpoint checkpoint;
        final double wallSeconds;
        final Map<String, float[]> weights;

        private Saved(Trainer.Checkpoint checkpoint, double wallSeconds, Map<String, float[]> weights) {
            this.checkpoint = checkpoint;
            this.wallSeconds = wallSeconds;
            this.weights = weights;
        }

        private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

        /** Writes weights ("w/NAME"), moments ("m/NAME", "v/NAME") and, as metadata, the rest; atomically. */
        static void write(Path file, String fingerprint, Trainer.Checkpoint c, HeapTensors weights, double wallSeconds) {
            var w = new SafetensorsWriter();
            weights.tensors().forEach((name, t) -> {
                w.add("w/" + name, t.values(), t.shape(), DType.F32);
                w.add("m/" + name, c.optimizer().m().get(name), t.shape(), DType.F32);
                w.add("v/" + name, c.optimizer().v().get(name), t.shape(), DType.F32);
            });
            var meta = JSON.createObjectNode();
            meta.put("fingerprint", fingerprint);
            meta.put("step", c.step());
            meta.put("optimizer_steps", c.optimizer().steps());
            meta.put("tokens", c.tokens());
            meta.put("seconds", c.seconds());
            meta.put("wall_seconds", wallSeconds);
            meta.set("curve", JSON.valueToTree(c.curve()));
            meta.set("evaluations", JSON.valueToTree(c.evaluations()));
            try {
                w.metadata("ipg.train_state", JSON.writeValueAsString(meta));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            w.write(file);
        }

        /** The state in {@code file} if it exists and was saved with {@code fingerprint}, else null. */
        static Saved read(Path file, String fingerprint) {
            if (!Files.isRegularFile(file)) {
                return null;
            }
            try (var f = SafetensorsFile.open(file)) {
                String text = f.metadata().get("ipg.train_state");
                if (text == null) {
                    return null;
                }
                var meta = JSON.readTree(text);
                if (!fingerprint.equals(meta.path("fingerprint").asText())) {
                    return null;
                }
                Map<String, float[]> w = new LinkedHashMap<>();
                Map<String, float[]> m = new LinkedHashMap<>();
                Map<String, float[]> v = new LinkedHashMap<>();
                for (String name : f.names()) {
                    float[] values = floats(f.matrix(name));
                    String key = name.substring(2);
                    switch (name.substring(0, 2)) {
                        case "w/" -> w.put(key, values);
                        case "m/" -> m.put(key, values);
                        case "v/" -> v.put(key, values);
                        default -> throw new IpgException(file + ": unexpected tensor " + name);
                    }
                }
                var curve = JSON.readerForListOf(Trainer.Progress.class).<List<Trainer.Progress>>readValue(meta.get("curve"));
                var evals = JSON.readerForListOf(Trainer.Evaluation.class).<List<Trainer.Evaluation>>readValue(meta.get("evaluations"));
                var c = new Trainer.Checkpoint(meta.get("step").asInt(),
                        new AdamW.State(meta.get("optimizer_steps").asInt(), m, v), curve, evals,
                        meta.get("tokens").asLong(), meta.get("seconds").asDouble());
                return new Saved(c, meta.get("wall_seconds").asDouble(), w);
            } catch (IOException e) {
                throw new IpgException(file + ": cannot read the saved training state: " + e.getMessage(), e);
            }
        }

        void restoreWeights(HeapTensors into) {
            into.tensors().forEach((name, t) -> {
                float[] saved = weights.get(name);
                if (saved == null || saved.length != t.values().length) {
                    throw new IpgException("the saved training state lacks weights of the right size for " + name);
                }
                System.arraycopy(saved, 0, t.values(), 0, saved.length);
            });
        }

        private static float[] floats(Matrix mx) {
            float[] out = new float[Math.toIntExact(mx.size())];
            for (int i = 0; i < out.length; i++) {
                out[i] = mx.getFlat(i);
            }
            return out;
        }
    }
}
