package dev.ipg.core.train;

import dev.ipg.core.model.HfNames;
import dev.ipg.core.IpgException;
import dev.ipg.core.grad.Gradients;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.io.HeapTensors;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Parallel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Trains a Llama-architecture model held in {@link HeapTensors} with the engine's reverse mode.
 * The model is bound once to the heap arrays; AdamW updates them in place, so every forward pass
 * sees the current weights.
 *
 * <p>One step: take the next {@code batchSize} examples of a seeded shuffle (a new permutation
 * every epoch), pack them into one teacher-forced pass (no padding), and minimize
 * <pre>
 *   loss = -(1 / N) sum_examples sum_scored_t log p(x_t | x_&lt;t)      // N = scored tokens in the batch
 * </pre>
 * ({@link ReverseMode#weightGradients} returns the gradient of the summed log-probabilities, so
 * the loss gradient is that times {@code -1/N}), clip the global gradient norm, and take an
 * AdamW step at the schedule's learning rate. Every {@code logEvery} steps the listener gets the
 * running loss, throughput and ETA; every {@code evalEvery} steps (and after the last) it gets
 * the held-out loss and whatever the {@link Probe} measures.
 */
public final class Trainer {

    /**
     * @param steps     optimizer steps
     * @param batchSize examples per step
     * @param schedule  learning rate per step
     * @param adam      AdamW hyperparameters
     * @param clipNorm  maximum global gradient norm (0: no clipping)
     * @param seed      data order
     * @param logEvery  progress report interval in steps
     * @param evalEvery held-out evaluation interval in steps (0: only at the end)
     * @param checkpointEvery interval in steps of {@link Listener#checkpoint} calls (0: never); a
     *                  multiple of {@code logEvery}
     */
    public record Options(int steps, int batchSize, LrSchedule schedule, AdamW.Hyper adam, double clipNorm, long seed,
                          int logEvery, int evalEvery, int checkpointEvery) {
        public Options {
            if (steps < 1 || batchSize < 1 || logEvery < 1 || evalEvery < 0 || clipNorm < 0 || checkpointEvery < 0
                    || checkpointEvery % logEvery != 0) {
                throw new IpgException("training needs steps, batch size and log interval >= 1, eval interval and "
                        + "clip norm >= 0, checkpoint interval a multiple of the log interval; got steps " + steps
                        + ", batch " + batchSize + ", log every " + logEvery + ", eval every " + evalEvery + ", clip "
                        + clipNorm + ", checkpoint every " + checkpointEvery);
            }
        }

        /** Without checkpoints. */
        public Options(int steps, int batchSize, LrSchedule schedule, AdamW.Hyper adam, double clipNorm, long seed,
                       int logEvery, int evalEvery) {
            this(steps, batchSize, schedule, adam, clipNorm, seed, logEvery, evalEvery, 0);
        }
    }

    /**
     * A progress report.
     *
     * @param step            steps done
     * @param steps           steps planned
     * @param loss            mean loss per scored token over the steps since the last report
     * @param lr              learning rate of the last step
     * @param gradNorm        global gradient norm of the last step, before clipping
     * @param tokens          positions processed so far (prompt and completion)
     * @param tokensPerSecond positions processed per second so far
     * @param elapsedSeconds  wall time so far (evaluation excluded)
     * @param etaSeconds      estimated remaining training time
     */
    public record Progress(int step, int steps, double loss, double lr, double gradNorm, long tokens,
                           double tokensPerSecond, double elapsedSeconds, double etaSeconds) {
    }

    /** A held-out evaluation: mean loss per scored token and the probe's measurements. */
    public record Evaluation(int step, double heldOutLoss, Map<String, Double> metrics) {
        public Evaluation {
            metrics = Map.copyOf(metrics);
        }
    }

    /** What a training run went through. */
    public record Result(List<Progress> curve, List<Evaluation> evaluations, double seconds, long tokens) {
        public Result {
            curve = List.copyOf(curve);
            evaluations = List.copyOf(evaluations);
        }
    }

    /**
     * Everything needed to continue a run after step {@code step}, besides the weights themselves
     * (which the caller saves from, and restores into, the {@link HeapTensors}). The optimizer
     * state's arrays are live during a {@link Listener#checkpoint} call: save them there.
     *
     * @param step        steps done
     * @param optimizer   AdamW moments and step count
     * @param curve       progress reports so far
     * @param evaluations evaluations so far
     * @param tokens      positions processed so far
     * @param seconds     training time so far
     */
    public record Checkpoint(int step, AdamW.State optimizer, List<Progress> curve, List<Evaluation> evaluations,
                             long tokens, double seconds) {
        public Checkpoint {
            curve = List.copyOf(curve);
            evaluations = List.copyOf(evaluations);
        }
    }

    /** Receives reports; every method defaults to doing nothing. */
    public interface Listener {
        default void progress(Progress p) {
        }

        default void evaluated(Evaluation e) {
        }

        /**
         * Called every {@code checkpointEvery} steps (not after the last) with what a later run
         * needs to continue exactly where this one is; the weights are those of the trainer.
         */
        default void checkpoint(Checkpoint c) {
        }
    }

    /** A task-specific measurement of the current model (accuracy by generation, say). */
    @FunctionalInterface
    public interface Probe {
        Map<String, Double> measure(Transformer model, int step);
    }

    /**
     * A counterfactual term of the objective, the way a mechanism is planted: for the first
     * {@code perBatch} examples of every batch, the model with the given columns of
     * {@code tensor} zeroed (for a {@code down_proj}, exactly the ablation of those MLP neurons at
     * {@code mlp.hook_post}) is also trained on {@code targets.get(i)}, the counterfactual
     * completion of training example i. The objective becomes
     * <pre>
     *   loss = -(1 / (N + N_abl)) ( sum_batch log p(x) + sum_first_perBatch log p_ablated(x_target) )
     * </pre>
     * and the zeroed columns take no gradient from the ablated pass (in the ablated model they do
     * not exist). What the ablated model must not do and the intact model must do can then only
     * be carried by those columns' units.
     *
     * @param tensor   weight name, a 2-D matrix of shape (rows, cols)
     * @param columns  zeroed column indices
     * @param targets  counterfactual trajectory of each training example (same order and size)
     * @param perBatch examples per batch that also get the ablated term (at most the batch size)
     */
    public record Ablation(String tensor, int[] columns, List<Trajectory> targets, int perBatch) {
        public Ablation {
            columns = columns.clone();
            targets = List.copyOf(targets);
            if (perBatch < 1 || columns.length == 0) {
                throw new IpgException("an ablation term needs at least one column and one example per batch");
            }
        }
    }

    private final ModelConfig config;
    private final HeapTensors weights;
    private final Transformer model;
    private Ablation ablation;
    private String stopMetric;
    private double stopAt;

    /** Binds a model to {@code weights}; the trainer will update them in place. */
    public Trainer(ModelConfig config, HeapTensors weights, Kernels kernels, Parallel pool) {
        if (config.family() == Family.GPT2) {
            throw new IpgException("the trainer handles Llama-like models only, not " + config.family());
        }
        this.config = config;
        this.weights = weights;
        this.model = Transformer.of(config, weights, kernels, pool);
    }

    /** Adds the counterfactual term {@code a} to the objective (null: none). */
    public Trainer ablation(Ablation a) {
        if (a != null) {
            var t = weights.tensors().get(a.tensor());
            if (t == null || t.shape().length != 2) {
                throw new IpgException("ablation term: no 2-D weight " + a.tensor());
            }
            for (int c : a.columns()) {
                if (c < 0 || c >= t.shape()[1]) {
                    throw new IpgException("ablation term: column " + c + " outside 0.." + (t.shape()[1] - 1) + " of " + a.tensor());
                }
            }
        }
        this.ablation = a;
        return this;
    }

    /**
     * Early stopping: training ends after the first held-out evaluation whose probe reports
     * {@code metric} at least {@code atLeast} (null metric: never). The learning-rate schedule is
     * that of the full run.
     */
    public Trainer stopWhen(String metric, double atLeast) {
        this.stopMetric = metric;
        this.stopAt = atLeast;
        return this;
    }

    /** The model over the trained weights. */
    public Transformer model() {
        return model;
    }

    public HeapTensors weights() {
        return weights;
    }

    /**
     * Fresh weights for {@code config} with Hugging Face names and shapes, initialized as
     * transformers initializes Llama: every projection and embedding normal(0, 0.02), norm gains 1,
     * biases 0, except that the projections writing into the residual stream ({@code o_proj},
     * {@code down_proj}) get std 0.02 / sqrt(2 * layers) (GPT-2's scaled residual init).
     */
    public static HeapTensors initialize(ModelConfig config, long seed) {
        if (config.family() == Family.GPT2 || config.positions() != ModelConfig.PositionType.ROPE) {
            throw new IpgException("the trainer initializes Llama-like models only, not " + config.family());
        }
        SplittableRandom rng = new SplittableRandom(seed);
        double std = 0.02;
        double resid = std / Math.sqrt(2.0 * config.numLayers());
        int d = config.hiddenSize();
        int qw = config.numHeads() * config.headDim();
        int kvw = config.numKvHeads() * config.headDim();
        int ff = config.intermediateSize();
        int vocab = config.vocabSize();
        HeapTensors t = new HeapTensors();
        t.put(HfNames.EMBED, normal(rng, std, vocab * d), vocab, d);
        for (int l = 0; l < config.numLayers(); l++) {
            HfNames.Layer p = HfNames.layer(l);
            t.put(p.inputNorm(), ones(d), d);
            t.put(p.q("weight"), normal(rng, std, qw * d), qw, d);
            t.put(p.k("weight"), normal(rng, std, kvw * d), kvw, d);
            t.put(p.v("weight"), normal(rng, std, kvw * d), kvw, d);
            if (config.qkvBias()) {
                t.put(p.q("bias"), new float[qw], qw);
                t.put(p.k("bias"), new float[kvw], kvw);
                t.put(p.v("bias"), new float[kvw], kvw);
            }
            t.put(p.o("weight"), normal(rng, resid, d * qw), d, qw);
            if (config.oBias()) {
                t.put(p.o("bias"), new float[d], d);
            }
            if (config.qkNorm()) {
                t.put(p.qNorm(), ones(config.headDim()), config.headDim());
                t.put(p.kNorm(), ones(config.headDim()), config.headDim());
            }
            t.put(p.postAttentionNorm(), ones(d), d);
            t.put(p.gate("weight"), normal(rng, std, ff * d), ff, d);
            t.put(p.up("weight"), normal(rng, std, ff * d), ff, d);
            t.put(p.down("weight"), normal(rng, resid, d * ff), d, ff);
            if (config.mlpBias()) {
                t.put(p.gate("bias"), new float[ff], ff);
                t.put(p.up("bias"), new float[ff], ff);
                t.put(p.down("bias"), new float[d], d);
            }
        }
        t.put(HfNames.FINAL_NORM, ones(d), d);
        if (!config.tieEmbeddings()) {
            t.put(HfNames.LM_HEAD, normal(rng, std, vocab * d), vocab, d);
        }
        return t;
    }

    /**
     * The parameters that receive weight decay: 2-D projection matrices and an untied LM head;
     * not norm gains, biases or the token embedding.
     */
    public static Set<String> decayed(HeapTensors weights) {
        Set<String> out = new LinkedHashSet<>();
        weights.tensors().forEach((name, t) -> {
            if (t.shape().length == 2 && !name.equals(HfNames.EMBED)) {
                out.add(name);
            }
        });
        return out;
    }

    /** Trains on {@code train}, evaluating on {@code heldOut} (may be empty); reports to {@code listener}. */
    public Result train(List<Trajectory> train, List<Trajectory> heldOut, Options o, Listener listener, Probe probe) {
        return train(train, heldOut, o, listener, probe, null);
    }

    /**
     * Like {@link #train(List, List, Options, Listener, Probe)}, continuing from {@code resume}
     * when it is non-null: the weights must already hold that checkpoint's values. With the same
     * data and options the result is the same as that of an uninterrupted run.
     */
    public Result train(List<Trajectory> train, List<Trajectory> heldOut, Options o, Listener listener, Probe probe,
                        Checkpoint resume) {
        if (train.isEmpty()) {
            throw new IpgException("no training examples");
        }
        Map<String, float[]> params = new LinkedHashMap<>();
        weights.tensors().forEach((n, t) -> params.put(n, t.values()));
        AdamW opt = new AdamW(params, decayed(weights), o.adam());
        ReverseMode rm = new ReverseMode(model);
        checkBudget(rm, train, o.batchSize());
        if (ablation != null) {
            if (ablation.targets().size() != train.size() || ablation.perBatch() > o.batchSize()) {
                throw new IpgException("ablation term: " + ablation.targets().size() + " targets for " + train.size()
                        + " training examples, " + ablation.perBatch() + " per batch of " + o.batchSize());
            }
            checkBudget(rm, ablation.targets(), ablation.perBatch());
        }
        SplittableRandom order = new SplittableRandom(o.seed());
        int[] perm = permutation(train.size(), order);
        int cursor = 0;
        List<Progress> curve = new ArrayList<>();
        List<Evaluation> evals = new ArrayList<>();
        long tokens = 0;
        double trainNanos = 0;
        double lossSum = 0;
        long lossTokens = 0;
        int first = 0;
        if (resume != null) {
            if (resume.step() < 0 || resume.step() > o.steps() || resume.optimizer().steps() != resume.step()) {
                throw new IpgException("cannot resume at step " + resume.step() + " of " + o.steps()
                        + " (optimizer state at step " + resume.optimizer().steps() + ")");
            }
            opt.restore(resume.optimizer());
            curve.addAll(resume.curve());
            evals.addAll(resume.evaluations());
            tokens = resume.tokens();
            trainNanos = resume.seconds() * 1e9;
            first = resume.step();
            // replay the data order up to the checkpoint
            long skip = (long) first * o.batchSize();
            while (skip > 0) {
                if (cursor == perm.length) {
                    perm = permutation(train.size(), order);
                    cursor = 0;
                }
                int take = (int) Math.min(skip, perm.length - cursor);
                cursor += take;
                skip -= take;
            }
        }
        for (int step = first; step < o.steps(); step++) {
            long t0 = System.nanoTime();
            List<Trajectory> batch = new ArrayList<>(o.batchSize());
            List<Trajectory> ablated = new ArrayList<>();
            for (int b = 0; b < o.batchSize(); b++) {
                if (cursor == perm.length) {
                    perm = permutation(train.size(), order);
                    cursor = 0;
                }
                if (ablation != null && b < ablation.perBatch()) {
                    ablated.add(ablation.targets().get(perm[cursor]));
                }
                batch.add(train.get(perm[cursor++]));
            }
            int scored = 0;
            for (Trajectory t : batch) {
                scored += t.scored();
                tokens += t.tokens().length;
            }
            ReverseMode.WeightResult r = rm.weightGradients(batch);
            double objective = 0;
            for (double x : r.objectives()) {
                objective += x;
            }
            Map<String, float[]> grads = r.gradients().byName();
            int scoredAll = scored;
            if (!ablated.isEmpty()) {
                for (Trajectory t : ablated) {
                    scoredAll += t.scored();
                    tokens += t.tokens().length;
                }
                addAblatedGradients(rm, ablated, grads);
            }
            // d loss / d w = -(1/N) d objective / d w
            float scale = -1f / scoredAll;
            double sq = 0;
            for (float[] g : grads.values()) {
                for (int i = 0; i < g.length; i++) {
                    g[i] *= scale;
                    sq += (double) g[i] * g[i];
                }
            }
            double norm = Math.sqrt(sq);
            if (o.clipNorm() > 0 && norm > o.clipNorm()) {
                float c = (float) (o.clipNorm() / norm);
                for (float[] g : grads.values()) {
                    for (int i = 0; i < g.length; i++) {
                        g[i] *= c;
                    }
                }
            }
            double lr = o.schedule().at(step);
            opt.step(grads, lr);
            trainNanos += System.nanoTime() - t0;
            lossSum += -objective;
            lossTokens += scored;
            int done = step + 1;
            if (done % o.logEvery() == 0 || done == o.steps()) {
                double secs = trainNanos / 1e9;
                Progress p = new Progress(done, o.steps(), lossSum / lossTokens, lr, norm, tokens, tokens / secs, secs,
                        secs / done * (o.steps() - done));
                curve.add(p);
                listener.progress(p);
                lossSum = 0;
                lossTokens = 0;
            }
            if ((o.evalEvery() > 0 && done % o.evalEvery() == 0) || done == o.steps()) {
                Evaluation e = new Evaluation(done, heldOut.isEmpty() ? Double.NaN : loss(heldOut, o.batchSize()),
                        probe == null ? Map.of() : probe.measure(model, done));
                evals.add(e);
                listener.evaluated(e);
                Double m = stopMetric == null ? null : e.metrics().get(stopMetric);
                if (m != null && m >= stopAt) {
                    break;
                }
            }
            if (o.checkpointEvery() > 0 && done % o.checkpointEvery() == 0 && done < o.steps()) {
                listener.checkpoint(new Checkpoint(done, opt.state(), curve, evals, tokens, trainNanos / 1e9));
            }
        }
        return new Result(curve, evals, trainNanos / 1e9, tokens);
    }

    /**
     * Adds to {@code grads} the gradient of the ablated term's summed log-probabilities over
     * {@code ablated}: the ablation's columns are zeroed for the pass and restored after it, and
     * take no gradient from it.
     */
    void addAblatedGradients(ReverseMode rm, List<Trajectory> ablated, Map<String, float[]> grads) {
        var t = weights.tensors().get(ablation.tensor());
        float[] w = t.values();
        int rows = Math.toIntExact(t.shape()[0]);
        int cols = Math.toIntExact(t.shape()[1]);
        int[] c = ablation.columns();
        float[] saved = new float[rows * c.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < c.length; j++) {
                saved[i * c.length + j] = w[i * cols + c[j]];
                w[i * cols + c[j]] = 0f;
            }
        }
        Map<String, float[]> g2;
        try {
            g2 = rm.weightGradients(ablated).gradients().byName();
        } finally {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < c.length; j++) {
                    w[i * cols + c[j]] = saved[i * c.length + j];
                }
            }
        }
        float[] own = g2.get(ablation.tensor());
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < c.length; j++) {
                own[i * cols + c[j]] = 0f;
            }
        }
        g2.forEach((name, g) -> {
            float[] into = grads.get(name);
            for (int i = 0; i < g.length; i++) {
                into[i] += g[i];
            }
        });
    }

    /** Mean loss per scored token of {@code examples} under the current weights (forward only). */
    public double loss(List<Trajectory> examples, int batchSize) {
        ReverseMode rm = new ReverseMode(model);
        double sum = 0;
        long n = 0;
        for (int i = 0; i < examples.size(); i += batchSize) {
            for (float[] lp : rm.logProbs(examples.subList(i, Math.min(examples.size(), i + batchSize)), Hooks.none())) {
                for (float x : lp) {
                    sum -= x;
                    n++;
                }
            }
        }
        return sum / n;
    }

    /** Refuses a batch size whose longest packed batch would not fit the reverse mode's memory budget. */
    private void checkBudget(ReverseMode rm, List<Trajectory> train, int batchSize) {
        int longest = 0;
        for (Trajectory t : train) {
            longest = Math.max(longest, t.tokens().length);
        }
        if (longest > config.maxPositions()) {
            throw new IpgException("a training example has " + longest + " tokens, more than the model's context of "
                    + config.maxPositions());
        }
        int rows = longest * batchSize;
        long need = rm.plannedBytes(rows, new Site(0, Site.Kind.RESID_PRE), true);
        if (need > rm.budget()) {
            throw new IpgException(String.format(java.util.Locale.ROOT,
                    "a batch of %d examples of up to %d tokens needs about %.0f MiB, more than the budget of %.0f MiB; "
                            + "use a smaller batch or a larger heap", batchSize, longest, need / 1048576.0, rm.budget() / 1048576.0));
        }
    }

    private static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int x = p[i];
            p[i] = p[j];
            p[j] = x;
        }
        return p;
    }

    private static float[] normal(SplittableRandom rng, double std, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i += 2) {
            // Box-Muller: two independent standard normals per pair of uniforms
            double u1 = 1 - rng.nextDouble();
            double u2 = rng.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1));
            v[i] = (float) (std * r * Math.cos(2 * Math.PI * u2));
            if (i + 1 < n) {
                v[i + 1] = (float) (std * r * Math.sin(2 * Math.PI * u2));
            }
        }
        return v;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    /** The config of the model being trained. */
    public ModelConfig config() {
        return config;
    }
}
