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
import dev.ipg.core.sae.Sae;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IPG-SAE against the exactly enumerable case of {@link IpgExactTest}: vocabulary 5, 3 generated
 * tokens, all 125 trajectories listed, so Jbar(alpha) over the latents of a TopK SAE and its
 * gradient are exact sums.
 */
class IpgSaeExactTest {

    @TempDir
    static Path tmp;

    static Parallel pool;
    static Transformer model;
    static Sae sae;
    static final Site SITE = new Site(0, Site.Kind.RESID_POST);
    static List<int[]> all;

    @BeforeAll
    static void start() {
        pool = Parallel.of(2);
        var spec = new RandomCheckpoint.Spec(Family.LLAMA, 16, 1, 2, 1, 0, 24, IpgExactTest.VOCAB, 16, DType.F32, false, false, false);
        model = Transformer.load(RandomCheckpoint.write(tmp.resolve("m"), spec, 21), KernelsProvider.lookup(), pool);
        int d = 16;
        int n = 24;
        SplittableRandom r = new SplittableRandom(8);
        sae = new Sae("test", SITE.toString(), SITE, d, n, Sae.Activation.TOPK, 4, true, Sae.Normalization.NONE,
                uniform(r, n * d, 1.5 / Math.sqrt(d)), uniform(r, n, 0.1), uniform(r, n * d, 2.0), uniform(r, d, 0.1), null);
        all = new ArrayList<>();
        for (int i = 0; i < 125; i++) {
            all.add(new int[] {i / 25, (i / 5) % 5, i % 5});
        }
    }

    static float[] uniform(SplittableRandom r, int n, double s) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (s * (2 * r.nextDouble() - 1));
        }
        return a;
    }

    @AfterAll
    static void stop() {
        model.close();
        pool.close();
    }

    static List<Trajectory> trajectories() {
        List<Trajectory> ts = new ArrayList<>();
        for (int[] c : all) {
            ts.add(new Trajectory(new int[] {IpgExactTest.PROMPT[0], IpgExactTest.PROMPT[1], c[0], c[1], c[2]}, 2));
        }
        return ts;
    }

    static double jbar(double a, Policy policy) {
        var lps = new ReverseMode(model).logProbs(trajectories(), Interpolation.at(sae, a, null, 0).hooks(), policy);
        double j = 0;
        for (int i = 0; i < all.size(); i++) {
            double lp = 0;
            for (float x : lps.get(i)) {
                lp += x;
            }
            j += Math.exp(lp) * IpgExactTest.reward(all.get(i));
        }
        return j;
    }

    static double[] exactGradient(double a, Policy policy) {
        var res = new ReverseMode(model).siteGradients(trajectories(), Interpolation.at(sae, a, null, 0), false, policy);
        double[] g = new double[sae.dSae()];
        for (int n = 0; n < all.size(); n++) {
            double p = Math.exp(res.get(n).objective());
            double r = IpgExactTest.reward(all.get(n));
            for (int i = 0; i < g.length; i++) {
                g[i] += p * r * res.get(n).scaleGrad()[i];
            }
        }
        return g;
    }

    static double[] exactQuadrature(Quadrature quad, int q, Policy policy) {
        var rule = quad.rule(q);
        double[] out = new double[sae.dSae()];
        for (int k = 0; k < q; k++) {
            double[] g = exactGradient(rule.nodes()[k], policy);
            for (int i = 0; i < out.length; i++) {
                out[i] += rule.weights()[k] * g[i];
            }
        }
        return out;
    }

    @Test
    void exactLatentGradientAgreesWithFiniteDifferencesAndCompletenessHolds() {
        Policy policy = new Policy(1, 0, 1);
        double[] g = exactGradient(0.6, policy);
        double gsum = 0;
        for (double x : g) {
            gsum += x;
        }
        double h = 1e-3;
        double fd = (jbar(0.6 + h, policy) - jbar(0.6 - h, policy)) / (2 * h);
        assertEquals(fd, gsum, 1e-3 * Math.max(1, Math.abs(fd)));
        double delta = jbar(1, policy) - jbar(0, policy);
        assertTrue(Math.abs(delta) > 1e-3, "ablating every latent changes Jbar: " + delta);
        double gl = 0;
        for (double x : exactQuadrature(Quadrature.GAUSS_LEGENDRE, 16, policy)) {
            gl += x;
        }
        assertEquals(delta, gl, 2e-3 * Math.max(1, Math.abs(delta)), "the latents' exact scores sum to Jbar(1) - Jbar(0)");
    }

    @Test
    void rlooIpgSaeMatchesTheExactQuadratureWithinMonteCarloError() {
        int q = 3;
        IpgOptions opt = IpgExactTest.options(q, 48, 1.0, IpgOptions.SamplingMode.ON_PATH, Quadrature.MIDPOINT, 9);
        double[] exact = exactQuadrature(Quadrature.MIDPOINT, q, opt.gradientPolicy());
        int reps = 16;
        int n = sae.dSae();
        double[] sum = new double[n];
        double[] sq = new double[n];
        for (int rep = 0; rep < reps; rep++) {
            var est = new IpgEstimator(model, opt, Set.of(), IpgExactTest.SCORER, sae);
            assertEquals(n, est.width(SITE));
            float[] ipg = est.attribute(IpgExactTest.PROMPT, SITE, null, Seeds.derive(opt.seed(), rep)).ipg();
            assertEquals(n, ipg.length);
            for (int i = 0; i < n; i++) {
                sum[i] += ipg[i];
                sq[i] += (double) ipg[i] * ipg[i];
            }
        }
        int within = 0;
        double scale = 0;
        for (int i = 0; i < n; i++) {
            double mean = sum[i] / reps;
            double se = Math.sqrt(Math.max(0, sq[i] / reps - mean * mean) / (reps - 1));
            double z = Math.abs(mean - exact[i]) / Math.max(se, 1e-12);
            scale = Math.max(scale, Math.abs(exact[i]));
            assertTrue(z < 5 || Math.abs(mean - exact[i]) < 1e-6, "latent " + i + ": MC " + mean + " +- " + se + " vs exact " + exact[i]);
            within += z < 2 || Math.abs(mean - exact[i]) < 1e-6 ? 1 : 0;
        }
        assertTrue(within >= n * 0.75, within + " of " + n + " latents within 2 SE");
        assertTrue(scale > 1e-3, "the exact attribution is not trivially zero");
    }
}
