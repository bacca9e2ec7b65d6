package dev.ipg.core.attribution;

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
}
