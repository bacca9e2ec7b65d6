package dev.ipg.core.model;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.Checkpoint;
import dev.ipg.core.io.Text;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The check that a checkpoint holds nothing the model would silently leave out: a tensor the
 * model that config.json describes does not read means the two disagree (config.json with fewer
 * layers than stored, a bias it disables, a head it ties), and loading would compute a different
 * model than the one saved. Not counted: the buffers transformers itself skips on load (rotary
 * {@code inv_freq}, GPT-2's causal-mask {@code attn.bias} and {@code attn.masked_bias}) and a
 * stored {@code lm_head.weight} that is byte for byte the tied embedding.
 */
final class UnusedTensors {

    private static final Pattern LAYER = Pattern.compile("^(?:model\\.layers|transformer\\.h|h)\\.(\\d+)\\.");

    private UnusedTensors() {
    }

    static void check(ModelConfig c, Checkpoint ck, Weights w) {
        Set<String> used = w.tensorNames();
        List<String> unused = new ArrayList<>();
        for (String n : ck.names()) {
            if (!used.contains(n) && !isSkippedBuffer(c, n) && !isTiedCopy(c, ck, w, n)) {
                unused.add(n);
            }
        }
        if (unused.isEmpty()) {
            return;
        }
        String first = unused.getFirst();
        String more = unused.size() == 1 ? " is" : " and " + (unused.size() - 1) + " more are";
        throw new IpgException(ck.dir() + ": tensor " + Text.printable(first) + more + " in the checkpoint but not used by the model"
                + " config.json describes" + reason(c, w, unused)
                + "; ignore unused tensors (--ignore-unused-tensors) to load it anyway");
    }

    private static boolean isSkippedBuffer(ModelConfig c, String n) {
        if (n.endsWith(".rotary_emb.inv_freq")) {
            return true;
        }
        return c.family() == Family.GPT2 && (n.endsWith(".attn.bias") || n.endsWith(".attn.masked_bias"))
                && LAYER.matcher(n).find();
    }

    /** A stored LM head of a model whose head is its embedding, holding the same bytes. */
    private static boolean isTiedCopy(ModelConfig c, Checkpoint ck, Weights w, String n) {
        if (!n.equals("lm_head.weight") || !c.tieEmbeddings() || c.isClassifier() || w.lmHead() != w.embed()) {
            return false;
        }
        MemorySegment head = ck.segment(n);
        MemorySegment embed = w.embed().data();
        return ck.info(n).dtype().equals(w.embed().dtype().name()) && head.byteSize() == embed.byteSize()
                && head.mismatch(embed) < 0;
    }

    /** Why the first unused tensors are unused, as far as their names tell. */
    private static String reason(ModelConfig c, Weights w, List<String> unused) {
        int deepest = -1;
        for (String n : unused) {
            Matcher m = LAYER.matcher(n);
            if (m.find() && m.group(1).length() < 9) {
                deepest = Math.max(deepest, Integer.parseInt(m.group(1)));
            }
        }
        if (deepest >= c.numLayers()) {
            return " (the checkpoint has tensors of layer " + deepest + ", config.json sets "
                    + (c.family() == Family.GPT2 ? "n_layer " : "num_hidden_layers ") + c.numLayers() + ")";
        }
        String first = unused.getFirst();
        if (first.equals("lm_head.weight") && c.tieEmbeddings()) {
            return " (config.json ties the output head to the embedding, tie_word_embeddings, but lm_head.weight differs"
                    + " from it)";
        }
        if (first.endsWith(".bias")) {
            return " (config.json disables this bias: attention_bias " + c.qkvBias() + ", mlp_bias " + c.mlpBias() + ")";
        }
        return "";
    }
}
