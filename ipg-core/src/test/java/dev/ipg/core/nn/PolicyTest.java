package dev.ipg.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The kept set and its order against a plain reference: sort every token by probability, cut at top-k and top-p. */
class PolicyTest {

    @Test
    void keptTokensAreTheSortedPrefixWithTiesByIdAndRenormalized() {
        SplittableRandom r = new SplittableRandom(3);
        int v = 500;
        for (int trial = 0; trial < 20; trial++) {
            float[] logits = new float[v];
            for (int i = 0; i < v; i++) {
                // few distinct values, so many ties
                logits[i] = (float) (r.nextInt(12) * (trial % 2 == 0 ? 0.7 : 3.0));
            }
            for (Policy pol : List.of(new Policy(0.6, 0, 0.8), new Policy(1.0, 40, 1.0), new Policy(1.3, 25, 0.5))) {
                float[] scratch = new float[v];
                int[] ids = new int[v + 1];
                float[] probs = new float[v + 1];
                int n = pol.distribution(logits, 0, v, scratch, ids, probs);
                // reference in double
                float max = Float.NEGATIVE_INFINITY;
                for (float x : logits) {
                    max = Math.max(max, x);
                }
                float[] w = new float[v];
                for (int i = 0; i < v; i++) {
                    w[i] = (float) Math.exp((logits[i] - max) / pol.temperature());
                }
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < v; i++) {
                    order.add(i);
                }
                order.sort(Comparator.<Integer>comparingDouble(i -> -w[i]).thenComparingInt(i -> i));
                int k = pol.topK() > 0 ? pol.topK() : v;
                double total = 0;
                for (int i = 0; i < k; i++) {
                    total += w[order.get(i)];
                }
                int kept = 0;
                double cum = 0;
                while (kept < k && (pol.topP() >= 1 || cum < pol.topP() * total)) {
                    cum += w[order.get(kept++)];
                }
                assertEquals(Math.max(1, kept), n, pol + " trial " + trial);
                for (int i = 0; i < n; i++) {
                    assertEquals((int) order.get(i), ids[i], pol + " trial " + trial + " rank " + i);
                    assertEquals(w[order.get(i)] / cum, probs[i], 1e-6, pol + " probability at rank " + i);
                }
            }
        }
    }
}
