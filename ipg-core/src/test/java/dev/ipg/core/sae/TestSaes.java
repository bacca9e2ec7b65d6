package dev.ipg.core.sae;

import dev.ipg.core.model.Site;
import java.util.SplittableRandom;

/** Random SAEs for tests. */
final class TestSaes {

    private TestSaes() {
    }

    static float[] normal(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble();
            double v = r.nextDouble();
            a[i] = (float) (scale * Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v));
        }
        return a;
    }

    static Sae random(Site site, int dIn, int dSae, Sae.Activation act, int k, Sae.Normalization norm, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] threshold = null;
        if (act == Sae.Activation.JUMPRELU) {
            threshold = normal(r, dSae, 0.2);
            for (int i = 0; i < dSae; i++) {
                threshold[i] = Math.abs(threshold[i]);
            }
        }
        return new Sae("test", site.toString(), site, dIn, dSae, act, k, true, norm,
                normal(r, dSae * dIn, 1 / Math.sqrt(dIn)), normal(r, dSae, 0.1),
                normal(r, dSae * dIn, 1 / Math.sqrt(dSae) * 2), normal(r, dIn, 0.1), threshold);
    }
}
