package dev.ipg.core.attribution;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

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

    /**
     * The mean baseline of {@code sites} kept in {@code file} ({@code baseline.safetensors} of a run
     * directory, tensors named by {@code name}): read back when it exists and was computed over the
     * same number of prompts, computed and written otherwise ({@code announce} is told before).
     *
     * @throws IpgException when the file holds a baseline over another number of prompts
     */
    public static Map<Site, float[]> stored(Path file, Transformer model, List<int[]> prompts, List<Site> sites, Sae sae,
                                            Function<Site, String> name, Consumer<String> announce) {
        Map<Site, float[]> out = new LinkedHashMap<>();
        if (Files.exists(file)) {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                String over = f.metadata().get("ipg.prompts");
                if (over == null || Integer.parseInt(over) != prompts.size()) {
                    throw new IpgException("the mean baseline in " + file + " was computed over " + over + " prompts, this run uses "
                            + prompts.size() + "; use the same --limit or another --out");
                }
                for (Site s : sites) {
                    var mtx = f.matrix(name.apply(s));
                    float[] v = new float[mtx.cols()];
                    mtx.copyRow(0, v, 0);
                    out.put(s, v);
                }
                return out;
            }
        }
        announce.accept("computing the mean baseline over " + prompts.size() + " prompts");
        MeanBaseline mb = of(model, prompts, sites, sae);
        SafetensorsWriter w = new SafetensorsWriter();
        for (Site s : sites) {
            float[] mean = mb.bySite().get(s);
            out.put(s, mean);
            w.add(name.apply(s), mean, new long[] {1, mean.length}, DType.F32);
        }
        w.metadata("ipg.prompts", Integer.toString(prompts.size()));
        w.metadata("ipg.positions", Long.toString(mb.positions()));
        w.write(file);
        return out;
    }
}
