package dev.ipg.core.grad;

import static dev.ipg.core.testutil.PyTorchReference.assertRelativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.testutil.PyTorchReference;
import dev.ipg.core.testutil.RandomModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code grad} = dL/dh at a site (T, d) and {@code scale_grad} = dL/dalpha (d) against PyTorch
 * autograd in float64 (requires_grad only on the site), for every family and every site kind:
 * relative error ||ours - torch|| / ||torch|| <= 1e-3.
 */
class GradVsPyTorchTest {

    @RegisterExtension
    static final RandomModels models = new RandomModels();

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

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("cases")
    void siteGradientMatchesAutograd(String name, RandomCheckpoint.Spec spec, Site site) {
        Path dir = models.checkpoint(name, spec, name.hashCode());
        int t = 24;
        int from = 5;
        int[] ids = RandomModels.tokens(t, spec.vocab(), site.hashCode());
        Path ref = PyTorchReference.forModel(dir).tokens(ids).gradient(site.toString(), from)
                .run(models.file(name + "-" + site + ".safetensors"));
        try (Transformer m = Transformer.load(dir, KernelsProvider.lookup(), models.pool()); SafetensorsFile exp = SafetensorsFile.open(ref)) {
            int width = site.width(m.config());
            var res = new ReverseMode(m).siteGradients(List.of(new Trajectory(ids, from)),
                    Interpolation.uniform(site, width, 1f), true).getFirst();
            assertEquals(exp.matrix("loss").getFlat(0), res.objective(), 1e-4 * Math.abs(res.objective()), "objective");
            assertRelativeError(name + " " + site + " grad", exp.matrix("grad"), res.siteGrad(), 1e-3);
            assertRelativeError(name + " " + site + " scale_grad", exp.matrix("scale_grad"), res.scaleGrad(), 1e-3);
            // scale_grad = sum_t h_t * grad_t (zero baseline)
            float[] sum = new float[width];
            for (int p = 0; p < t; p++) {
                for (int i = 0; i < width; i++) {
                    sum[i] += res.activation()[p * width + i] * res.siteGrad()[p * width + i];
                }
            }
            assertRelativeError(name + " " + site + " sum_t h grad", Matrix.of(sum, 1, width), res.scaleGrad(), 1e-3);
        }
    }
}
