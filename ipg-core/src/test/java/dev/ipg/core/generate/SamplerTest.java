package dev.ipg.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.nn.Policy;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {

    /** logits whose softmax is exactly p (up to float rounding). */
    static float[] logitsOf(double... p) {
        float[] l = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            l[i] = (float) Math.log(p[i]);
        }
        return l;
    }

    static double[] frequencies(SamplingParams sp, float[] logits, int draws) {
        Sampler s = new Sampler(sp);
        SplittableRandom rng = new SplittableRandom(sp.seed());
        double[] f = new double[logits.length];
        for (int i = 0; i < draws; i++) {
            f[s.sample(logits, 0, logits.length, rng)] += 1.0 / draws;
        }
        return f;
    }

    /** Each frequency within 5 standard errors of its expected probability. */
    static void assertMatches(double[] expected, double[] freq, int draws) {
        for (int i = 0; i < expected.length; i++) {
            double se = Math.sqrt(Math.max(expected[i] * (1 - expected[i]), 1e-12) / draws);
            assertTrue(Math.abs(freq[i] - expected[i]) <= 5 * se + 1e-12,
                    "token " + i + ": frequency " + freq[i] + ", expected " + expected[i]);
        }
    }

    @Test
    void greedyTakesTheArgmaxAndTheLowestIdOnTies() {
        Sampler s = new Sampler(SamplingParams.greedy());
        assertEquals(2, s.sample(new float[] {0f, 1f, 3f, 2f}, 0, 4, new SplittableRandom(1)));
        assertEquals(1, s.sample(new float[] {0f, 3f, 3f, 2f}, 0, 4, new SplittableRandom(1)));
        assertEquals(1, s.sample(new float[] {9f, 0f, 3f, 3f, 2f}, 1, 4, new SplittableRandom(1)));
    }

    @Test
    void plainSamplingFollowsTheSoftmax() {
        int n = 200_000;
        assertMatches(new double[] {0.5, 0.3, 0.15, 0.05},
                frequencies(new SamplingParams(1, 0, 1, 3), logitsOf(0.5, 0.3, 0.15, 0.05), n), n);
    }

    @Test
    void temperatureSharpensTheDistribution() {
        // T = 0.5 squares the probabilities before renormalizing
        double[] p = {0.5, 0.3, 0.15, 0.05};
        double z = 0;
        for (double x : p) {
            z += x * x;
        }
        double[] e = new double[4];
        for (int i = 0; i < 4; i++) {
            e[i] = p[i] * p[i] / z;
        }
        int n = 200_000;
        assertMatches(e, frequencies(new SamplingParams(0.5, 0, 1, 4), logitsOf(p), n), n);
    }

    @Test
    void topKKeepsTheKMostLikelyRenormalized() {
        int n = 100_000;
        assertMatches(new double[] {0.3 / 0.8, 0.5 / 0.8, 0, 0},
                frequencies(new SamplingParams(1, 2, 1, 5), logitsOf(0.3, 0.5, 0.15, 0.05), n), n);
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        int n = 100_000;
        // sorted: 0.5, 0.3, 0.15, 0.05; p = 0.75 -> {0.5, 0.3}; p = 0.85 -> {0.5, 0.3, 0.15}
        assertMatches(new double[] {0, 0.5 / 0.8, 0.3 / 0.8, 0},
                frequencies(new SamplingParams(1, 0, 0.75, 6), logitsOf(0.05, 0.5, 0.3, 0.15), n), n);
        assertMatches(new double[] {0, 0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95},
                frequencies(new SamplingParams(1, 0, 0.85, 7), logitsOf(0.05, 0.5, 0.3, 0.15), n), n);
        // a tiny p keeps only the most likely token
        assertMatches(new double[] {0, 1, 0, 0},
                frequencies(new SamplingParams(1, 0, 0.01, 8), logitsOf(0.05, 0.5, 0.3, 0.15), 1000), 1000);
    }

    @Test
    void topPOnALargeFlatTailMatchesAFullSort() {
        // 5000 tokens: 3 likely, the rest a long flat tail whose mass is needed to reach p
        int v = 5000;
        double[] p = new double[v];
        p[0] = 0.2;
        p[1] = 0.1;
        p[2] = 0.05;
        for (int i = 3; i < v; i++) {
            p[i] = 0.65 / (v - 3) * (1 + (i % 7) * 1e-3);
        }
        float[] logits = logitsOf(p);
        // expected nucleus by brute force: sort all, keep prefix while mass before < p * total
        Integer[] idx = new Integer[v];
        float[] probs = new float[v];
        double total = 0;
        for (int i = 0; i < v; i++) {
            idx[i] = i;
            probs[i] = (float) Math.exp(logits[i] - logits[0]);
            total += probs[i];
        }
        java.util.Arrays.sort(idx, (a, b) -> {
            int c = Float.compare(probs[b], probs[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        double cum = 0;
        java.util.Set<Integer> nucleus = new java.util.HashSet<>();
        for (Integer i : idx) {
            if (cum >= 0.9 * total) {
                break;
            }
            cum += probs[i];
            nucleus.add(i);
        }
        Sampler s = new Sampler(new SamplingParams(1, 0, 0.9, 9));
        SplittableRandom rng = new SplittableRandom(9);
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int i = 0; i < 20_000; i++) {
            seen.add(s.sample(logits, 0, v, rng));
        }
        assertTrue(nucleus.containsAll(seen), "sampled a token outside the nucleus");
        assertTrue(seen.size() > nucleus.size() * 0.9, "nucleus of " + nucleus.size() + " tokens, saw only " + seen.size());
    }

    @Test
    void invalidParametersAreUserErrors() {
        assertThrows(IpgException.class, () -> new SamplingParams(-1, 0, 1, 0));
        assertThrows(IpgException.class, () -> new SamplingParams(1, -2, 1, 0));
        assertThrows(IpgException.class, () -> new SamplingParams(1, 0, 0, 0));
        assertThrows(IpgException.class, () -> new SamplingParams(1, 0, 1.5, 0));
        assertThrows(IpgException.class, () -> new SamplingParams(Double.NaN, 0, 1, 0));
    }

    @Test
    void theSamplingDistributionIsMadeFromValidatedParameters() {
        assertEquals(new Policy(0.7, 5, 0.9), new SamplingParams(0.7, 5, 0.9, 3).policy());
        var e = assertThrows(IpgException.class, () -> SamplingParams.greedy().policy());
        assertTrue(e.getMessage().contains("greedy"), e.getMessage());
        assertThrows(IpgException.class, () -> new SamplingParams(Double.POSITIVE_INFINITY, 0, 1, 0));
    }
}
