package dev.ipg.core.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.PyTorchReference;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The model shipped in {@code models/ipg-demo} loads through the normal path (config, safetensors,
 * tokenizer.json, chat template), fits the size limit, and answers the fixed greedy slice of its
 * eval split as its model card states.
 */
class BundledModelTest {

    static Path dir() {
        Path d = PyTorchReference.repositoryRoot().resolve("models").resolve("ipg-demo");
        if (!Files.isRegularFile(d.resolve("config.json"))) {
            throw new AssertionError("the bundled demo model is missing: " + d);
        }
        return d;
    }

    @Test
    void isAHuggingFaceLlamaDirectoryWithinTheSizeLimit() throws IOException {
        Path d = dir();
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "generation_config.json", "README.md", "support.jsonl", "eval.jsonl"}) {
            assertTrue(Files.isRegularFile(d.resolve(f)), f);
        }
        assertTrue(Files.size(d.resolve("model.safetensors")) <= 20_000_000L, "model.safetensors over 20 MB");
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(d, KernelsProvider.lookup(), pool)) {
            assertEquals(Family.LLAMA, m.config().family());
        }
    }

    @Test
    void greedySliceMatchesTheModelCard() throws IOException {
        Path d = dir();
        String card = Files.readString(d.resolve("README.md"));
        Matcher stated = Pattern.compile("Greedy, first (\\d+) eval problems: (\\d+)/(\\d+)").matcher(card);
        assertTrue(stated.find(), "the model card states no greedy slice");
        int n = Integer.parseInt(stated.group(1));
        int correct = Integer.parseInt(stated.group(2));
        Matcher built = Pattern.compile("on \\d+ threads, (\\S+) kernels").matcher(card);
        assertTrue(built.find(), "the model card states no kernels");
        ObjectMapper om = new ObjectMapper();
        List<DemoData.Example> slice = new ArrayList<>();
        for (String line : Files.readAllLines(d.resolve("eval.jsonl"))) {
            if (slice.size() == n) {
                break;
            }
            JsonNode j = om.readTree(line);
            String answer = j.get("answer").asText();
            int gold = Integer.parseInt(answer.substring(answer.lastIndexOf("#### ") + 5).trim());
            slice.add(new DemoData.Example(j.get("question").asText(), answer, gold, 0, 0));
        }
        assertEquals(n, slice.size());
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(d, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(d)) {
            for (DemoData.Example e : slice) {
                assertEquals(e.question(), tok.decode(tok.encode(e.question(), false), false));
            }
            DemoEval.Result r = DemoEval.run(m, tok, slice, SamplingParams.greedy(), DemoRecipe.MAX_NEW_TOKENS, 25);
            assertEquals(n, r.total());
            if (m.kernels().name().equals(built.group(1))) {
                assertEquals(correct, r.correct(), "greedy answers on the first " + n + " eval problems");
            } else {
                // other kernels round differently; a near-tie may flip a greedy choice on a problem or two
                assertTrue(Math.abs(correct - r.correct()) <= 2, "greedy " + r.correct() + "/" + n + " with "
                        + m.kernels().name() + " kernels; the card states " + correct + " with " + built.group(1));
            }
        }
    }
}
