package dev.ipg.core.attribution;

import dev.ipg.core.run.Seeds;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.grad.Interpolation;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On-path IPG samples every path point in shared batches; the completions are those of one
 * generation per point at that point's interpolation and seed (including the extra alpha = 0
 * point of the completeness check), also when the points do not fit in one batch.
 */
class BatchedSamplingTest {

    @TempDir
    Path tmp;

    @Test
    void pathPointsSampledTogetherEqualOneGenerationPerPoint() {
        Path dir = RandomCheckpoint.write(tmp.resolve("m"), RandomCheckpoint.Spec.tiny(Family.LLAMA), 5);
        int[] prompt = {3, 8, 1, 9, 4};
        Site site = Site.parse("blocks.0.hook_resid_post");
        long seed = 77;
        for (int samples : new int[] {3, 40}) {   // 40 x 5 groups exceeds one batch
            IpgOptions opt = new IpgOptions(4, samples, 1.3, 0.95, 0, 7, Advantage.RLOO, IpgOptions.BaselineKind.ZERO,
                    IpgOptions.SamplingMode.ON_PATH, IpgOptions.Positions.ALL, Quadrature.RIEMANN_RIGHT, seed);
            try (Parallel p = Parallel.of(2); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), p)) {
                int w = site.width(m.config());
                IpgEstimator est = new IpgEstimator(m, opt, Set.of(), cs -> cs.stream().mapToDouble(c -> c[0] % 2).toArray());
                var res = est.attribute(prompt, site, null, seed);
                assertEquals(4, res.nodes().size());
                for (int k = 0; k < 4; k++) {
                    var node = res.nodes().get(k);
                    Interpolation ip = Interpolation.at(site, w, node.alpha(), null, 0);
                    var alone = generate(m, prompt, samples, Seeds.derive(seed, k), ip.hooks());
                    for (int j = 0; j < samples; j++) {
                        assertArrayEquals(alone.get(j), node.completions().get(j), "point " + k + " sample " + j);
                    }
                }
                // the alpha = 0 end point: its rewards are those of its own generation
                var zero = generate(m, prompt, samples, Seeds.derive(seed, -1), Interpolation.at(site, w, 0, null, 0).hooks());
                for (int j = 0; j < samples; j++) {
                    assertEquals(zero.get(j)[0] % 2, res.rewards0()[j], "alpha 0 sample " + j);
                }
            }
        }
    }

    private static List<int[]> generate(Transformer m, int[] prompt, int n, long seed, Hooks hooks) {
        var o = new Generator.Options(new SamplingParams(1.3, 0, 0.95, seed), 7, Set.of(), List.of(), null);
        return new Generator(m).generate(Collections.nCopies(n, prompt), o, hooks, null).stream()
                .map(Generator.Completion::tokens).toList();
    }
}
