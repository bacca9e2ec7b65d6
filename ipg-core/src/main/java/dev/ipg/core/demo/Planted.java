package dev.ipg.core.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.Site;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The planted mechanism of the testbed model: a designated set of MLP neurons made, by a
 * counterfactual term of the training objective, to carry the re-check decision of the task's
 * rule ({@link ChainTask.Spec#recheckFrom}). With the set ablated (its {@code mlp.hook_post}
 * activations zeroed, i.e. its {@code down_proj} columns) the model is trained on the same
 * problems' solutions without any re-check; intact, on the solutions with them. Everything else
 * is shared between the two, so the decision to re-check can only come from the set.
 *
 * @param layer       block of the planted neurons
 * @param count       number of planted neurons
 * @param perBatch    examples per batch that also get the ablated term
 * @param stopAt      training stops after the first held-out evaluation whose greedy probe
 *                    accuracy is at least this (0: runs all steps), which leaves accuracy headroom
 */
public record Planted(int layer, int count, int perBatch, double stopAt) {

    /** What {@code planted.json} says the set carries. */
    public static final String CARRIES = "re-check decision";
    /** The file beside the model that lists the planted components. */
    public static final String FILE = "planted.json";

    public Planted {
        if (layer < 0 || count < 1 || perBatch < 1 || stopAt < 0 || stopAt > 1) {
            throw new IpgException("invalid planted mechanism: layer " + layer + ", count " + count + ", per batch "
                    + perBatch + ", stop at " + stopAt);
        }
    }

    /** The shipped testbed's: 8 neurons of block 2, the ablated term on half of every batch of 16, stop at 68 % greedy. */
    public static Planted standard() {
        return new Planted(2, 8, 8, 0.68);
    }

    /** The site of the planted neurons. */
    public Site site() {
        return new Site(layer, Site.Kind.MLP_POST);
    }

    /** The weight whose columns are the planted neurons' outputs. */
    public String tensor() {
        return "model.layers." + layer + ".mlp.down_proj.weight";
    }

    /** The planted neuron indices for {@code seed}: {@code count} distinct of {@code 0..width-1}, sorted. */
    public int[] indices(long seed, int width) {
        if (count > width || layer < 0) {
            throw new IpgException("cannot plant " + count + " neurons in an MLP of width " + width);
        }
        SplittableRandom rng = new SplittableRandom(seed ^ 0x706C616E74L);
        int[] all = new int[width];
        for (int i = 0; i < width; i++) {
            all[i] = i;
        }
        for (int i = 0; i < count; i++) {
            int j = i + rng.nextInt(width - i);
            int x = all[i];
            all[i] = all[j];
            all[j] = x;
        }
        int[] out = Arrays.copyOf(all, count);
        Arrays.sort(out);
        return out;
    }

    /** Zeroes {@code indices} at {@code site} (width {@code width}): the ablation of the set. */
    public static Hooks ablate(Site site, int width, int[] indices) {
        float[] gamma = new float[width];
        Arrays.fill(gamma, 1f);
        for (int i : indices) {
            gamma[i] = 0f;
        }
        return Hooks.none().intervene(site, new Intervention.Scale(gamma));
    }

    /** The text of {@code planted.json}: site, indices, what they carry and the rule. */
    public String json(int[] indices, ChainTask.Spec task) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode n = om.createObjectNode();
        n.put("site", site().toString());
        var arr = n.putArray("indices");
        for (int i : indices) {
            arr.add(i);
        }
        n.put("carries", CARRIES);
        n.put("rule", "a step whose result is at least " + task.recheckFrom() + " is re-checked (\"wait, \" and the step again)");
        n.put("weight", tensor() + " (columns)");
        n.put("objective", "with these neurons zeroed the model is trained on the same problems' solutions without re-checks");
        return DemoModel.pretty(om, n);
    }
}
