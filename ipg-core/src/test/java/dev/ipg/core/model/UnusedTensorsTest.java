package dev.ipg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint holding tensors the configured model would not read is refused, unless told to ignore them. */
class UnusedTensorsTest {

    @TempDir
    Path tmp;

    static Transformer load(Path dir, boolean ignoreUnused, Parallel pool) {
        return Transformer.load(dir, KernelsProvider.lookup(), pool, new Transformer.LoadOptions(ignoreUnused));
    }

    static String refusal(Path dir) {
        try (Parallel pool = Parallel.serial()) {
            return assertThrows(IpgException.class, () -> load(dir, false, pool).close()).getMessage();
        }
    }

    @Test
    void fewerLayersInConfigThanInTheCheckpointIsRefused() {
        Path dir = BrokenCheckpoints.withConfig(tmp.resolve("m"), c -> c.put("num_hidden_layers", 3));
        assertEquals(dir + ": tensor model.layers.3.input_layernorm.weight and 8 more are in the checkpoint but not used"
                + " by the model config.json describes (the checkpoint has tensors of layer 3, config.json sets"
                + " num_hidden_layers 3); ignore unused tensors (--ignore-unused-tensors) to load it anyway", refusal(dir));
        try (Parallel pool = Parallel.serial(); Transformer m = load(dir, true, pool)) {
            assertEquals(3, m.config().numLayers());
        }
    }

    @Test
    void aBiasThatConfigDisablesIsRefused() {
        Path dir = BrokenCheckpoints.withExtraTensor(tmp.resolve("m"), "model.layers.0.self_attn.q_proj.bias", 128);
        assertEquals(dir + ": tensor model.layers.0.self_attn.q_proj.bias is in the checkpoint but not used by the model"
                + " config.json describes (config.json disables this bias: attention_bias false, mlp_bias false);"
                + " ignore unused tensors (--ignore-unused-tensors) to load it anyway", refusal(dir));
    }

    @Test
    void anUnknownTensorIsRefusedAndCanBeIgnored() {
        Path dir = BrokenCheckpoints.withExtraTensor(tmp.resolve("m"), "model.extra_projection.weight", 4, 4);
        assertTrue(refusal(dir).startsWith(dir + ": tensor model.extra_projection.weight is in the checkpoint but not used"));
        try (Parallel pool = Parallel.serial(); Transformer m = load(dir, true, pool)) {
            assertEquals(4, m.config().numLayers());
        }
    }

    @Test
    void aStoredCopyOfATiedHeadIsAcceptedAndADifferentOneRefused() {
        Path dir = RandomCheckpoint.write(tmp.resolve("tied"), RandomCheckpoint.Spec.tiny(Family.MISTRAL), 5);
        try (Parallel pool = Parallel.serial(); Transformer m = load(dir, false, pool)) {
            assertTrue(m.config().tieEmbeddings());
        }
        for (boolean same : new boolean[] {true, false}) {
            Path out = tmp.resolve("tied-" + same);
            java.nio.file.Path src = dir.resolve("model.safetensors");
            SafetensorsWriter w = new SafetensorsWriter();
            try (SafetensorsFile f = SafetensorsFile.open(src)) {
                for (String t : f.names()) {
                    w.add(t, values(f, t), f.info(t).shape(), DType.F32);
                }
                float[] head = values(f, "model.embed_tokens.weight");
                if (!same) {
                    head[7] += 1;
                }
                w.add("lm_head.weight", head, f.info("model.embed_tokens.weight").shape(), DType.F32);
            }
            copyConfig(dir, out);
            w.write(out.resolve("model.safetensors"));
            if (same) {
                try (Parallel pool = Parallel.serial(); Transformer m = load(out, false, pool)) {
                    assertTrue(m.weights().lmHead() == m.weights().embed());
                }
            } else {
                assertTrue(refusal(out).contains("lm_head.weight is in the checkpoint but not used by the model config.json"
                        + " describes (config.json ties the output head to the embedding, tie_word_embeddings, but"
                        + " lm_head.weight differs from it)"), refusal(out));
            }
        }
    }

    @Test
    void buffersTransformersSkipsAreNotCounted() {
        Path dir = RandomCheckpoint.write(tmp.resolve("gpt2"), RandomCheckpoint.Spec.tiny(Family.GPT2), 5);
        Path out = tmp.resolve("gpt2-buffers");
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            for (String t : f.names()) {
                w.add(t, values(f, t), f.info(t).shape(), DType.F32);
            }
        }
        w.add("transformer.h.0.attn.bias", new float[16], new long[] {1, 1, 4, 4}, DType.F32);
        w.add("transformer.h.1.attn.masked_bias", new float[] {-1e4f}, new long[] {}, DType.F32);
        copyConfig(dir, out);
        w.write(out.resolve("model.safetensors"));
        try (Parallel pool = Parallel.serial(); Transformer m = load(out, false, pool)) {
            assertEquals(2, m.config().numLayers());
        }
    }

    static float[] values(SafetensorsFile f, String t) {
        var m = f.matrix(t);
        float[] v = new float[(int) m.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = m.getFlat(i);
        }
        return v;
    }

    static void copyConfig(Path from, Path to) {
        try {
            java.nio.file.Files.createDirectories(to);
            java.nio.file.Files.copy(from.resolve("config.json"), to.resolve("config.json"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
