package dev.ipg.core.attribution;

import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.sae.Sae;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The mean baseline h' ({@code --baseline mean}), one definition for every method that
 * interpolates (IPG, the raw policy gradient, integrated gradients):
 *
 * <pre>
 *   h'_i = (1 / sum_d T_d) sum_d sum_{t &lt; T_d} h_{t,i}(x_d)
 * </pre>
 *
 * the mean activation of component i over every position of every support prompt x_d (the
 * rendered prompt, unmodified model). Prompts are what every method shares: neither sampled
 * completions nor gold solutions enter it.
 *
 * @param bySite    h' per site (d)
 * @param prompts   number of prompts averaged
 * @param positions number of positions averaged (sum of the prompt lengths)
 */
public record MeanBaseline(Map<Site, float[]> bySite, int prompts, long positions) {

    /** What run configurations record as the definition. */
    public static final String DEFINITION = "mean over every position of every support prompt";

    /** The mean baseline of each of {@code sites} over {@code prompts}. */
    public static MeanBaseline of(Transformer model, List<int[]> prompts, List<Site> sites) {
        return of(model, prompts, sites, null);
    }

    /**
     * The mean baseline of each of {@code sites} over {@code prompts}; at the site of {@code sae}
     * (when non-null) the components are its latents, so h' is the mean of the latents f.
     */
    public static MeanBaseline of(Transformer model, List<int[]> prompts, List<Site> sites, Sae sae) {
        Map<Site, double[]> sum = new LinkedHashMap<>();
        for (Site s : sites) {
            sum.put(s, new double[sae != null && sae.site().equals(s) ? sae.dSae() : s.rowWidth(model.config())]);
        }
        long positions = 0;
        for (int[] p : prompts) {
            ActivationCache cache = new ActivationCache();
            Hooks hooks = Hooks.none();
            sites.forEach(s -> hooks.read(s, cache));
            model.forward(Batch.ofSequence(0, 0, p), model.newCache(1, p.length), hooks, new int[0]);
            for (Site s : sites) {
                double[] acc = sum.get(s);
                int width = acc.length;
                float[] a = sae != null && sae.site().equals(s) ? sae.latents(cache.get(s, 0), p.length) : cache.get(s, 0);
                for (int t = 0; t < p.length; t++) {
                    for (int i = 0; i < width; i++) {
                        acc[i] += a[t * width + i];
                    }
                }
            }
            positions += p.length;
        }
        Map<Site, float[]> out = new LinkedHashMap<>();
        for (Site s : sites) {
            double[] acc = sum.get(s);
            float[] mean = new float[acc.length];
            for (int i = 0; i < acc.length; i++) {
                mean[i] = (float) (acc[i] / positions);
            }
            out.put(s, mean);
        }
        return new MeanBaseline(out, prompts.size(), positions);
    }
}
