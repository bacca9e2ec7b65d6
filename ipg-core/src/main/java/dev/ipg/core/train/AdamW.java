package dev.ipg.core.train;

import dev.ipg.core.IpgException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), as {@code torch.optim.AdamW} computes
 * it. For each parameter p with gradient g of the loss, at step t = 1, 2, ...:
 * <pre>
 *   p &lt;- p * (1 - lr * wd)                      // only parameters in the decay set
 *   m &lt;- beta1 * m + (1 - beta1) * g
 *   v &lt;- beta2 * v + (1 - beta2) * g^2
 *   p &lt;- p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 * </pre>
 * Parameters are updated in place, so a model bound to the arrays sees the new values. Which
 * parameters decay is the caller's choice; {@link Trainer} decays the projection matrices and
 * the LM head but not norm gains or the token embedding (the usual GPT/Llama recipe).
 */
public final class AdamW {

    /**
     * @param beta1       decay of the first moment
     * @param beta2       decay of the second moment
     * @param eps         added to the root of the second moment
     * @param weightDecay decoupled decay coefficient (multiplied by the learning rate)
     */
    public record Hyper(double beta1, double beta2, double eps, double weightDecay) {
        public Hyper {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0) || !(weightDecay >= 0)) {
                throw new IpgException("AdamW needs 0 <= beta1, beta2 < 1, eps > 0 and weight decay >= 0, got beta1 "
                        + beta1 + ", beta2 " + beta2 + ", eps " + eps + ", weight decay " + weightDecay);
            }
        }

        /** beta1 0.9, beta2 0.95, eps 1e-8, weight decay 0.1. */
        public static Hyper defaults() {
            return new Hyper(0.9, 0.95, 1e-8, 0.1);
        }
    }

    /**
     * The optimizer's state: steps taken and both moments by parameter name. From {@link #state()}
     * the arrays are the live ones (copy them before the next step to keep them).
     */
    public record State(int steps, Map<String, float[]> m, Map<String, float[]> v) {
    }

    private final Hyper hyper;
    private final Map<String, float[]> params;
    private final Set<String> decay;
    private final Map<String, float[]> m = new LinkedHashMap<>();
    private final Map<String, float[]> v = new LinkedHashMap<>();
    private int t;

    /**
     * @param params parameters by name (updated in place)
     * @param decay  names of the parameters that receive weight decay
     */
    public AdamW(Map<String, float[]> params, Set<String> decay, Hyper hyper) {
        this.hyper = hyper;
        this.params = new LinkedHashMap<>(params);
        this.decay = Set.copyOf(decay);
        for (String d : decay) {
            if (!params.containsKey(d)) {
                throw new IllegalArgumentException("decay names unknown parameter " + d);
            }
        }
        params.forEach((name, p) -> {
            m.put(name, new float[p.length]);
            v.put(name, new float[p.length]);
        });
    }

    /** The live state (see {@link State}). */
    public State state() {
        return new State(t, java.util.Collections.unmodifiableMap(m), java.util.Collections.unmodifiableMap(v));
    }

    /** Continues from a saved state: copies its moments and step count. */
    public void restore(State s) {
        for (String name : params.keySet()) {
            float[] sm = s.m().get(name);
            float[] sv = s.v().get(name);
            if (sm == null || sv == null || sm.length != m.get(name).length || sv.length != v.get(name).length) {
                throw new IpgException("optimizer state lacks moments of the right size for " + name);
            }
            System.arraycopy(sm, 0, m.get(name), 0, sm.length);
            System.arraycopy(sv, 0, v.get(name), 0, sv.length);
        }
        t = s.steps();
    }

    /** Steps taken so far. */
    public int steps() {
        return t;
    }

    /**
     * One update with learning rate {@code lr}; {@code grads} holds the gradient of the loss (to
     * be minimized) for every parameter, by name.
     */
    public void step(Map<String, float[]> grads, double lr) {
        t++;
        double b1 = hyper.beta1();
        double b2 = hyper.beta2();
        double bc1 = 1 - Math.pow(b1, t);
        double bc2 = 1 - Math.pow(b2, t);
        for (var e : params.entrySet()) {
            String name = e.getKey();
            float[] p = e.getValue();
            float[] g = grads.get(name);
            if (g == null || g.length != p.length) {
                throw new IllegalArgumentException("gradient for " + name + " is missing or has the wrong size");
            }
            float[] mm = m.get(name);
            float[] vv = v.get(name);
            double shrink = decay.contains(name) ? 1 - lr * hyper.weightDecay() : 1;
            for (int i = 0; i < p.length; i++) {
                double gi = g[i];
                double mi = b1 * mm[i] + (1 - b1) * gi;
                double vi = b2 * vv[i] + (1 - b2) * gi * gi;
                mm[i] = (float) mi;
                vv[i] = (float) vi;
                double upd = (mi / bc1) / (Math.sqrt(vi / bc2) + hyper.eps());
                p[i] = (float) (p[i] * shrink - lr * upd);
            }
        }
    }
}
