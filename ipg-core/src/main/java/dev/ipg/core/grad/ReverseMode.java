package dev.ipg.core.grad;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Block;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.KVCache;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.NonFinite;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Tape;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.model.Weights;
import dev.ipg.core.nn.Embedding;
import dev.ipg.core.nn.Policy;
import dev.ipg.core.nn.TokenLogProbs;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reverse mode through the model's teacher-forced pass. Several trajectories of different
 * lengths are packed into one pass (each is its own sequence, so nothing is padded); results
 * come back per trajectory.
 *
 * <p>For a site, only the blocks at and above the site's layer are recorded and
 * back-propagated. For weights, everything is.
 */
public final class ReverseMode {

    /**
     * Per-trajectory results of {@link #siteGradients}: the objective L and its per-token
     * log-probabilities under the differentiated policy, {@code dL/dalpha} (d), optionally
     * {@code dL/dh} and the activation at the site, and {@code samplingLogProb}, the sum of the
     * scored tokens' log-probabilities under the sampling policy when one was given (NaN otherwise;
     * {@code -infinity} when it cannot draw one of them).
     */
    public record SiteResult(double objective, float[] logProbs, float[] scaleGrad, float[] siteGrad, float[] activation,
                             double samplingLogProb) {
    }

    /** Result of {@link #weightGradients}: the objective of every trajectory and the summed gradients. */
    public record WeightResult(double[] objectives, Gradients gradients) {
    }

    private final Transformer model;
    private final ModelConfig cfg;
    private final Kernels k;
    private final Parallel pool;
    private long budgetBytes;
    private long logitChunkBytes = 64L << 20;

    public ReverseMode(Transformer model) {
        this.model = model;
        this.cfg = model.config();
        this.k = model.kernels();
        this.pool = model.pool();
        Runtime rt = Runtime.getRuntime();
        this.budgetBytes = (long) (0.85 * (rt.maxMemory() - (rt.totalMemory() - rt.freeMemory())));
    }

    /** Caps the working set; a request planned above it is refused before anything is allocated. */
    public ReverseMode budget(long bytes) {
        this.budgetBytes = bytes;
        return this;
    }

    public long budget() {
        return budgetBytes;
    }

    /**
     * Bytes of activations, tape, KV cache and gradient buffers a call will hold at its peak,
     * for {@code rows} packed positions (weights, which are mapped, not counted).
     */
    public long plannedBytes(int rows, Site site, boolean weights) {
        long d = cfg.hiddenSize();
        long qw = (long) cfg.numHeads() * cfg.headDim();
        long kvw = (long) cfg.numKvHeads() * cfg.headDim();
        long ff = cfg.intermediateSize();
        long layersTaped = weights ? cfg.numLayers() : cfg.numLayers() - site.firstBlock(cfg);
        long perTapedLayer = Block.savedFloatsPerRow(cfg, weights);
        long cache = 2L * cfg.numLayers() * kvw;
        long transient_ = 6 * d + 3 * qw + 4 * kvw + 4 * ff;
        long siteBuffers = weights ? 0 : 3L * site.rowWidth(cfg);
        long floats = rows * (layersTaped * perTapedLayer + cache + transient_ + siteBuffers);
        long chunk = Math.min(rows, TokenLogProbs.chunkRows(cfg.vocabSize(), logitChunkBytes));
        floats += chunk * (cfg.vocabSize() + d);
        if (weights) {
            floats += 2 * cfg.parameterCount();
        }
        return 4 * floats;
    }

    /** A one-line description of the plan, e.g. for a progress display. */
    public String describePlan(int rows, Site site, boolean weights) {
        return String.format(Locale.ROOT, "reverse mode over %d positions, %s: planned working set %.1f MiB (budget %.1f MiB)",
                rows, weights ? "all weights" : "site " + site, plannedBytes(rows, site, weights) / 1048576.0,
                budgetBytes / 1048576.0);
    }

    private void checkBudget(int rows, Site site, boolean weights) {
        long need = plannedBytes(rows, site, weights);
        if (need > budgetBytes) {
            throw new IpgException(String.format(Locale.ROOT,
                    "reverse mode over %d positions needs about %.0f MiB, more than the budget of %.0f MiB; "
                            + "use shorter trajectories, fewer per call, or a larger heap (IPG_HEAP)",
                    rows, need / 1048576.0, budgetBytes / 1048576.0));
        }
    }

    /**
     * For each trajectory: the objective, per-token log-probabilities, {@code dL/dalpha} (d) and,
     * when {@code wantSiteGrad}, {@code dL/dh} at the site (T, d) and the site's activation before
     * interpolation (T, d).
     */
    public List<SiteResult> siteGradients(List<Trajectory> trajectories, Interpolation interp, boolean wantSiteGrad) {
        return siteGradients(trajectories, interp, wantSiteGrad, Policy.softmax());
    }

    /**
     * As {@link #siteGradients(List, Interpolation, boolean)}, with log-probabilities taken under
     * {@code policy} (the temperature / top-k / top-p distribution the tokens were sampled from).
     */
    public List<SiteResult> siteGradients(List<Trajectory> trajectories, Interpolation interp, boolean wantSiteGrad,
                                          Policy policy) {
        return siteGradients(trajectories, interp, wantSiteGrad, policy, null);
    }

    /**
     * As {@link #siteGradients(List, Interpolation, boolean, Policy)}, differentiating under
     * {@code policy} and also measuring each trajectory under {@code sampling} (null: not
     * measured), the distribution it was drawn from, in the same pass.
     */
    public List<SiteResult> siteGradients(List<Trajectory> trajectories, Interpolation interp, boolean wantSiteGrad,
                                          Policy policy, Policy sampling) {
        Site site = interp.site().checkIn(cfg);
        if (site.kind().readOnly()) {
            throw new IpgException("cannot differentiate at " + site + ": it is read only (the gradient reaches the "
                    + "attention probabilities through attn.hook_q and attn.hook_k)");
        }
        int units = site.width(cfg);
        int width = site.rowWidth(cfg);   // values per position: heads * head_dim for whole heads
        if (interp.sae() == null && interp.alpha().length != units) {
            throw new IpgException("alpha has " + interp.alpha().length + " components, site " + site + " has " + units);
        }
        Packed p = pack(trajectories);
        checkBudget(p.batch.rows(), site, false);
        float[] original = new float[p.batch.rows() * width];
        Hooks hooks = Hooks.none().intervene(site, new Intervention.Callback((s, act, w, b) -> {
            System.arraycopy(act, 0, original, 0, act.length);
            interp.apply(act, w, b);
        }));
        int first = site.firstBlock(cfg);
        Tape tape = new Tape(cfg.numLayers(), first, false);
        float[] dx = new float[p.batch.rows() * cfg.hiddenSize()];
        KVCache cache = model.newCache(trajectories.size(), p.longest);
        double[] sampledLogp = sampling == null ? null : new double[p.scoredRows.length];
        float[] lnGrad = site.kind() == Site.Kind.LN_FINAL ? new float[p.batch.rows() * width] : null;
        float[] logp = head(p, cache, hooks, tape, dx, null, policy, sampling, sampledLogp, lnGrad);
        float[] g = lnGrad;
        Site.Kind stopAt = switch (site.kind()) {
            case EMBED, POS_EMBED -> Site.Kind.RESID_PRE;   // x = embed (+ pos_embed) enters block 0 unchanged
            case ATTN_HEADS -> Site.Kind.ATTN_Z;            // the same values, grouped by head
            default -> site.kind();
        };
        for (int l = cfg.numLayers() - 1; l >= first && g == null; l--) {
            Capture cap = new Capture(l == first ? stopAt : null);
            dx = model.block(l).backward(tape, cache, dx, cap, null);
            g = cap.grad;
        }
        List<SiteResult> out = new ArrayList<>();
        for (int s = 0; s < trajectories.size(); s++) {
            Trajectory t = trajectories.get(s);
            int r0 = p.rowStart[s];
            int n = t.tokens().length;
            float[] scale = new float[interp.width()];
            for (int r = r0; r < r0 + n; r++) {
                if (p.batch.pos()[r] < interp.positionsFrom()) {
                    continue;
                }
                interp.accumulateScaleGrad(original, r * width, g, r * width, width, scale);
            }
            // the finiteness check of the backward: one pass over this trajectory's site gradients
            if (!NonFinite.all(k, g, r0 * width, n * width) || !NonFinite.all(k, scale, 0, scale.length)) {
                int i = NonFinite.first(g, r0 * width, n * width);
                throw model.nonFinite(i >= 0
                        ? "the gradient at " + site + " of trajectory " + s + " is " + NonFinite.name(g[r0 * width + i])
                                + " at position " + (i / width) + " (component " + (i % width) + ")"
                        : "the gradient with respect to the coefficients at " + site + " of trajectory " + s
                                + " is not finite");
            }
            float[] lp = new float[t.scored()];
            double obj = 0;
            double sampled = sampling == null ? Double.NaN : 0;
            for (int j = 0; j < t.scored(); j++) {
                lp[j] = logp[p.scoredStart[s] + j];
                obj += (double) t.weight(t.from() + j) * lp[j];
                if (sampling != null) {
                    sampled += sampledLogp[p.scoredStart[s] + j];
                }
            }
            float[] sg = null;
            float[] act = null;
            if (wantSiteGrad) {
                sg = new float[n * width];
                act = new float[n * width];
                System.arraycopy(g, r0 * width, sg, 0, n * width);
                System.arraycopy(original, r0 * width, act, 0, n * width);
            }
            out.add(new SiteResult(obj, lp, scale, sg, act, sampled));
        }
        return out;
    }

    /**
     * Gradients of {@code sum over trajectories of L} with respect to every weight (Llama-like
     * families), plus each trajectory's objective.
     */
    public WeightResult weightGradients(List<Trajectory> trajectories) {
        Packed p = pack(trajectories);
        checkBudget(p.batch.rows(), new Site(0, Site.Kind.RESID_PRE), true);
        Gradients grads = Gradients.zerosLike(model);
        Tape tape = new Tape(cfg.numLayers(), 0, true);
        float[] dx = new float[p.batch.rows() * cfg.hiddenSize()];
        KVCache cache = model.newCache(trajectories.size(), p.longest);
        float[] logp = head(p, cache, Hooks.none(), tape, dx, grads, Policy.softmax(), null, null, null);
        for (int l = cfg.numLayers() - 1; l >= 0; l--) {
            dx = model.block(l).backward(tape, cache, dx, Block.Capture.NONE, grads.layer(l));
        }
        Embedding.backward(dx, cfg.hiddenSize(), p.batch.tokens(), p.batch.pos(), grads.embed(), grads.posEmbed());
        double[] obj = new double[trajectories.size()];
        for (int s = 0; s < trajectories.size(); s++) {
            Trajectory t = trajectories.get(s);
            for (int j = 0; j < t.scored(); j++) {
                obj[s] += (double) t.weight(t.from() + j) * logp[p.scoredStart[s] + j];
            }
        }
        return new WeightResult(obj, grads);
    }

    /** Log-probabilities of every trajectory's scored tokens, forward only (no tape). */
    public List<float[]> logProbs(List<Trajectory> trajectories, Hooks hooks) {
        return logProbs(trajectories, hooks, Policy.softmax());
    }

    /**
     * Each trajectory's log-probability under {@code sampling} taken as the distribution its
     * tokens were drawn from (summed over scored tokens; {@code -infinity} when the policy cannot
     * draw one of them), forward only.
     */
    public double[] samplingLogProbs(List<Trajectory> trajectories, Hooks hooks, Policy sampling) {
        Packed p = pack(trajectories);
        KVCache cache = model.newCache(trajectories.size(), p.longest);
        float[] x = model.forwardHidden(p.batch, cache, hooks, null);
        float[] h = model.finalNorm(x, p.batch, hooks, p.scoredRows, null);
        double[] lp = new double[p.scoredRows.length];
        TokenLogProbs.forwardBackward(k, pool, h, p.scoredRows.length, model.weights().lmHead(), p.targets, p.weights,
                TokenLogProbs.chunkRows(cfg.vocabSize(), logitChunkBytes), null, null, sampling, sampling, lp);
        double[] out = new double[trajectories.size()];
        for (int s = 0; s < out.length; s++) {
            for (int j = 0; j < trajectories.get(s).scored(); j++) {
                out[s] += lp[p.scoredStart[s] + j];
            }
        }
        return out;
    }

    /** Log-probabilities of every trajectory's scored tokens under {@code policy}, forward only. */
    public List<float[]> logProbs(List<Trajectory> trajectories, Hooks hooks, Policy policy) {
        Packed p = pack(trajectories);
        KVCache cache = model.newCache(trajectories.size(), p.longest);
        float[] x = model.forwardHidden(p.batch, cache, hooks, null);
        float[] h = model.finalNorm(x, p.batch, hooks, p.scoredRows, null);
        float[] lp = TokenLogProbs.forwardBackward(k, pool, h, p.scoredRows.length, model.weights().lmHead(), p.targets,
                p.weights, TokenLogProbs.chunkRows(cfg.vocabSize(), logitChunkBytes), null, null, policy);
        checkLogProbs(p, lp);
        List<float[]> out = new ArrayList<>();
        for (int s = 0; s < trajectories.size(); s++) {
            float[] a = new float[trajectories.get(s).scored()];
            System.arraycopy(lp, p.scoredStart[s], a, 0, a.length);
            out.add(a);
        }
        return out;
    }

    // ----------------------------------------------------------------------------------------

    /** Trajectories packed as sequences 0..n-1 of one batch, with the rows that score each token. */
    private record Packed(Batch batch, int[] rowStart, int[] scoredRows, int[] targets, float[] weights,
                          int[] scoredStart, int longest) {
    }

    private Packed pack(List<Trajectory> ts) {
        if (ts.isEmpty()) {
            throw new IpgException("no trajectories");
        }
        long total = 0;
        int scored = 0;
        int longest = 0;
        for (Trajectory t : ts) {
            total += t.tokens().length;
            scored += t.scored();
            longest = Math.max(longest, t.tokens().length);
        }
        if (total > KVCache.MAX_ARRAY) {
            throw new IpgException(ts.size() + " trajectories of " + total + " tokens in all are too many for one pass");
        }
        int rows = (int) total;
        int[] tok = new int[rows];
        int[] seq = new int[rows];
        int[] pos = new int[rows];
        int[] rowStart = new int[ts.size()];
        int[] scoredRows = new int[scored];
        int[] targets = new int[scored];
        float[] weights = new float[scored];
        int[] scoredStart = new int[ts.size()];
        int r = 0;
        int j = 0;
        for (int s = 0; s < ts.size(); s++) {
            Trajectory t = ts.get(s);
            rowStart[s] = r;
            scoredStart[s] = j;
            for (int i = 0; i < t.tokens().length; i++) {
                tok[r + i] = t.tokens()[i];
                seq[r + i] = s;
                pos[r + i] = i;
            }
            // the row at position i - 1 predicts token i
            for (int i = t.from(); i < t.tokens().length; i++) {
                scoredRows[j] = r + i - 1;
                targets[j] = t.tokens()[i];
                weights[j] = t.weight(i);
                j++;
            }
            r += t.tokens().length;
        }
        return new Packed(new Batch(tok, seq, pos), rowStart, scoredRows, targets, weights, scoredStart, longest);
    }

    /**
     * Forward with a tape, then the LM head and log-softmax of the scored rows, forward and
     * backward; accumulates dL/dx of the final residual into dx. Returns the scored log-probs.
     * lnGrad (R, d), when non-null, receives dL/d(ln_final.hook_normalized) (zero at unscored rows).
     */
    private float[] head(Packed p, KVCache cache, Hooks hooks, Tape tape, float[] dx, Gradients grads, Policy policy, Policy sampling,
                         double[] sampledLogp, float[] lnGrad) {
        float[] x = model.forwardHidden(p.batch, cache, hooks, tape);
        int n = p.scoredRows.length;
        int d = cfg.hiddenSize();
        float[] inv = new float[n];
        float[] h = model.finalNorm(x, p.batch, hooks, p.scoredRows, inv);
        float[] dh = new float[n * d];
        Weights w = model.weights();
        float[] dHead = grads == null ? null : grads.lmHead();
        float[] logp = TokenLogProbs.forwardBackward(k, pool, h, n, w.lmHead(), p.targets, p.weights,
                TokenLogProbs.chunkRows(cfg.vocabSize(), logitChunkBytes), dh, dHead, policy, sampling, sampledLogp);
        checkLogProbs(p, logp);
        if (lnGrad != null) {
            for (int i = 0; i < n; i++) {
                k.axpy(1f, dh, i * d, lnGrad, p.scoredRows[i] * d, d);
            }
        }
        // back through the final norm, scattered to the scored rows
        float[] xs = new float[n * d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(x, p.scoredRows[i] * d, xs, i * d, d);
        }
        float[] dxs = new float[n * d];
        model.finalNormBackward(dh, xs, n, inv, dxs, grads == null ? null : grads.finalNorm(),
                grads == null ? null : grads.finalNormBias());
        for (int i = 0; i < n; i++) {
            k.axpy(1f, dxs, i * d, dx, p.scoredRows[i] * d, d);
        }
        return logp;
    }

    /**
     * The finiteness check of the head: one pass over the scored log-probabilities (the residual
     * stream was checked by the forward pass). A NaN or infinite log-probability is an error naming
     * the token and its trajectory.
     */
    private void checkLogProbs(Packed p, float[] logp) {
        if (NonFinite.all(k, logp, 0, logp.length)) {
            return;
        }
        int j = NonFinite.first(logp, 0, logp.length);
        int s = 0;
        while (s + 1 < p.scoredStart.length && p.scoredStart[s + 1] <= j) {
            s++;
        }
        int row = p.scoredRows[j];
        throw model.nonFinite("the log-probability of token " + p.targets[j] + " at position " + (p.batch.pos()[row] + 1)
                + " of trajectory " + s + " is " + NonFinite.name(logp[j]));
    }

    /** Where a block's backward stops (the site's kind in its first block) and the gradient it hands over. */
    private static final class Capture implements Block.Capture {
        final Site.Kind stopAt;
        float[] grad;

        Capture(Site.Kind stopAt) {
            this.stopAt = stopAt;
        }

        @Override
        public boolean stop(Site.Kind here, float[] g) {
            if (here == stopAt) {
                grad = g;
                return true;
            }
            return false;
        }
    }
}
