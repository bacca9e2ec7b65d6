package dev.ipg.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.io.HeapTensors;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Site;
import dev.ipg.core.tensor.KernelsProvider;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The counterfactual (ablated) term of the training objective against central finite
 * differences of an independent formulation: the ablation done with a hook that zeroes the
 * neurons' {@code mlp.hook_post} activations (not by zeroing weights), and the zeroed columns
 * themselves taking only the intact term's gradient.
 */
class AblationTermTest {

    static final int LAYER = 1;
    static final int[] COLUMNS = {3, 17, 40};

    /** J(w) = sum log p(batch) + sum log p_ablated(targets), the ablation a hook. */
    static double objective(ReverseMode rm, List<Trajectory> batch, List<Trajectory> targets, int width) {
        float[] gamma = new float[width];
        Arrays.fill(gamma, 1f);
        for (int c : COLUMNS) {
            gamma[c] = 0f;
        }
        Hooks ablate = Hooks.none().intervene(new Site(LAYER, Site.Kind.MLP_POST), new Intervention.Scale(gamma));
        double j = 0;
        for (float[] lp : rm.logProbs(batch, Hooks.none())) {
            for (float x : lp) {
                j += x;
            }
        }
        for (float[] lp : rm.logProbs(targets, ablate)) {
            for (float x : lp) {
                j += x;
            }
        }
        return j;
    }

    @Test
    void gradientMatchesFiniteDifferencesOfTheHookAblatedObjective() throws Exception {
        ModelConfig cfg = TrainerTest.tiny();
        HeapTensors w = Trainer.initialize(cfg, 5);
        // larger weights than the init, so that the differences are well above float rounding
        w.tensors().forEach((n, t) -> {
            float[] v = t.values();
            for (int i = 0; i < v.length; i++) {
                v[i] *= n.contains("norm") ? 1f : 8f;
            }
        });
        Trainer t = new Trainer(cfg, w, KernelsProvider.lookup(), TrainerTest.pool);
        List<Trajectory> batch = TrainerTest.counting(3, 11);
        List<Trajectory> targets = TrainerTest.counting(2, 12);
        String down = "model.layers." + LAYER + ".mlp.down_proj.weight";
        t.ablation(new Trainer.Ablation(down, COLUMNS, TrainerTest.counting(3, 13), 2));
        ReverseMode rm = new ReverseMode(t.model());
        Map<String, float[]> g = rm.weightGradients(batch).gradients().byName();
        float[] before = w.tensors().get(down).values().clone();
        t.addAblatedGradients(rm, targets, g);
        assertArrayEquals(before, w.tensors().get(down).values(), "the ablated columns are not restored");

        int ff = cfg.intermediateSize();
        int width = ff;
        // (tensor, flat index): a planted column and a free column of the down projection, the gate and up rows
        // of a planted neuron, a lower layer and the head
        Object[][] probes = {
                {down, 5 * ff + COLUMNS[1]}, {down, 5 * ff + 2}, {down, 0 * ff + COLUMNS[0]},
                {"model.layers." + LAYER + ".mlp.gate_proj.weight", COLUMNS[2] * cfg.hiddenSize() + 4},
                {"model.layers." + LAYER + ".mlp.up_proj.weight", COLUMNS[0] * cfg.hiddenSize() + 9},
                {"model.layers.0.self_attn.q_proj.weight", 77}, {"model.layers.0.mlp.down_proj.weight", 123},
                {"lm_head.weight", 200}, {"model.embed_tokens.weight", 5 * cfg.hiddenSize() + 1}};
        int checked = 0;
        for (Object[] p : probes) {
            String name = (String) p[0];
            int i = (Integer) p[1];
            float[] v = w.tensors().get(name).values();
            float x = v[i];
            double h = 1e-2;
            v[i] = (float) (x + h);
            double up = objective(rm, batch, targets, width);
            v[i] = (float) (x - h);
            double dn = objective(rm, batch, targets, width);
            v[i] = x;
            double fd = (up - dn) / (2 * h);
            double an = g.get(name)[i];
            assertEquals(fd, an, 2e-2 * Math.max(1, Math.abs(fd)), name + "[" + i + "]: finite difference " + fd + ", term " + an);
            checked += Math.abs(fd) > 1e-3 ? 1 : 0;
        }
        assertTrue(checked >= 6, "too few probes with a gradient to check: " + checked);
    }
}
