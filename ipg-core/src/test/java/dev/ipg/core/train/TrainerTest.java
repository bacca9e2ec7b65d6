package dev.ipg.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.io.HeapTensors;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class TrainerTest {

    static final Parallel pool = Parallel.of(2);

    @AfterAll
    static void close() {
        pool.close();
    }

    static ModelConfig tiny() throws Exception {
        return ModelConfig.fromJson(new ObjectMapper().readTree("""
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 32,
                 "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                 "vocab_size": 24, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "tie_word_embeddings": false}
                """));
    }

    /** Counting sequences: a random start s, then s+1, s+2, ... modulo 20; the first token is the prompt. */
    static List<Trajectory> counting(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Trajectory> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int s = rng.nextInt(20);
            int len = 8 + rng.nextInt(9);
            int[] t = new int[len];
            for (int j = 0; j < len; j++) {
                t[j] = (s + j) % 20;
            }
            out.add(new Trajectory(t, 1));
        }
        return out;
    }

    static Trainer.Options options(int steps, int batch) {
        return new Trainer.Options(steps, batch, new LrSchedule(1e-2, 1e-3, Math.min(3, steps), steps), AdamW.Hyper.defaults(), 1.0, 7, 1, 0);
    }

    @Test
    void aShortRunReducesTheLoss() throws Exception {
        ModelConfig cfg = tiny();
        Trainer t = new Trainer(cfg, Trainer.initialize(cfg, 1), KernelsProvider.lookup(), pool);
        List<Trajectory> train = counting(240, 2);
        List<Trajectory> heldOut = counting(40, 3);
        double before = t.loss(heldOut, 20);
        // at initialization every token is nearly equally likely
        assertEquals(Math.log(24), before, 0.05);
        List<Trainer.Progress> seen = new ArrayList<>();
        Trainer.Result r = t.train(train, heldOut, options(30, 8), new Trainer.Listener() {
            @Override
            public void progress(Trainer.Progress p) {
                seen.add(p);
            }
        }, null);
        double after = t.loss(heldOut, 20);
        assertTrue(after < 0.5 * before, "held-out loss " + before + " -> " + after);
        assertEquals(30, r.curve().size());
        assertEquals(seen, r.curve());
        assertTrue(r.curve().getLast().loss() < 0.6 * r.curve().getFirst().loss());
        assertEquals(1, r.evaluations().size());
        assertEquals(after, r.evaluations().getFirst().heldOutLoss(), 1e-9);
        assertEquals(30, r.evaluations().getFirst().step());
    }

    @Test
    void theFirstReportedLossIsTheMeanNegativeLogLikelihoodOfTheBatch() throws Exception {
        ModelConfig cfg = tiny();
        Trainer t = new Trainer(cfg, Trainer.initialize(cfg, 4), KernelsProvider.lookup(), pool);
        List<Trajectory> train = counting(6, 5);
        double expected = t.loss(train, 6); // one batch holds every example
        Trainer.Result r = t.train(train, List.of(), options(1, 6), new Trainer.Listener() {
        }, null);
        assertEquals(expected, r.curve().getFirst().loss(), 1e-6);
        long tokens = train.stream().mapToLong(x -> x.tokens().length).sum();
        assertEquals(tokens, r.tokens());
    }

    @Test
    void theSameSeedGivesTheSameWeights() throws Exception {
        ModelConfig cfg = tiny();
        List<Trajectory> train = counting(50, 2);
        HeapTensors a = Trainer.initialize(cfg, 9);
        HeapTensors b = Trainer.initialize(cfg, 9);
        new Trainer(cfg, a, KernelsProvider.lookup(), pool).train(train, List.of(), options(5, 4), new Trainer.Listener() {
        }, null);
        try (Parallel one = Parallel.of(1)) {
            new Trainer(cfg, b, KernelsProvider.lookup(), one).train(train, List.of(), options(5, 4), new Trainer.Listener() {
            }, null);
        }
        for (String name : a.tensors().keySet()) {
            assertArrayEquals(a.values(name), b.values(name), name);
        }
        HeapTensors fresh = Trainer.initialize(cfg, 9);
        assertTrue(fresh.values("model.layers.0.self_attn.q_proj.weight")[0] != a.values("model.layers.0.self_attn.q_proj.weight")[0]);
    }

    @Test
    void aRunResumedFromACheckpointEndsExactlyAsAnUninterruptedOne() throws Exception {
        ModelConfig cfg = tiny();
        List<Trajectory> train = counting(30, 2); // 4 per step: the resumed run starts inside the second epoch
        var o = new Trainer.Options(12, 4, new LrSchedule(1e-2, 1e-3, 3, 12), AdamW.Hyper.defaults(), 1.0, 7, 2, 5, 4);
        HeapTensors full = Trainer.initialize(cfg, 9);
        List<HeapTensors> savedWeights = new ArrayList<>();
        List<Trainer.Checkpoint> saved = new ArrayList<>();
        Trainer.Result uninterrupted = new Trainer(cfg, full, KernelsProvider.lookup(), pool).train(train, counting(5, 4), o,
                new Trainer.Listener() {
                    @Override
                    public void checkpoint(Trainer.Checkpoint c) {
                        // deep copies: the arrays keep changing after this call
                        HeapTensors copy = new HeapTensors();
                        full.tensors().forEach((n, t) -> copy.put(n, t.values().clone(), t.shape()));
                        savedWeights.add(copy);
                        java.util.Map<String, float[]> m = new java.util.LinkedHashMap<>();
                        java.util.Map<String, float[]> v = new java.util.LinkedHashMap<>();
                        c.optimizer().m().forEach((n, a) -> m.put(n, a.clone()));
                        c.optimizer().v().forEach((n, a) -> v.put(n, a.clone()));
                        saved.add(new Trainer.Checkpoint(c.step(), new AdamW.State(c.optimizer().steps(), m, v), c.curve(),
                                c.evaluations(), c.tokens(), c.seconds()));
                    }
                }, null);
        assertEquals(List.of(4, 8), saved.stream().map(Trainer.Checkpoint::step).toList()); // not after the last step
        HeapTensors resumed = savedWeights.get(1);
        Trainer.Result r = new Trainer(cfg, resumed, KernelsProvider.lookup(), pool).train(train, counting(5, 4), o,
                new Trainer.Listener() {
                }, null, saved.get(1));
        for (String name : full.tensors().keySet()) {
            assertArrayEquals(full.values(name), resumed.values(name), name);
        }
        assertEquals(uninterrupted.tokens(), r.tokens());
        assertEquals(uninterrupted.curve().stream().map(Trainer.Progress::loss).toList(),
                r.curve().stream().map(Trainer.Progress::loss).toList());
        assertEquals(uninterrupted.evaluations(), r.evaluations());
    }

    @Test
    void initializationFollowsTheHuggingFaceRecipe() throws Exception {
        ModelConfig cfg = ModelConfig.fromJson(new ObjectMapper().readTree("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 256,
                 "num_hidden_layers": 8, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100}
                """));
        HeapTensors w = Trainer.initialize(cfg, 3);
        assertEquals(0.02, std(w.values("model.layers.2.mlp.up_proj.weight")), 0.02 * 0.03);
        assertEquals(0.02, std(w.values("model.embed_tokens.weight")), 0.02 * 0.05);
        assertEquals(0.02 / 4, std(w.values("model.layers.5.mlp.down_proj.weight")), 0.005 * 0.03); // 0.02 / sqrt(2 * 8)
        assertEquals(0.02 / 4, std(w.values("model.layers.0.self_attn.o_proj.weight")), 0.005 * 0.05);
        for (float x : w.values("model.layers.7.post_attention_layernorm.weight")) {
            assertEquals(1f, x);
        }
        assertEquals(8 * 9 + 3, w.tensors().size()); // 9 tensors per block, embedding, final norm, LM head
        assertTrue(Trainer.decayed(w).contains("lm_head.weight"));
        assertTrue(Trainer.decayed(w).contains("model.layers.3.mlp.gate_proj.weight"));
        assertTrue(!Trainer.decayed(w).contains("model.embed_tokens.weight"));
        assertTrue(!Trainer.decayed(w).contains("model.norm.weight"));
        assertEquals(cfg.parameterCount(), w.tensors().values().stream().mapToLong(t -> t.values().length).sum());
    }

    static double std(float[] v) {
        double s = 0;
        double s2 = 0;
        for (float x : v) {
            s += x;
            s2 += (double) x * x;
        }
        double m = s / v.length;
        return Math.sqrt(s2 / v.length - m * m);
    }
}
