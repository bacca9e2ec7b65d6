package dev.ipg.core.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.PyTorchReference;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The SAE shipped in {@code models/ipg-demo-sae} fits the demo model and reconstructs its activations. */
class ShippedSaeTest {

    @Test
    void shippedSaeFitsTheDemoModelAndReconstructsItsResidualStream() {
        Path root = PyTorchReference.repositoryRoot().resolve("models");
        Sae sae = SaeFiles.load(root.resolve("ipg-demo-sae"), null);
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(root.resolve("ipg-demo"), KernelsProvider.lookup(), pool)) {
            sae.checkIn(m.config());
            assertEquals(Sae.Activation.TOPK, sae.activation());
            assertEquals(16, sae.k());
            int[] ids = new int[40];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 10 + (i * 7) % 60;
            }
            int[] rows = new int[ids.length];
            java.util.Arrays.setAll(rows, i -> i);
            ActivationCache cache = new ActivationCache();
            float[] plain = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length), Hooks.none().read(sae.site(), cache), rows);
            float[] spliced = m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length), new SaeSplice(sae).hooks(), rows);
            assertArrayEquals(plain, spliced, "with the error term the model is unchanged");
            float[] z = cache.get(sae.site(), 0);
            double err = 0;
            double norm = 0;
            for (int t = 0; t < ids.length; t++) {
                Sae.Code c = sae.encode(z, t * sae.dIn());
                float[] zHat = sae.decode(c.f, c);
                for (int j = 0; j < sae.dIn(); j++) {
                    err += Math.pow(zHat[j] - z[t * sae.dIn() + j], 2);
                    norm += Math.pow(z[t * sae.dIn() + j], 2);
                }
            }
            assertTrue(err / norm < 0.2, "relative reconstruction error " + err / norm + " on an arbitrary token sequence");
        }
    }
}
