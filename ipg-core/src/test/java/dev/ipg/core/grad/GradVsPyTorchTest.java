package dev.ipg.core.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.PyTorchReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code grad} = dL/dh at a site (T, d) and {@code scale_grad} = dL/dalpha (d) against PyTorch
 * autograd in float64 (requires_grad only on the site), for every family and every site kind:
 * relative error ||ours - torch|| / ||torch|| <= 1e-3.
 */
class GradVsPyTorchTest {

    @TempDir
    static Path tmp;

    static Parallel pool;

    @BeforeAll
    static void start() {
        pool = Parallel.of(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        Site[] sites = {new Site(0, Site.Kind.RESID_PRE), new Site(0, Site.Kind.ATTN_Z), new Site(1, Site.Kind.RESID_MID),
                new Site(1, Site.Kind.MLP_POST), new Site(0, Site.Kind.RESID_POST)};
        for (Family f : Family.values()) {
            for (Site s : sites) {
                a.add(Arguments.of(f.name(), RandomCheckpoint.Spec.tiny(f), s));
            }
        }
        a.add(Arguments.of("QWEN3-bf16", RandomCheckpoint.Spec.tiny(Family.QWEN3).withDtype(DType.BF16), new Site(0, Site.Kind.RESID_POST)));
        return a.stream();
    }

    static Path checkpoint(String name, RandomCheckpoint.Spec spec) {
        Path dir = tmp.resolve(name);
        if (!dir.resolve("model.safetensors").toFile().exists()) {
            RandomCheckpoint.write(dir, spec, name.hashCode());
        }
        return dir;
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("cases")
    void siteGradientMatchesAutograd(String name, RandomCheckpoint.Spec spec, Site site) {
        Path dir = checkpoint(name, spec);
        int t = 24;
        int from = 5;
        int[] ids = new int[t];
        SplittableRandom r = new SplittableRandom(site.hashCode());
        for (int i = 0; i < t; i++) {
            ids[i] = r.nextInt(spec.vocab());
        }
        Path ref = PyTorchReference.forModel(dir).tokens(ids).gradient(site.toString(), from)
                .run(tmp.resolve(name + "-" + site + ".safetensors"));
        try (Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool); SafetensorsFile exp = SafetensorsFile.open(ref)) {
            int width = site.width(m.config());
            var res = new ReverseMode(m).siteGradients(List.of(new Trajectory(ids, from)),
                    Interpolation.uniform(site, width, 1f), true).getFirst();
            assertEquals(exp.matrix("loss").getFlat(0), res.objective(), 1e-4 * Math.abs(res.objective()), "objective");
            assertRelClose(name + " " + site + " grad", exp.matrix("grad"), res.siteGrad());
            assertRelClose(name + " " + site + " scale_grad", exp.matrix("scale_grad"), res.scaleGrad());
            // scale_grad = sum_t h_t * grad_t (zero baseline)
            float[] sum = new float[width];
            for (int p = 0; p < t; p++) {
                for (int i = 0; i < width; i++) {
                    sum[i] += res.activation()[p * width + i] * res.siteGrad()[p * width + i];
                }
            }
            assertRelClose(name + " " + site + " sum_t h grad", Matrix.of(sum, 1, width), res.scaleGrad());
        }
    }

    static void assertRelClose(String what, Matrix expected, float[] actual) {
        assertEquals(expected.size(), actual.length, what + ": size");
        double num = 0;
        double den = 0;
        for (int i = 0; i < actual.length; i++) {
            double e = expected.getFlat(i);
            num += (actual[i] - e) * (actual[i] - e);
            den += e * e;
        }
        double rel = Math.sqrt(num / Math.max(den, 1e-300));
        assertTrue(den > 0, what + ": reference gradient is all zero");
        assertTrue(rel <= 1e-3, what + ": relative error " + rel);
    }
}
