package dev.ipg.core.attribution;

import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.grad.Interpolation;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.nn.Policy;
import dev.ipg.core.run.CompletenessCheck;
import dev.ipg.core.run.Seeds;
import dev.ipg.core.sae.Sae;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * Integrated Policy Gradient of one prompt at one site (ipg-method.md §3):
 *
 * <pre>
 *   IPG(i; x) = sum_k w_k (1/N) sum_n A_{n,k} d log pi(tau_{n,k}; h(alpha_k)) / d alpha_i
 * </pre>
 *
 * with {@code h(alpha) = h' + alpha (h - h')} at every interpolated position, alpha shared by all
 * positions, and {@code d log pi / d alpha_i = sum_t (h_{t,i} - h'_i) d log pi / d h_{t,i}} from one
 * backward pass per group of trajectories. Trajectories come from the intervened model at each
 * point (on-path) or from alpha = 1 with self-normalized importance weights (reuse-weighted).
 *
 * <p>Tokens are drawn from the sampling policy (temperature, top-k, top-p); the log-probability
 * differentiated is that of {@link IpgOptions#gradientPolicy()} (by default the tempered policy
 * without truncation). The path runs over [alpha_min, 1] ({@link IpgOptions#alphaMin()}) and, with
 * a candidate set, moves only those components while the rest stay at alpha = 1.
 *
 * <p>Importance weights (reuse-weighted) are ratios of the <em>sampling</em> distributions,
 * {@code w_n ~ pi_alpha(tau_n) / pi_1(tau_n)} with both pi truncated as the sampler truncates:
 * the quantity estimated at each point is {@code E_{tau ~ pi_alpha}[A(tau) d log pi~_alpha(tau) / d alpha_i]}
 * with tau drawn from the truncated pi_alpha (what on-path sampling draws) and pi~ the differentiated
 * policy, and rewriting an expectation under one sampling distribution as one under another needs the
 * ratio of those two distributions, whichever log-probability is differentiated inside it. A sample
 * that pi_alpha's top-k / top-p cannot draw gets weight 0; at alpha = 1 the weights are exactly 1/N.
 * Where pi_alpha keeps tokens that pi_1 drops, no sample of pi_1 covers them, so with truncation
 * reuse-weighted is biased even with weights (with top-p = 1 and top-k off it is consistent).
 */
public final class IpgEstimator {

    /** Scores generated completions (token ids, end-of-sequence included if produced). */
    @FunctionalInterface
    public interface Scorer {
        double[] rewards(List<int[]> completions);
    }

    /**
     * One path point.
     *
     * @param alpha        alpha_k
     * @param weight       quadrature weight w_k
     * @param rewards      r_n
     * @param advantages   A_n
     * @param weights      importance weights (reuse-weighted; 1/N on-path)
     * @param jbar         estimate of Jbar(alpha_k)
     * @param completions  generated ids of each trajectory
     * @param contribution this point's term of IPG(i; x) per component, w_k (1/N) sum_n A_n d log pi / d alpha_i
     */
    public record Node(double alpha, double weight, double[] rewards, double[] advantages, double[] weights, double jbar,
                       List<int[]> completions, float[] contribution) {

        /** sum_i of this point's contribution: its share of the summed scores. */
        public double contributionSum() {
            double s = 0;
            for (float v : contribution) {
                s += v;
            }
            return s;
        }
    }

    /**
     * The attribution of one prompt at one site.
     *
     * @param ipg             IPG(i; x), one score per component
     * @param nodes           the path points
     * @param alphaStart      where the path starts (alpha_min; 0 for the whole path)
     * @param jbar0           Jbar estimate at the path start (Jbar(0) for the whole path)
     * @param jbar1           Jbar(1) estimate
     * @param rewards0        rewards of the samples at the path start (empty when reused from a node or reweighted)
     * @param rewards1        rewards of the samples at alpha = 1 (empty when reused from a node)
     * @param samplingSeconds time spent generating
     * @param backwardSeconds time spent in the reverse mode
     * @param generatedTokens tokens generated in all
     */
    public record Result(float[] ipg, List<Node> nodes, double alphaStart, double jbar0, double jbar1, double[] rewards0,
                         double[] rewards1, double samplingSeconds, double backwardSeconds, long generatedTokens) {

        /** sum_i IPG_i, the left side of completeness. */
        public double sum() {
            return CompletenessCheck.sum(ipg);
        }

        /** Jbar(alpha_1) - Jbar(start): the part of the change a right Riemann sum cannot see. */
        public double firstStep() {
            return nodes.getFirst().jbar() - jbar0;
        }
    }

    private final Transformer model;
    private final IpgOptions opt;
    private final Set<Integer> eosIds;
    private final Scorer scorer;
    private final ReverseMode reverse;
    private final Policy sampling;
    private final Policy gradient;
    private final Sae sae;

    public IpgEstimator(Transformer model, IpgOptions opt, Set<Integer> eosIds, Scorer scorer) {
        this(model, opt, eosIds, scorer, null);
    }

    /**
     * IPG-SAE when {@code sae} is non-null: at the SAE's site the components are its latents
     * (f(alpha) = f' + alpha (f - f'), decoded with the error term held fixed; ipg-method.md §2).
     */
    public IpgEstimator(Transformer model, IpgOptions opt, Set<Integer> eosIds, Scorer scorer, Sae sae) {
        this.sae = sae;
        this.model = model;
        this.opt = opt;
        this.eosIds = Set.copyOf(eosIds);
        this.scorer = scorer;
        this.reverse = new ReverseMode(model);
        this.sampling = opt.samplingPolicy();
        this.gradient = opt.gradientPolicy();
    }

    public ReverseMode reverseMode() {
        return reverse;
    }

    /** IPG of {@code prompt} at {@code site} with baseline h' ({@code baseline}, null: zero). */
    public Result attribute(int[] prompt, Site site, float[] baseline, long seed) {
        int[] moving = opt.candidates().of(site);
        return opt.sampling() == IpgOptions.SamplingMode.ON_PATH
                ? onPath(prompt, site, baseline, moving, seed) : reuseWeighted(prompt, site, baseline, moving, seed);
    }

    private int positionsFrom(int[] prompt) {
        return opt.positions() == IpgOptions.Positions.GENERATED ? prompt.length : 0;
    }

    /** The path point alpha: alpha for the moving components (all when null), 1 for the rest. */
    private Interpolation at(Site site, double alpha, float[] baseline, int[] prompt, int[] moving) {
        float[] a = new float[width(site)];
        java.util.Arrays.fill(a, moving == null ? (float) alpha : 1f);
        if (moving != null) {
            for (int i : moving) {
                a[i] = (float) alpha;
            }
        }
        return new Interpolation(site, baseline, a, positionsFrom(prompt), latents(site) ? sae : null);
    }

    private boolean latents(Site site) {
        return sae != null && sae.site().equals(site);
    }

    /** The number of components at {@code site}: its width, or the SAE's latents there. */
    public int width(Site site) {
        return latents(site) ? sae.dSae() : site.width(model.config());
    }

    /** What one estimate spent: tokens sampled and the time in sampling and in backward passes. */
    private static final class Counters {
        long tokens;
        long samplingNanos;
        long backwardNanos;
    }

    /** Most sequences generated in one batch when the path points are sampled together. */
    static final int MAX_BATCH = 64;

    /**
     * N completions of the prompt for each group g, from the model run at {@code interps[g]}
     * (null: the unmodified model) with the random streams of {@code seeds[g]}: the same draws as
     * one generation per group seeded with {@code seeds[g]}, but the groups share batched decode steps (at most
     * {@link #MAX_BATCH} sequences at once), so each weight is streamed once per step for all.
     */
    private List<List<int[]>> sampleGroups(int[] prompt, Site site, List<Interpolation> interps, List<Long> seeds,
                                           Counters counters) {
        long t0 = System.nanoTime();
        int n = opt.samples();
        int per = Math.max(1, MAX_BATCH / n);
        var o = new Generator.Options(new SamplingParams(opt.temperature(), opt.topK(), opt.topP(), 0), opt.maxNewTokens(),
                eosIds, List.of(), null);
        List<List<int[]>> out = new ArrayList<>();
        for (int g0 = 0; g0 < interps.size(); g0 += per) {
            int g1 = Math.min(interps.size(), g0 + per);
            int rows = (g1 - g0) * n;
            int[] groups = new int[rows];
            java.util.SplittableRandom[] rng = new java.util.SplittableRandom[rows];
            Interpolation[] bySeq = new Interpolation[rows];
            boolean any = false;
            for (int g = g0; g < g1; g++) {
                java.util.SplittableRandom base = new java.util.SplittableRandom(seeds.get(g));
                for (int j = 0; j < n; j++) {
                    int i = (g - g0) * n + j;
                    groups[i] = g;
                    rng[i] = base.split();
                    bySeq[i] = interps.get(g);
                    any |= bySeq[i] != null;
                }
            }
            Hooks hooks = !any ? Hooks.none() : Hooks.none().intervene(site, new Intervention.Callback((s, act, w, b) -> {
                for (int r = 0; r < b.rows(); r++) {
                    Interpolation ip = bySeq[b.seq()[r]];
                    if (ip != null && b.pos()[r] >= ip.positionsFrom()) {
                        ip.applyRow(act, r * w, w);
                    }
                }
            }));
            var comps = new Generator(model).generate(Collections.nCopies(rows, prompt), groups, rng, o, hooks, null);
            for (int g = g0; g < g1; g++) {
                List<int[]> one = new ArrayList<>(n);
                for (int j = 0; j < n; j++) {
                    int[] c = comps.get((g - g0) * n + j).tokens();
                    one.add(c);
                    counters.tokens += c.length;
                }
                out.add(one);
            }
        }
        counters.samplingNanos += System.nanoTime() - t0;
        return out;
    }

    private static List<Trajectory> trajectories(int[] prompt, List<int[]> completions) {
        List<Trajectory> ts = new ArrayList<>();
        for (int[] c : completions) {
            int[] all = new int[prompt.length + c.length];
            System.arraycopy(prompt, 0, all, 0, prompt.length);
            System.arraycopy(c, 0, all, prompt.length, c.length);
            ts.add(new Trajectory(all, prompt.length));
        }
        return ts;
    }

    private Result onPath(int[] prompt, Site site, float[] baseline, int[] moving, long seed) {
        Counters counters = new Counters();
        int width = width(site);
        Quadrature.Rule rule = opt.rule();
        double start = opt.alphaMin();
        PathIntegral scores = new PathIntegral(width, moving);
        List<Node> nodes = new ArrayList<>();
        int n = opt.samples();
        int points = rule.nodes().length;
        boolean need0 = rule.nodes()[0] != start;
        boolean need1 = rule.nodes()[points - 1] != 1;
        // every path point's samples (and those of the completeness end points) in as few batches as fit
        List<Interpolation> interps = new ArrayList<>();
        List<Long> seeds = new ArrayList<>();
        for (int k = 0; k < points; k++) {
            interps.add(at(site, rule.nodes()[k], baseline, prompt, moving));
            seeds.add(Seeds.derive(seed, k));
        }
        if (need0) {
            interps.add(at(site, start, baseline, prompt, moving));
            seeds.add(Seeds.derive(seed, -1));
        }
        if (need1) {
            interps.add(null);
            seeds.add(Seeds.derive(seed, -2));
        }
        List<List<int[]>> sampled = sampleGroups(prompt, site, interps, seeds, counters);
        for (int k = 0; k < points; k++) {
            double alpha = rule.nodes()[k];
            Interpolation interp = interps.get(k);
            List<int[]> comps = sampled.get(k);
            double[] r = scorer.rewards(comps);
            double[] a = opt.advantage().of(r);
            double[] w = new double[n];
            java.util.Arrays.fill(w, 1.0 / n);
            List<int[]> active = new ArrayList<>();
            List<Double> coef = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (a[i] != 0) {
                    active.add(comps.get(i));
                    coef.add(a[i] / n);
                }
            }
            PathIntegral.Point point = scores.point(rule.weights()[k]);
            if (!active.isEmpty()) {
                long t0 = System.nanoTime();
                var res = reverse.siteGradients(trajectories(prompt, active), interp, false, gradient);
                counters.backwardNanos += System.nanoTime() - t0;
                for (int j = 0; j < res.size(); j++) {
                    point.add(coef.get(j), res.get(j).scaleGrad());
                }
            }
            nodes.add(new Node(alpha, rule.weights()[k], r, a, w, Advantage.mean(r), comps, point.close()));
        }
        double[] r0 = {};
        double[] r1 = {};
        double jbar0;
        double jbar1;
        Node first = nodes.getFirst();
        Node last = nodes.getLast();
        if (!need0) {
            jbar0 = first.jbar();
        } else {
            r0 = scorer.rewards(sampled.get(points));
            jbar0 = Advantage.mean(r0);
        }
        if (!need1) {
            jbar1 = last.jbar();
        } else {
            r1 = scorer.rewards(sampled.get(points + (need0 ? 1 : 0)));
            jbar1 = Advantage.mean(r1);
        }
        return new Result(scores.scores(), nodes, start, jbar0, jbar1, r0, r1, counters.samplingNanos / 1e9,
                counters.backwardNanos / 1e9, counters.tokens);
    }

    private Result reuseWeighted(int[] prompt, Site site, float[] baseline, int[] moving, long seed) {
        Counters counters = new Counters();
        int width = width(site);
        Quadrature.Rule rule = opt.rule();
        double start = opt.alphaMin();
        int n = opt.samples();
        List<int[]> comps = sampleGroups(prompt, site, java.util.Collections.singletonList(null),
                List.of(Seeds.derive(seed, -2)), counters).getFirst();
        double[] r = scorer.rewards(comps);
        List<Trajectory> ts = trajectories(prompt, comps);
        long t0 = System.nanoTime();
        // log pi_1(tau) under the sampling policy; the samples were drawn from it, so every token is
        // in its kept set (up to the rounding the lenient log-probability absorbs)
        double[] lp1 = sums(reverse.logProbs(ts, Hooks.none(), sampling));
        counters.backwardNanos += System.nanoTime() - t0;
        PathIntegral scores = new PathIntegral(width, moving);
        List<Node> nodes = new ArrayList<>();
        for (int k = 0; k < rule.nodes().length; k++) {
            double alpha = rule.nodes()[k];
            Interpolation interp = at(site, alpha, baseline, prompt, moving);
            t0 = System.nanoTime();
            var res = reverse.siteGradients(ts, interp, false, gradient, sampling);
            counters.backwardNanos += System.nanoTime() - t0;
            double[] lw = new double[n];
            for (int i = 0; i < n; i++) {
                // at alpha = 1 the two distributions are the same: the ratio is exactly 1
                lw[i] = alpha == 1 ? 0 : res.get(i).samplingLogProb() - lp1[i];
            }
            double[] w = normalizedExp(lw);
            boolean none = Double.isNaN(w[0]); // no sample is possible at this point: it contributes nothing
            double[] a = none ? new double[n] : opt.advantage().of(r, w);
            double jbar = 0;
            for (int i = 0; i < n; i++) {
                jbar += w[i] * r[i];
            }
            PathIntegral.Point point = scores.point(rule.weights()[k]);
            for (int j = 0; j < n && !none; j++) {
                point.add(w[j] * a[j], res.get(j).scaleGrad());
            }
            nodes.add(new Node(alpha, rule.weights()[k], r, a, w, jbar, comps, point.close()));
        }
        // Jbar at the path start and at 1 from the same samples: weights at the start, plain means at 1
        t0 = System.nanoTime();
        double[] lp0 = reverse.samplingLogProbs(ts, at(site, start, baseline, prompt, moving).hooks(), sampling);
        counters.backwardNanos += System.nanoTime() - t0;
        double[] lw0 = new double[n];
        for (int i = 0; i < n; i++) {
            lw0[i] = lp0[i] - lp1[i];
        }
        double[] w0 = normalizedExp(lw0);
        double jbar0 = 0;
        for (int i = 0; i < n; i++) {
            jbar0 += w0[i] * r[i];
        }
        return new Result(scores.scores(), nodes, start, jbar0, Advantage.mean(r), new double[0], r, counters.samplingNanos / 1e9,
                counters.backwardNanos / 1e9, counters.tokens);
    }

    /**
     * exp(lw) normalized to sum 1. When no sample is possible under the target distribution (every
     * lw is -infinity) the weights are NaN: the point has no estimate from these samples.
     */
    private static double[] normalizedExp(double[] lw) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : lw) {
            max = Math.max(max, x);
        }
        double s = 0;
        double[] w = new double[lw.length];
        if (max == Double.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(w, Double.NaN);
            return w;
        }
        for (int i = 0; i < lw.length; i++) {
            w[i] = Math.exp(lw[i] - max);
            s += w[i];
        }
        for (int i = 0; i < lw.length; i++) {
            w[i] /= s;
        }
        return w;
    }

    private static double[] sums(List<float[]> lps) {
        double[] s = new double[lps.size()];
        for (int i = 0; i < s.length; i++) {
            for (float x : lps.get(i)) {
                s[i] += x;
            }
        }
        return s;
    }
}
