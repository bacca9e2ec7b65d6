package dev.ipg.core.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.PyTorchReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reward-model signal on a random LlamaForSequenceClassification checkpoint: its score equals
 * score.weight · RMSNorm(last hidden state), with the hidden state from the independent PyTorch
 * reference run on the same body, and the norm and dot product computed here in double.
 */
class RewardModelTest {

    @TempDir
    Path tmp;

    @Test
    void scoresTheLastTokenWithTheClassificationHead() throws IOException {
        var spec = new RandomCheckpoint.Spec(Family.LLAMA, 32, 2, 4, 2, 0, 48, 128, 64, DType.F32, true, false, false);
        Path causal = RandomCheckpoint.write(tmp.resolve("causal"), spec, 5);
        Path rm = tmp.resolve("rm");
        Files.createDirectories(rm);
        Files.writeString(rm.resolve("config.json"), Files.readString(causal.resolve("config.json"))
                .replace("LlamaForCausalLM", "LlamaForSequenceClassification").replace("\"model_type\"", "\"num_labels\" : 1, \"model_type\""));
        float[] score = new float[32];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 32; i++) {
            score[i] = (float) (r.nextDouble() - 0.5);
        }
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(causal.resolve("model.safetensors"))) {
            for (String n : f.names()) {
                Matrix m = f.matrix(n);
                float[] v = new float[(int) m.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = m.getFlat(i);
                }
                w.add(n, v, f.info(n).shape(), DType.F32);
            }
        }
        w.add("score.weight", score, new long[] {1, 32}, DType.F32);
        w.write(rm.resolve("model.safetensors"));
        // a tokenizer (its ids within the model's 128) is needed to load the signal; scoring here uses token ids directly
        Path tokDir = PyTorchReference.repositoryRoot().resolve("models").resolve("ipg-demo");
        Files.copy(tokDir.resolve("tokenizer.json"), rm.resolve("tokenizer.json"));
        Files.copy(tokDir.resolve("tokenizer_config.json"), rm.resolve("tokenizer_config.json"));

        int[] ids = {3, 17, 42, 8, 96, 0, 11};
        Path ref = PyTorchReference.forModel(causal).tokens(ids).sites("blocks.1.hook_resid_post").run(tmp.resolve("ref.safetensors"));
        double expected;
        try (SafetensorsFile f = SafetensorsFile.open(ref); SafetensorsFile c = SafetensorsFile.open(causal.resolve("model.safetensors"))) {
            Matrix h = f.matrix("blocks.1.hook_resid_post");
            Matrix norm = c.matrix("model.norm.weight");
            int last = ids.length - 1;
            double ss = 0;
            for (int i = 0; i < 32; i++) {
                ss += (double) h.get(last, i) * h.get(last, i);
            }
            double inv = 1 / Math.sqrt(ss / 32 + 1e-6);
            expected = 0;
            for (int i = 0; i < 32; i++) {
                expected += h.get(last, i) * inv * norm.getFlat(i) * score[i];
            }
        }
        try (RewardModel model = (RewardModel) Signals.parse("reward-model:" + rm)) {
            assertEquals(expected, model.score(ids), 1e-4);
            assertEquals("reward-model:" + rm, model.spec());
            // the conversation goes through the reward model's chat template
            String text = model.text(new Sample("x", "What is 2 + 2?", "4", 1, "4"));
            assertTrue(text.contains("<|im_start|>user\nWhat is 2 + 2?<|im_end|>") && text.contains("<|im_start|>assistant\n"), text);
        }
        // on the caller's pool (its --threads): the same score (the kernels do not depend on the
        // thread count), and the pool is the caller's to close
        try (Parallel pool = Parallel.of(2)) {
            double own;
            try (RewardModel model = (RewardModel) Signals.parse("reward-model:" + rm)) {
                own = model.score(ids);
            }
            try (RewardModel model = (RewardModel) Signals.parse("reward-model:" + rm, pool)) {
                assertEquals(2, model.threads());
                assertEquals(own, model.score(ids));
            }
            int[] ran = new int[1];
            pool.forRange(4, 1, (a, b) -> {
                synchronized (ran) {
                    ran[0] += b - a;
                }
            });
            assertEquals(4, ran[0], "the shared pool still runs after the signal is closed");
        }
        var e = assertThrows(IpgException.class, () -> Signals.parse("reward-model:" + causal));
        assertTrue(e.getMessage().contains("not a ...ForSequenceClassification"), e.getMessage());
    }
}
