package dev.ipg.core.attribution;

import dev.ipg.core.run.Seeds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.grad.Interpolation;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.nn.Policy;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IPG against an exactly enumerable case: a tiny model with a vocabulary of 5 that generates
 * exactly 3 tokens (no end-of-sequence), so all 125 trajectories can be listed, Jbar(alpha) is a
 * finite sum and its gradient is exact (score-function identity over every trajectory).
 */
class IpgExactTest {

    static final int VOCAB = 5;
    static final int HORIZON = 3;
    static final int[] PROMPT = {1, 3};

    @TempDir
    static Path tmp;

    static Parallel pool;
    static Transformer model;
    static List<int[]> all;

    @BeforeAll
    static void start() {
        pool = Parallel.of(2);
        var spec = new RandomCheckpoint.Spec(Family.LLAMA, 16, 1, 2, 1, 0, 24, VOCAB, 16, DType.F32, false, false, false);
        model = Transformer.load(RandomCheckpoint.write(tmp.resolve("m"), spec, 21), KernelsProvider.lookup(), pool);
        all = new ArrayList<>();
        for (int i = 0; i < VOCAB * VOCAB * VOCAB; i++) {
            all.add(new int[] {i / 25, (i / 5) % 5, i % 5});
        }
    }

    @AfterAll
    static void stop() {
        model.close();
        pool.close();
    }

    /** The signal: number of 2s in the completion, plus one half if it starts with 4. */
    static double reward(int[] c) {
        double r = 0;
        for (int t : c) {
            r += t == 2 ? 1 : 0;
        }
        return r + (c[0] == 4 ? 0.5 : 0);
    }

    static final IpgEstimator.Scorer SCORER = cs -> cs.stream().mapToDouble(IpgExactTest::reward).toArray();

    static List<Trajectory> trajectories() {
        List<Trajectory> ts = new ArrayList<>();
        for (int[] c : all) {
            ts.add(new Trajectory(new int[] {PROMPT[0], PROMPT[1], c[0], c[1], c[2]}, PROMPT.length));
        }
        return ts;
    }

    /** Exact Jbar at alpha (every component equal to a). */
    static double jbar(Site site, double a, Policy policy) {
        var lps = new ReverseMode(model).logProbs(trajectories(),
                Interpolation.at(site, site.width(model.config()), a, null, 0).hooks(), policy);
        double j = 0;
        double total = 0;
        for (int i = 0; i < all.size(); i++) {
            double lp = 0;
            for (float x : lps.get(i)) {
                lp += x;
            }
            j += Math.exp(lp) * reward(all.get(i));
            total += Math.exp(lp);
        }
        assertEquals(1.0, total, 1e-5, "trajectory probabilities sum to one");
        return j;
    }

    /** Exact dJbar/dalpha_i at alpha = a: sum over trajectories of pi J d log pi / d alpha. */
    static double[] exactGradient(Site site, double a, Policy policy) {
        int width = site.width(model.config());
        var res = new ReverseMode(model).siteGradients(trajectories(), Interpolation.at(site, width, a, null, 0), false, policy);
        double[] g = new double[width];
        for (int n = 0; n < all.size(); n++) {
            double p = Math.exp(res.get(n).objective());
            double r = reward(all.get(n));
            for (int i = 0; i < width; i++) {
                g[i] += p * r * res.get(n).scaleGrad()[i];
            }
        }
        return g;
    }

    /** The quadrature applied to the exact gradient at the same nodes. */
    static double[] exactQuadrature(Site site, Quadrature quad, int q, Policy policy) {
        var rule = quad.rule(q);
        double[] out = new double[site.width(model.config())];
        for (int k = 0; k < q; k++) {
            double[] g = exactGradient(site, rule.nodes()[k], policy);
            for (int i = 0; i < out.length; i++) {
                out[i] += rule.weights()[k] * g[i];
            }
        }
        return out;
    }

    static IpgOptions options(int steps, int samples, double temperature, IpgOptions.SamplingMode mode, Quadrature quad, long seed) {
        return new IpgOptions(steps, samples, temperature, 1.0, 0, HORIZON, Advantage.RLOO, IpgOptions.BaselineKind.ZERO, mode,
                IpgOptions.Positions.ALL, quad, seed);
    }

    /** Mean and standard error over independent replicates of the estimator. */
    static double[][] replicates(Site site, IpgOptions base, int reps) {
        int width = site.width(model.config());
        double[] sum = new double[width];
        double[] sq = new double[width];
        for (int rep = 0; rep < reps; rep++) {
            var est = new IpgEstimator(model, base, Set.of(), SCORER);
            float[] ipg = est.attribute(PROMPT, site, null, Seeds.derive(base.seed(), rep)).ipg();
            for (int i = 0; i < width; i++) {
                sum[i] += ipg[i];
                sq[i] += (double) ipg[i] * ipg[i];
            }
        }
        double[] mean = new double[width];
        double[] se = new double[width];
        for (int i = 0; i < width; i++) {
            mean[i] = sum[i] / reps;
            se[i] = Math.sqrt(Math.max(0, sq[i] / reps - mean[i] * mean[i]) / (reps - 1));
        }
        return new double[][] {mean, se};
    }

    @Test
    void exactGradientAgreesWithFiniteDifferencesOfTheExactExpectation() {
        Site site = new Site(0, Site.Kind.MLP_POST);
        Policy policy = new Policy(1, 0, 1);
        double[] g = exactGradient(site, 0.6, policy);
        double gsum = 0;
        for (double x : g) {
            gsum += x;
        }
        double h = 1e-3;
        double fd = (jbar(site, 0.6 + h, policy) - jbar(site, 0.6 - h, policy)) / (2 * h);
        // moving every alpha together is the directional derivative along (1, ..., 1)
        assertEquals(fd, gsum, 1e-3 * Math.max(1, Math.abs(fd)));
    }

    @Test
    void rlooIpgMatchesTheExactQuadratureWithinMonteCarloError() {
        Site site = new Site(0, Site.Kind.MLP_POST);
        int q = 4;
        IpgOptions opt = options(q, 48, 1.0, IpgOptions.SamplingMode.ON_PATH, Quadrature.RIEMANN_RIGHT, 7);
        double[] exact = exactQuadrature(site, Quadrature.RIEMANN_RIGHT, q, opt.samplingPolicy());
        double[][] mc = replicates(site, opt, 24);
        int within = 0;
        double scale = 0;
        for (double x : exact) {
            scale = Math.max(scale, Math.abs(x));
        }
        for (int i = 0; i < exact.length; i++) {
            double z = Math.abs(mc[0][i] - exact[i]) / Math.max(mc[1][i], 1e-12);
            assertTrue(z < 5, "component " + i + ": MC " + mc[0][i] + " +- " + mc[1][i] + " vs exact " + exact[i]);
            if (z < 2) {
                within++;
            }
        }
        // about 95 % should be within 2 standard errors; demand a clear majority
        assertTrue(within >= exact.length * 0.75, within + " of " + exact.length + " components within 2 SE");
        assertTrue(scale > 1e-3, "the exact attribution should not be trivially zero");
    }

    @Test
    void completenessOnAnMlpSiteImprovesWithMoreSteps() {
        Site site = new Site(0, Site.Kind.MLP_POST);
        Policy policy = new Policy(1, 0, 1);
        double delta = jbar(site, 1, policy) - jbar(site, 0, policy);
        double[] gaps = new double[3];
        int[] qs = {2, 8, 32};
        for (int j = 0; j < qs.length; j++) {
            double s = 0;
            for (double x : exactQuadrature(site, Quadrature.RIEMANN_RIGHT, qs[j], policy)) {
                s += x;
            }
            gaps[j] = Math.abs(s - delta);
        }
        assertTrue(Math.abs(delta) > 1e-3, "Jbar(1) - Jbar(0) should not vanish: " + delta);
        // a right Riemann sum converges as 1/q: each 4x more steps should cut the gap about 4x
        assertTrue(gaps[1] < gaps[0] / 2.5 && gaps[2] < gaps[1] / 2.5, "gaps " + java.util.Arrays.toString(gaps));
        double gl = 0;
        for (double x : exactQuadrature(site, Quadrature.GAUSS_LEGENDRE, 6, policy)) {
            gl += x;
        }
        assertEquals(delta, gl, 1e-3 * Math.max(1, Math.abs(delta)), "6-point Gauss-Legendre is nearly exact");
        // and the Monte-Carlo estimator's sum follows, within its error
        IpgOptions opt = options(8, 32, 1.0, IpgOptions.SamplingMode.ON_PATH, Quadrature.GAUSS_LEGENDRE, 11);
        double[][] mc = replicates(site, opt, 12);
        double sum = 0;
        double var = 0;
        for (int i = 0; i < mc[0].length; i++) {
            sum += mc[0][i];
            var += mc[1][i] * mc[1][i];
        }
        // components are correlated; bound the sum's error by the sum of standard errors
        double seSum = 0;
        for (double se : mc[1]) {
            seSum += se;
        }
        assertTrue(Math.abs(sum - delta) < 3 * seSum + 1e-3, "MC sum " + sum + " vs change " + delta + " (sum of SE " + seSum + ")");
        assertTrue(var >= 0);
    }

    @Test
    void reuseWeightedAgreesWithOnPath() {
        Site site = new Site(0, Site.Kind.MLP_POST);
        int q = 3;
        IpgOptions onPath = options(q, 48, 1.0, IpgOptions.SamplingMode.ON_PATH, Quadrature.MIDPOINT, 5);
        IpgOptions reuse = options(q, 96, 1.0, IpgOptions.SamplingMode.REUSE_WEIGHTED, Quadrature.MIDPOINT, 6);
        double[] exact = exactQuadrature(site, Quadrature.MIDPOINT, q, onPath.samplingPolicy());
        double[][] a = replicates(site, onPath, 16);
        double[][] b = replicates(site, reuse, 16);
        int ok = 0;
        for (int i = 0; i < exact.length; i++) {
            double se = Math.sqrt(a[1][i] * a[1][i] + b[1][i] * b[1][i]);
            double z = Math.abs(a[0][i] - b[0][i]) / Math.max(se, 1e-12);
            assertTrue(z < 5, "component " + i + ": on-path " + a[0][i] + " vs reuse-weighted " + b[0][i] + " (exact " + exact[i] + ")");
            double zb = Math.abs(b[0][i] - exact[i]) / Math.max(b[1][i], 1e-12);
            if (zb < 3) {
                ok++;
            }
        }
        assertTrue(ok >= exact.length * 0.75, ok + " of " + exact.length + " reuse-weighted components within 3 SE of exact");
    }

    @Test
    void temperatureIsPartOfThePolicy() {
        // the estimator under T = 0.7 estimates the gradient of the tempered expectation
        Site site = new Site(0, Site.Kind.RESID_POST);
        IpgOptions opt = options(2, 48, 0.7, IpgOptions.SamplingMode.ON_PATH, Quadrature.MIDPOINT, 3);
        double[] exact = exactQuadrature(site, Quadrature.MIDPOINT, 2, opt.samplingPolicy());
        double[][] mc = replicates(site, opt, 16);
        for (int i = 0; i < exact.length; i++) {
            double z = Math.abs(mc[0][i] - exact[i]) / Math.max(mc[1][i], 1e-12);
            assertTrue(z < 5, "component " + i + ": MC " + mc[0][i] + " +- " + mc[1][i] + " vs exact " + exact[i]);
        }
    }

    // ------------------------------------------------------------------ the differentiated policy, truncation, paths

    /** The path point a of an estimator's path: a on the moving components (all when null), 1 elsewhere. */
    static Interpolation point(Site site, double a, float[] baseline, int[] moving) {
        float[] alpha = new float[site.width(model.config())];
        java.util.Arrays.fill(alpha, moving == null ? (float) a : 1f);
        if (moving != null) {
            for (int i : moving) {
                alpha[i] = (float) a;
            }
        }
        return new Interpolation(site, baseline, alpha, 0);
    }

    /** Exact Jbar at a path point when tokens are drawn from {@code sampling} (truncation included). */
    static double jbarAt(Interpolation ip, Policy sampling) {
        double[] lp = new ReverseMode(model).samplingLogProbs(trajectories(), ip.hooks(), sampling);
        double j = 0;
        double total = 0;
        for (int n = 0; n < all.size(); n++) {
            j += Math.exp(lp[n]) * reward(all.get(n));
            total += Math.exp(lp[n]);
        }
        assertEquals(1.0, total, 1e-5, "the sampling distribution's trajectory probabilities sum to one");
        return j;
    }

    /**
     * What the rloo estimator estimates at one path point, exactly: with tau drawn from the
     * sampling policy and g the gradient of the differentiated policy's log-probability,
     * E[A g] = sum_tau pi_s(tau) (J(tau) - Jbar_s) g(tau) (the leave-one-out mean is independent of
     * the sample it is subtracted from).
     */
    static double[] exactTarget(Interpolation ip, Policy sampling, Policy gradient) {
        var rm = new ReverseMode(model);
        double[] lp = rm.samplingLogProbs(trajectories(), ip.hooks(), sampling);
        var res = rm.siteGradients(trajectories(), ip, false, gradient);
        double jbar = 0;
        for (int n = 0; n < all.size(); n++) {
            jbar += Math.exp(lp[n]) * reward(all.get(n));
        }
        double[] g = new double[ip.alpha().length];
        for (int n = 0; n < all.size(); n++) {
            double c = Math.exp(lp[n]) * (reward(all.get(n)) - jbar);
            for (int i = 0; i < g.length && c != 0; i++) {
                g[i] += c * res.get(n).scaleGrad()[i];
            }
        }
        return g;
    }

    /** The estimator's quadrature ({@link IpgOptions#rule()}, its candidate set) applied to the exact target. */
    static double[] exactQuadrature(Site site, IpgOptions opt, float[] baseline) {
        var rule = opt.rule();
        int[] moving = opt.candidates().of(site);
        double[] out = new double[site.width(model.config())];
        for (int k = 0; k < rule.nodes().length; k++) {
            double[] g = exactTarget(point(site, rule.nodes()[k], baseline, moving), opt.samplingPolicy(), opt.gradientPolicy());
            for (int i = 0; i < out.length; i++) {
                boolean moves = moving == null || java.util.Arrays.binarySearch(moving, i) >= 0;
                out[i] += moves ? rule.weights()[k] * g[i] : 0;
            }
        }
        return out;
    }

    static IpgOptions truncating(int steps, int samples, int topK, double topP, IpgOptions.PolicyGradient g, long seed) {
        return new IpgOptions(steps, samples, 0.8, topP, topK, HORIZON, Advantage.RLOO, IpgOptions.BaselineKind.ZERO,
                IpgOptions.SamplingMode.ON_PATH, IpgOptions.Positions.ALL, Quadrature.MIDPOINT, seed, g, 0, Candidates.ALL, Seeds.IPG);
    }

    static double[][] replicates(Site site, IpgOptions opt, float[] baseline, int reps) {
        int width = site.width(model.config());
        double[] sum = new double[width];
        double[] sq = new double[width];
        double[] sums = new double[reps];
        for (int rep = 0; rep < reps; rep++) {
            var r = new IpgEstimator(model, opt, Set.of(), SCORER).attribute(PROMPT, site, baseline, Seeds.derive(opt.seed(), rep));
            for (int i = 0; i < width; i++) {
                sum[i] += r.ipg()[i];
                sq[i] += (double) r.ipg()[i] * r.ipg()[i];
            }
            sums[rep] = r.sum();
        }
        double[] mean = new double[width];
        double[] se = new double[width];
        for (int i = 0; i < width; i++) {
            mean[i] = sum[i] / reps;
            se[i] = Math.sqrt(Math.max(0, sq[i] / reps - mean[i] * mean[i]) / (reps - 1));
        }
        double m = java.util.Arrays.stream(sums).average().orElseThrow();
        double ss = 0;
        for (double x : sums) {
            ss += (x - m) * (x - m);
        }
        return new double[][] {mean, se, {m, Math.sqrt(ss / (reps - 1) / reps)}};
    }

    /** Asserts every component within 5 standard errors and three quarters within 2.5. */
    static void assertWithinMonteCarlo(double[] exact, double[][] mc, String what) {
        int within = 0;
        for (int i = 0; i < exact.length; i++) {
            double z = Math.abs(mc[0][i] - exact[i]) / Math.max(mc[1][i], 1e-9);
            assertTrue(z < 5, what + ", component " + i + ": MC " + mc[0][i] + " +- " + mc[1][i] + " vs exact " + exact[i]);
            within += z < 2.5 ? 1 : 0;
        }
        assertTrue(within >= exact.length * 0.75, what + ": " + within + " of " + exact.length + " components within 2.5 SE");
    }

    @Test
    void temperedAndTruncatedLogProbabilityGradientsAgreeWithFiniteDifferences() {
        Site site = new Site(0, Site.Kind.MLP_POST);
        int width = site.width(model.config());
        Policy truncated = new Policy(0.8, 0, 0.3);
        Policy tempered = truncated.tempered();
        assertEquals(new Policy(0.8, 0, 1), tempered);
        var rm = new ReverseMode(model);
        List<Trajectory> ts = trajectories().subList(0, 40);
        double h = 2e-3;
        int oneTokenNuclei = 0;
        for (Policy pol : List.of(tempered, truncated)) {
            var res = rm.siteGradients(ts, Interpolation.at(site, width, 0.7, null, 0), false, pol);
            for (int i : new int[] {0, 5, 17}) {
                float[] up = new float[width];
                float[] dn = new float[width];
                java.util.Arrays.fill(up, 0.7f);
                java.util.Arrays.fill(dn, 0.7f);
                up[i] += (float) h;
                dn[i] -= (float) h;
                var lu = rm.logProbs(ts, new Interpolation(site, null, up, 0).hooks(), pol);
                var ld = rm.logProbs(ts, new Interpolation(site, null, dn, 0).hooks(), pol);
                for (int n = 0; n < ts.size(); n++) {
                    double fd = (sum(lu.get(n)) - sum(ld.get(n))) / (2 * h);
                    double g = res.get(n).scaleGrad()[i];
                    assertEquals(fd, g, 2e-3 + 2e-2 * Math.abs(fd), pol + " trajectory " + n + " component " + i);
                }
            }
            if (pol == truncated) {
                for (var r : res) {
                    for (float lp : r.logProbs()) {
                        oneTokenNuclei += lp == 0 ? 1 : 0;
                    }
                }
            }
        }
        // top-p 0.3 often keeps one token: its truncated log-probability is exactly 0, and so is its gradient
        assertTrue(oneTokenNuclei > 0, "some positions should have a one-token nucleus");
    }

    static double sum(float[] a) {
        double s = 0;
        for (float x : a) {
            s += x;
        }
        return s;
    }

    @Test
    void underTruncatedSamplingTheEstimatorEstimatesTheGradientItDifferentiates() {
        // top-p 0.6 (one to three of five tokens kept): the tempered and the truncated gradients are different
        // targets, and each estimator matches its own exactly (tokens drawn from the truncated policy in both)
        Site site = new Site(0, Site.Kind.MLP_POST);
        IpgOptions tempered = truncating(2, 48, 0, 0.6, IpgOptions.PolicyGradient.TEMPERED, 31);
        IpgOptions truncated = truncating(2, 48, 0, 0.6, IpgOptions.PolicyGradient.TRUNCATED, 31);
        double[] exactTempered = exactQuadrature(site, tempered, null);
        double[] exactTruncated = exactQuadrature(site, truncated, null);
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < exactTempered.length; i++) {
            diff = Math.max(diff, Math.abs(exactTempered[i] - exactTruncated[i]));
            scale = Math.max(scale, Math.abs(exactTempered[i]));
        }
        assertTrue(scale > 1e-3 && diff > 0.1 * scale, "the two targets should differ: max diff " + diff + " of scale " + scale);
        assertWithinMonteCarlo(exactTempered, replicates(site, tempered, null, 20), "tempered");
        assertWithinMonteCarlo(exactTruncated, replicates(site, truncated, null, 20), "truncated");
    }

    @Test
    void rlooCompletenessOnAnMlpSiteWithinMonteCarloError() {
        // untruncated sampling: the tempered gradient is the gradient of Jbar, so with a nearly exact
        // quadrature the summed scores estimate Jbar(1) - Jbar(0) without bias
        Site site = new Site(0, Site.Kind.MLP_POST);
        IpgOptions opt = new IpgOptions(6, 24, 0.8, 1.0, 0, HORIZON, Advantage.RLOO, IpgOptions.BaselineKind.ZERO,
                IpgOptions.SamplingMode.ON_PATH, IpgOptions.Positions.ALL, Quadrature.GAUSS_LEGENDRE, 41);
        Policy pol = opt.samplingPolicy();
        int width = site.width(model.config());
        double delta = jbarAt(Interpolation.at(site, width, 1, null, 0), pol) - jbarAt(Interpolation.at(site, width, 0, null, 0), pol);
        double quad = 0;
        for (double x : exactQuadrature(site, opt, null)) {
            quad += x;
        }
        assertTrue(Math.abs(delta) > 0.01, "Jbar(1) - Jbar(0) should not vanish: " + delta);
        assertEquals(delta, quad, 1e-3 * Math.max(1, Math.abs(delta)), "6-point Gauss-Legendre of the exact gradient");
        double[] sums = replicates(site, opt, null, 24)[2];
        assertTrue(Math.abs(sums[0] - delta) < 3 * sums[1], "summed scores " + sums[0] + " +- " + sums[1] + " vs " + delta);
        assertTrue(sums[1] < 0.5 * Math.abs(delta), "the check should be sharp: standard error " + sums[1] + " vs " + delta);
    }

    @Test
    void aPathFromAlphaMinSumsToTheChangeOverItsOwnInterval() {
        Site site = new Site(0, Site.Kind.MLP_POST);
        IpgOptions opt = new IpgOptions(6, 24, 0.8, 1.0, 0, HORIZON, Advantage.RLOO, IpgOptions.BaselineKind.ZERO,
                IpgOptions.SamplingMode.ON_PATH, IpgOptions.Positions.ALL, Quadrature.GAUSS_LEGENDRE, 43, IpgOptions.PolicyGradient.TEMPERED,
                0.5, Candidates.ALL, Seeds.IPG);
        int width = site.width(model.config());
        Policy pol = opt.samplingPolicy();
        double delta = jbarAt(Interpolation.at(site, width, 1, null, 0), pol) - jbarAt(Interpolation.at(site, width, 0.5, null, 0), pol);
        double[] exact = exactQuadrature(site, opt, null);
        assertEquals(delta, java.util.Arrays.stream(exact).sum(), 1e-4 * Math.max(1, Math.abs(delta)), "integral over [0.5, 1]");
        var mc = replicates(site, opt, null, 16);
        assertWithinMonteCarlo(exact, mc, "alpha-min 0.5");
        // and the run's own end points are those of its path
        var r = new IpgEstimator(model, opt, Set.of(), SCORER).attribute(PROMPT, site, null, 5);
        assertEquals(0.5, r.alphaStart());
        assertTrue(r.nodes().getFirst().alpha() > 0.5 && r.rewards0().length == 24, "Jbar(0.5) sampled separately");
    }

    @Test
    void aMeanBaselineOnAResidualSiteSumsToTheChangeFromThatBaseline() {
        Site site = new Site(0, Site.Kind.RESID_POST);
        int width = site.width(model.config());
        // the mean baseline of the prompt, as every method defines it
        float[] base = MeanBaseline.of(model, List.of(PROMPT), List.of(site)).bySite().get(site);
        IpgOptions opt = new IpgOptions(6, 24, 0.8, 1.0, 0, HORIZON, Advantage.RLOO, IpgOptions.BaselineKind.MEAN,
                IpgOptions.SamplingMode.ON_PATH, IpgOptions.Positions.ALL, Quadrature.GAUSS_LEGENDRE, 47);
        Policy pol = opt.samplingPolicy();
        double delta = jbarAt(Interpolation.at(site, width, 1, base, 0), pol) - jbarAt(Interpolation.at(site, width, 0, base, 0), pol);
        double[] exact = exactQuadrature(site, opt, base);
        assertEquals(delta, java.util.Arrays.stream(exact).sum(), 2e-3 * Math.max(1, Math.abs(delta)), "integral from the mean baseline");
        assertWithinMonteCarlo(exact, replicates(site, opt, base, 16), "mean baseline");
    }

    @Test
    void aCandidatePathMovesOnlyTheCandidatesAndTheirScoresSumToTheirChange() {
        Site site = new Site(0, Site.Kind.MLP_POST);
        int width = site.width(model.config());
        int[] cand = {2, 7, 11, 19};
        Candidates c = new Candidates("test", 4, java.util.Map.of(site, cand));
        IpgOptions opt = new IpgOptions(6, 24, 0.8, 1.0, 0, HORIZON, Advantage.RLOO, IpgOptions.BaselineKind.ZERO,
                IpgOptions.SamplingMode.ON_PATH, IpgOptions.Positions.ALL, Quadrature.GAUSS_LEGENDRE, 53).withPath(0, c);
        Policy pol = opt.samplingPolicy();
        double delta = jbarAt(point(site, 1, null, cand), pol) - jbarAt(point(site, 0, null, cand), pol);
        double[] exact = exactQuadrature(site, opt, null);
        assertEquals(delta, java.util.Arrays.stream(exact).sum(), 1e-4 * Math.max(1, Math.abs(delta)), "candidates' integral");
        assertTrue(Math.abs(delta) > 1e-3, "zeroing the candidates should change Jbar: " + delta);
        var mc = replicates(site, opt, null, 16);
        for (int i = 0; i < width; i++) {
            if (java.util.Arrays.binarySearch(cand, i) < 0) {
                assertEquals(0.0, mc[0][i], "a component that does not move scores exactly 0");
            }
        }
        assertWithinMonteCarlo(exact, mc, "candidates");
    }
}
