package dev.ipg.core.sae;

import dev.ipg.core.IpgException;
import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains a TopK SAE on a model's own activations: the model completes the training prompts
 * (seeded, a few prompts at a time), the site's activations over prompt and completion are
 * collected into a buffer of {@code bufferRows} rows, shuffled, and consumed in batches; nothing
 * beyond one buffer is held. After every buffer the trainer's state and the prompt cursor go to
 * {@code state}, so an interrupted run resumes where it stopped and continues the same stream.
 * At the end the SAE is measured on held-out prompts: FVU, L0, dead fraction, and the model's
 * next-token loss on its own completions with the SAE spliced in (reconstruction only, no error
 * term) beside the unmodified model's.
 */
public final class SaeTraining {

    /**
     * @param site        where
     * @param trainer     the TopK trainer's options
     * @param batchRows   rows per Adam step
     * @param bufferRows  rows collected before shuffling and training on them
     * @param totalRows   activation rows to train on
     * @param sampling    how the model completes the prompts
     * @param maxNewTokens completion budget
     */
    public record Spec(Site site, TopKTrainer.Options trainer, int batchRows, int bufferRows, long totalRows,
                       SamplingParams sampling, int maxNewTokens) {
    }

    /** Receives progress. */
    public interface Listener {
        void progress(long rows, long totalRows, TopKTrainer.Stats last);
    }

    /**
     * Held-out figures of the trained SAE.
     *
     * @param fvu             fraction of variance unexplained
     * @param l0              mean active latents per row
     * @param deadFraction    latents that never fired on the held-out rows
     * @param lossOriginal    mean loss (nats) of the completion tokens given their prefix, unmodified model
     * @param lossSpliced     the same with the site replaced by the SAE's reconstruction
     * @param rows            held-out rows
     */
    public record Evaluation(double fvu, double l0, double deadFraction, double lossOriginal, double lossSpliced, long rows) {
    }

    private final Transformer model;
    private final Spec spec;
    private final java.util.Set<Integer> eos;

    public SaeTraining(Transformer model, Spec spec, java.util.Set<Integer> eos) {
        this.model = model;
        this.spec = spec;
        this.eos = java.util.Set.copyOf(eos);
        spec.site().checkIn(model.config());
        if (spec.batchRows() <= 0 || spec.bufferRows() < spec.batchRows()) {
            throw new IpgException("need 0 < batch rows <= buffer rows, got " + spec.batchRows() + " and " + spec.bufferRows());
        }
    }

    /** The model's completions of {@code prompts[from..to)} with the site's activations over prompt + completion. */
    private List<float[]> activations(List<int[]> prompts, int from, int to, List<int[]> sequences) {
        List<int[]> ps = prompts.subList(from, to);
        var opt = new Generator.Options(new SamplingParams(spec.sampling().temperature(), spec.sampling().topK(),
                spec.sampling().topP(), spec.sampling().seed() * 1_000_003L + from), spec.maxNewTokens(), eos, List.of(), null);
        var comps = new Generator(model).generate(ps, opt, Hooks.none(), null);
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < ps.size(); i++) {
            int[] p = ps.get(i);
            int[] c = comps.get(i).tokens();
            int[] all = new int[Math.min(p.length + c.length, model.config().maxPositions())];
            System.arraycopy(p, 0, all, 0, Math.min(p.length, all.length));
            System.arraycopy(c, 0, all, p.length, all.length - p.length);
            ActivationCache cache = new ActivationCache();
            model.forward(Batch.ofSequence(0, 0, all), model.newCache(1, all.length), Hooks.none().read(spec.site(), cache), new int[0]);
            out.add(cache.get(spec.site(), 0));
            if (sequences != null) {
                sequences.add(all);
                sequences.add(new int[] {Math.min(p.length, all.length)});
            }
        }
        return out;
    }

    /**
     * Trains on {@code prompts} (cycled), resuming from {@code state} if it exists, and saves the
     * state there after every buffer. Returns the trainer.
     */
    public TopKTrainer train(List<int[]> prompts, Path state, Listener listener) {
        if (prompts.isEmpty()) {
            throw new IpgException("no training prompts");
        }
        int d = spec.site().width(model.config());
        TopKTrainer t = new TopKTrainer(d, spec.trainer());
        int cursor = 0;
        if (state != null && Files.exists(state)) {
            Map<String, String> meta = t.load(state);
            cursor = Integer.parseInt(meta.getOrDefault("ipg.cursor", "0"));
        }
        TopKTrainer.Stats last = null;
        int perGeneration = 8;
        while (t.rowsSeen() < spec.totalRows()) {
            // one buffer of activations from the next prompts
            float[] buf = new float[spec.bufferRows() * d];
            int rows = 0;
            while (rows < spec.bufferRows()) {
                int from = cursor % prompts.size();
                int to = Math.min(prompts.size(), from + perGeneration);
                for (float[] a : activations(prompts, from, to, null)) {
                    int n = Math.min(a.length / d, spec.bufferRows() - rows);
                    System.arraycopy(a, 0, buf, rows * d, n * d);
                    rows += n;
                }
                cursor += to - from;
            }
            // shuffle rows, seeded by the cursor (so a resumed run sees the same order)
            SplittableRandom r = new SplittableRandom(spec.trainer().seed() * 31 + cursor);
            float[] tmp = new float[d];
            for (int i = rows - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                System.arraycopy(buf, i * d, tmp, 0, d);
                System.arraycopy(buf, j * d, buf, i * d, d);
                System.arraycopy(tmp, 0, buf, j * d, d);
            }
            float[] batch = new float[spec.batchRows() * d];
            for (int b = 0; b + spec.batchRows() <= rows && t.rowsSeen() < spec.totalRows(); b += spec.batchRows()) {
                System.arraycopy(buf, b * d, batch, 0, batch.length);
                last = t.step(batch, spec.batchRows());
                if (listener != null) {
                    listener.progress(t.rowsSeen(), spec.totalRows(), last);
                }
            }
            if (state != null) {
                t.save(state, Map.of("ipg.cursor", Integer.toString(cursor)));
            }
        }
        return t;
    }

    /**
     * An evaluator of a given SAE at its site: the model completes prompts with {@code sampling}
     * and {@code maxNewTokens}; for {@link #evaluate} only.
     */
    public static SaeTraining evaluator(Transformer model, Sae sae, SamplingParams sampling, int maxNewTokens, java.util.Set<Integer> eos) {
        sae.checkIn(model.config());
        var opts = new TopKTrainer.Options(sae.dSae(), sae.activation() == Sae.Activation.TOPK ? sae.k() : 1, 1e-3, 0, 1, 0);
        return new SaeTraining(model, new Spec(sae.site(), opts, 1, 1, 0, sampling, maxNewTokens), eos);
    }

    /** FVU, L0, dead fraction and spliced-in loss of {@code sae} on the model's completions of {@code prompts}. */
    public Evaluation evaluate(Sae sae, List<int[]> prompts) {
        return evaluate(sae, prompts, null);
    }

    /**
     * As {@link #evaluate(Sae, List)}, telling {@code done} the work done out of 2 x prompts: the
     * prompts completed and encoded, plus those scored with and without the splice.
     */
    public Evaluation evaluate(Sae sae, List<int[]> prompts, java.util.function.IntConsumer done) {
        int d = sae.dIn();
        List<int[]> seqs = new ArrayList<>();
        List<float[]> acts = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i += 8) {
            acts.addAll(activations(prompts, i, Math.min(prompts.size(), i + 8), seqs));
            if (done != null) {
                done.accept(Math.min(prompts.size(), i + 8));
            }
        }
        double[] mean = new double[d];
        long rows = 0;
        for (float[] a : acts) {
            for (int r = 0; r < a.length / d; r++) {
                for (int j = 0; j < d; j++) {
                    mean[j] += a[r * d + j];
                }
                rows++;
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= Math.max(rows, 1);
        }
        double err = 0;
        double var = 0;
        double active = 0;
        boolean[] fired = new boolean[sae.dSae()];
        for (float[] a : acts) {
            for (int r = 0; r < a.length / d; r++) {
                Sae.Code c = sae.encode(a, r * d);
                float[] zHat = sae.decode(c.f, c);
                for (int j = 0; j < d; j++) {
                    err += Math.pow(zHat[j] - a[r * d + j], 2);
                    var += Math.pow(a[r * d + j] - mean[j], 2);
                }
                for (int i = 0; i < sae.dSae(); i++) {
                    if (c.f[i] != 0f) {
                        active++;
                        fired[i] = true;
                    }
                }
            }
        }
        int dead = 0;
        for (boolean f : fired) {
            dead += f ? 0 : 1;
        }
        double[] plain = new double[2];
        double[] spliced = new double[2];
        Hooks splice = new SaeSplice(sae).withoutErrorTerm().hooks();
        for (int q = 0; q < seqs.size(); q += 2) {
            nll(seqs.get(q), seqs.get(q + 1)[0], Hooks.none(), plain);
            nll(seqs.get(q), seqs.get(q + 1)[0], splice, spliced);
            if (done != null) {
                done.accept(prompts.size() + q / 2 + 1);
            }
        }
        return new Evaluation(err / Math.max(var, 1e-12), active / Math.max(rows, 1), dead / (double) sae.dSae(),
                plain[0] / Math.max(plain[1], 1), spliced[0] / Math.max(spliced[1], 1), rows);
    }

    /** Adds the summed loss of the completion tokens {@code s[from..]} to acc[0] and their count to acc[1]. */
    private void nll(int[] s, int from, Hooks hooks, double[] acc) {
        if (s.length < 2 || from >= s.length) {
            return;
        }
        int[] rows = new int[s.length - 1];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i;
        }
        float[] logits = model.forward(Batch.ofSequence(0, 0, s), model.newCache(1, s.length), hooks, rows);
        int v = logits.length / rows.length;
        for (int i = Math.max(0, from - 1); i < rows.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, logits[i * v + j]);
            }
            double z = 0;
            for (int j = 0; j < v; j++) {
                z += Math.exp(logits[i * v + j] - max);
            }
            acc[0] += max + Math.log(z) - logits[i * v + s[i + 1]];
            acc[1]++;
        }
    }
}
