package dev.ipg.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.generate.GenerationDefaults;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoRecipeTest {

    @TempDir
    Path tmp;

    static DemoRecipe.Options tiny() {
        return new DemoRecipe.Options(new DemoModel(32, 1, 2, 1, 64, 128, 256), ChainTask.Spec.standard(), 0, 20, 12, 6, 4,
                2e-3, 1e-4, 2, 0.1, 1.0, 5, 3, 4, 0.6, DType.F32);
    }

    @Test
    void writesAHuggingFaceDirectoryThatLoadsThroughTheNormalPath() throws Exception {
        Path out = tmp.resolve("demo");
        List<String> stages = new ArrayList<>();
        DemoRecipe.Report r;
        try (Parallel pool = Parallel.of(2)) {
            r = DemoRecipe.build(out, tiny(), KernelsProvider.lookup(), pool, new DemoRecipe.Listener() {
                @Override
                public void stage(String message) {
                    stages.add(message);
                }
            }, "ipg train-demo --out DIR --steps 6");
            for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                    "generation_config.json", "README.md", "train.jsonl", "support.jsonl", "eval.jsonl")) {
                assertTrue(Files.isRegularFile(out.resolve(f)), f);
            }
            try (Stream<Path> s = Files.list(tmp)) {
                assertEquals(List.of(out), s.toList(), "no temporary directory is left behind");
            }
            assertTrue(Files.size(out.resolve("model.safetensors")) <= 20_000_000);
            try (Transformer m = Transformer.load(out, KernelsProvider.lookup(), pool); Tokenizer tok = Tokenizer.load(out)) {
                assertEquals(Family.LLAMA, m.config().family());
                assertEquals(32, m.config().hiddenSize());
                assertEquals(128, m.config().vocabSize());
                assertEquals(List.of(CharVocabulary.IM_END), m.config().eosTokenIds());
                // the recipe's reported greedy accuracy is that of the written files
                DemoData d = DemoData.generate(new ChainTask(ChainTask.Spec.standard()), 5, 24, 20, 12);
                var again = DemoEval.run(m, tok, d.eval(), SamplingParams.greedy(), DemoRecipe.MAX_NEW_TOKENS, 5);
                assertEquals(r.greedy().completions(), again.completions());
                assertEquals(r.greedy().correct(), again.correct());
            }
        }
        GenerationDefaults g = GenerationDefaults.load(out);
        assertEquals(List.of(CharVocabulary.IM_END, CharVocabulary.END_OF_TEXT), g.eosTokenIds());
        assertEquals(0.6, g.temperature());
        Dataset support = Dataset.load(out.resolve("support.jsonl"));
        Dataset eval = Dataset.load(out.resolve("eval.jsonl"));
        Dataset train = Dataset.load(out.resolve("train.jsonl"));
        assertEquals(20, support.size());
        assertEquals(12, eval.size());
        assertEquals(24, train.size()); // steps x batch
        assertTrue(Dataset.disjoint(support, eval).isDisjoint());
        assertTrue(Dataset.disjoint(train, eval).isDisjoint());
        assertTrue(Dataset.disjoint(train, support).isDisjoint());
        assertEquals(6, r.training().curve().getLast().step());
        assertEquals(List.of(3, 6), r.training().evaluations().stream().map(e -> e.step()).toList());
        assertTrue(r.training().evaluations().getFirst().metrics().containsKey("greedy_accuracy"));
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(card.contains("ipg train-demo --out DIR --steps 6"), card);
        assertTrue(card.contains("seed 5"), card);
        assertTrue(card.contains(String.format(java.util.Locale.ROOT, "(%d/12)", r.greedy().correct())), card);
        assertTrue(stages.getFirst().startsWith("generating"), stages.toString());
        assertTrue(card.contains(String.format(java.util.Locale.ROOT, "first 50 eval problems: %d/12", r.greedy().correct())), card);
        assertEquals(r.greedy().correct(), r.greedy().right().stream().filter(b -> b).count());
    }

    @Test
    void aKilledBuildResumesFromItsCheckpointToTheSameModel() throws Exception {
        DemoRecipe.Options o = new DemoRecipe.Options(new DemoModel(16, 1, 2, 1, 32, 128, 256), ChainTask.Spec.standard(), 40,
                10, 6, 2 * DemoRecipe.CHECKPOINT_EVERY + 20, 2, 2e-3, 1e-4, 2, 0.1, 1.0, 5, 0, 0, 0.6, DType.F32);
        try (Parallel pool = Parallel.of(2)) {
            Path straight = tmp.resolve("straight");
            DemoRecipe.Report expected = DemoRecipe.build(straight, o, KernelsProvider.lookup(), pool, new DemoRecipe.Listener() {
            }, "cmd");
            Path out = tmp.resolve("resumed");
            class Killed extends RuntimeException {
            }
            assertThrows(Killed.class, () -> DemoRecipe.build(out, o, KernelsProvider.lookup(), pool, new DemoRecipe.Listener() {
                @Override
                public void checkpoint(dev.ipg.core.train.Trainer.Checkpoint c) {
                    if (c.step() == 2 * DemoRecipe.CHECKPOINT_EVERY) {
                        throw new Killed();
                    }
                }
            }, "cmd"));
            Path partial = tmp.resolve(".resumed.partial");
            assertTrue(Files.isRegularFile(partial.resolve(DemoRecipe.STATE_FILE)));
            assertTrue(!Files.exists(out));
            List<String> stages = new ArrayList<>();
            DemoRecipe.Report r = DemoRecipe.build(out, o, KernelsProvider.lookup(), pool, new DemoRecipe.Listener() {
                @Override
                public void stage(String message) {
                    stages.add(message);
                }
            }, "cmd");
            assertTrue(stages.stream().anyMatch(m -> m.startsWith("resuming from the checkpoint at step 200")), stages.toString());
            assertTrue(!Files.exists(partial));
            assertTrue(!Files.exists(out.resolve(DemoRecipe.STATE_FILE)));
            assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")), Files.readAllBytes(out.resolve("model.safetensors")));
            assertEquals(expected.greedy().completions(), r.greedy().completions());
            assertEquals(expected.training().curve().stream().map(p -> p.loss()).toList(),
                    r.training().curve().stream().map(p -> p.loss()).toList());
            assertEquals(expected.training().evaluations(), r.training().evaluations());
        }
    }

    @Test
    void thePlantedRecipeIsDeterministicForASeedAndWritesItsGroundTruth() throws Exception {
        // a tiny planted build (2 layers, the set in block 1), twice: the same bytes, planted.json as the recipe picks it
        DemoRecipe.Options o = new DemoRecipe.Options(new DemoModel(32, 2, 2, 1, 64, 128, 256), ChainTask.Spec.planted(), 0, 20, 12,
                6, 4, 2e-3, 1e-4, 2, 0.1, 1.0, 5, 3, 4, 0.6, DType.F32, new Planted(1, 4, 2, 0));
        byte[][] weights = new byte[2][];
        for (int run = 0; run < 2; run++) {
            Path out = tmp.resolve("planted" + run);
            try (Parallel pool = Parallel.of(1 + run)) {
                DemoRecipe.Report r = DemoRecipe.build(out, o, KernelsProvider.lookup(), pool, new DemoRecipe.Listener() {
                }, "ipg train-demo --out DIR --recipe planted");
                assertEquals(DemoRecipe.CHECK_SEEDS, r.planted().random().size());
            }
            weights[run] = Files.readAllBytes(out.resolve("model.safetensors"));
            var j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve(Planted.FILE).toFile());
            assertEquals("blocks.1.mlp.hook_post", j.get("site").asText());
            int[] idx = new int[j.get("indices").size()];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = j.get("indices").get(i).asInt();
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(o.planted().indices(5, 64), idx);
            assertTrue(Files.isRegularFile(out.resolve("dev.jsonl")));
            assertTrue(Files.readString(out.resolve("README.md")).contains("## Planted mechanism"));
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(weights[0], weights[1], "two planted builds with one seed differ");
    }

    @Test
    void refusesANonEmptyTarget() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("taken"));
        Files.writeString(out.resolve("x"), "x");
        try (Parallel pool = Parallel.of(1)) {
            var e = assertThrows(IpgException.class, () -> DemoRecipe.build(out, tiny(), KernelsProvider.lookup(), pool,
                    new DemoRecipe.Listener() {
                    }, "cmd"));
            assertTrue(e.getMessage().contains("not an empty directory"), e.getMessage());
        }
    }
}
