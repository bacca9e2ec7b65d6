package dev.ipg.core.model;

import static dev.ipg.core.testutil.PyTorchReference.assertMaxAbsDiff;

import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.testutil.PyTorchReference;
import dev.ipg.core.testutil.RandomModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Logits and every hook site of random checkpoints of each family against the independent
 * float64 PyTorch implementation of the Hugging Face equations (hf_reference.py).
 *
 * <p>Tolerance: max |difference| <= 1e-4 on logits (magnitude ~5) and sites, for F32, BF16 and
 * F16 weights alike: both sides widen the stored 16-bit weights exactly to float, so the only
 * difference is float32 versus float64 arithmetic.
 */
class ModelVsPyTorchTest {

    static final float TOL = 1e-4f;

    @RegisterExtension
    static final RandomModels models = new RandomModels();

    static Stream<Arguments> checkpoints() {
        List<Arguments> a = new ArrayList<>();
        for (Family f : Family.values()) {
            a.add(Arguments.of(f.name() + "-f32", RandomCheckpoint.Spec.tiny(f)));
        }
        a.add(Arguments.of("LLAMA-bf16", RandomCheckpoint.Spec.tiny(Family.LLAMA).withDtype(DType.BF16)));
        a.add(Arguments.of("QWEN2-f16", RandomCheckpoint.Spec.tiny(Family.QWEN2).withDtype(DType.F16)));
        a.add(Arguments.of("QWEN3-bf16", RandomCheckpoint.Spec.tiny(Family.QWEN3).withDtype(DType.BF16)));
        a.add(Arguments.of("GPT2-no-prefix", RandomCheckpoint.Spec.tiny(Family.GPT2).withGpt2Prefix(false)));
        return a.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void logitsAndSitesMatchPyTorch(String name, RandomCheckpoint.Spec spec) {
        Path dir = models.checkpoint(name, spec, name.hashCode());
        int t = 40;   // longer than llama3's original context of 32 in the fixture
        int[] ids = RandomModels.tokens(t, spec.vocab(), name.hashCode());
        int last = spec.layers() - 1;
        List<Site> sites = new ArrayList<>();
        for (Site.Kind k : EnumSet.range(Site.Kind.RESID_PRE, Site.Kind.RESID_POST)) {
            sites.add(new Site(0, k));
            sites.add(new Site(last, k));
        }
        Path ref = PyTorchReference.forModel(dir).tokens(ids)
                .sites(sites.stream().map(Site::toString).toArray(String[]::new))
                .run(models.file(name + "-ref.safetensors"));

        try (Transformer m = Transformer.load(dir, KernelsProvider.lookup(), models.pool());
             SafetensorsFile expected = SafetensorsFile.open(ref)) {
            ActivationCache cache = new ActivationCache();
            Hooks hooks = Hooks.none();
            sites.forEach(s -> hooks.read(s, cache));
            int[] all = new int[t];
            Arrays.setAll(all, i -> i);
            float[] logits = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, t), hooks, all);
            assertMaxAbsDiff(name + " logits", expected.matrix("logits"), logits, TOL);
            for (Site s : sites) {
                assertMaxAbsDiff(name + " " + s, expected.matrix(s.toString()), cache.get(s, 0), TOL);
            }
        }
    }
}
