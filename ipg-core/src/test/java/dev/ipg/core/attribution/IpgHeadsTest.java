package dev.ipg.core.attribution;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IPG over whole heads: along the path every head's values move together, so the path points,
 * the sampled completions and dL/dz are those of hook_z with every coefficient equal, and the
 * IPG score of a head is the sum of the hook_z scores over its head_dim (with the zero baseline
 * and with the mean baseline, which for heads is the mean of hook_z's values).
 */
class IpgHeadsTest {

    @TempDir
    static Path tmp;

    static Parallel pool;
    static Transformer model;

    @BeforeAll
    static void start() {
        pool = Parallel.of(2);
        var spec = new RandomCheckpoint.Spec(Family.QWEN2, 32, 2, 4, 2, 0, 40, 7, 32, DType.F32, false, false, false);
        model = Transformer.load(RandomCheckpoint.write(tmp.resolve("m"), spec, 4), KernelsProvider.lookup(), pool);
    }

    @AfterAll
    static void stop() {
        model.close();
        pool.close();
    }

    static final IpgEstimator.Scorer SCORER = cs -> cs.stream().mapToDouble(c -> {
        double r = 0;
        for (int t : c) {
            r += t == 3 ? 1 : 0;
        }
        return r;
    }).toArray();

    @Test
    void headScoresAreSumsOfHookZScores() {
        int[] prompt = {1, 5, 2};
        int heads = model.config().numHeads();
        int hd = model.config().headDim();
        for (var kind : IpgOptions.BaselineKind.values()) {
            var opt = new IpgOptions(4, 8, 1.0, 1.0, 0, 4, Advantage.RLOO, kind, IpgOptions.SamplingMode.ON_PATH,
                    IpgOptions.Positions.ALL, Quadrature.GAUSS_LEGENDRE, 3);
            Site headSite = new Site(1, Site.Kind.ATTN_HEADS);
            Site zSite = new Site(1, Site.Kind.ATTN_Z);
            float[] hb = null;
            float[] zb = null;
            if (kind == IpgOptions.BaselineKind.MEAN) {
                hb = MeanBaseline.of(model, List.of(prompt, new int[] {4, 4, 0, 6}), List.of(headSite)).bySite().get(headSite);
                zb = MeanBaseline.of(model, List.of(prompt, new int[] {4, 4, 0, 6}), List.of(zSite)).bySite().get(zSite);
                assertArrayEquals(zb, hb, "the mean baseline of heads is hook_z's");
                assertEquals(heads * hd, hb.length);
            }
            var h = new IpgEstimator(model, opt, Set.of(), SCORER).attribute(prompt, headSite, hb, 17);
            var z = new IpgEstimator(model, opt, Set.of(), SCORER).attribute(prompt, zSite, zb, 17);
            assertEquals(heads, h.ipg().length);
            assertEquals(z.jbar0(), h.jbar0(), 0.0, kind + ": the same completions at alpha = 0");
            assertEquals(z.jbar1(), h.jbar1(), 0.0, kind + ": the same completions at alpha = 1");
            double largest = 0;
            for (int head = 0; head < heads; head++) {
                double sum = 0;
                double abs = 0;
                for (int d = 0; d < hd; d++) {
                    sum += z.ipg()[head * hd + d];
                    abs += Math.abs(z.ipg()[head * hd + d]);
                }
                largest = Math.max(largest, Math.abs(h.ipg()[head]));
                assertEquals(sum, h.ipg()[head], 1e-5 * abs + 1e-7, kind + ": head " + head);
            }
            assertTrue(largest > 0, kind + ": every head score is zero");
        }
    }
}
