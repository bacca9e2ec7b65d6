package dev.ipg.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.model.Site;
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
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The causal check of the planted testbed ({@code models/ipg-planted}): on the first
 * {@value #N} eval problems, greedy, the intact model re-checks where the task's rule says
 * (counted from the question text, not from the generator), ablating the planted neurons removes
 * at least 90 % of its reflections, and ablating any of 10 random sets of the same size at the
 * same site removes at most 20 %. Deterministic: greedy decoding, fixed random sets (seeds 0-9).
 */
class PlantedMechanismTest {

    static final int N = 100;
    static final Pattern CLAUSE = Pattern.compile(", (add|minus|times) (\\d+)");

    static Path dir() {
        Path d = PyTorchReference.repositoryRoot().resolve("models").resolve("ipg-planted");
        if (!Files.isRegularFile(d.resolve("config.json")) || !Files.isRegularFile(d.resolve(Planted.FILE))) {
            throw new AssertionError("the bundled testbed model is missing: " + d);
        }
        return d;
    }

    /** How many steps of the question have a true result of 50 or more: the re-checks the rule asks for. */
    static int ruleRechecks(String question) {
        Matcher start = Pattern.compile("^Start with (\\d+)").matcher(question);
        assertTrue(start.find(), question);
        int v = Integer.parseInt(start.group(1));
        int n = 0;
        Matcher m = CLAUSE.matcher(question);
        while (m.find()) {
            int k = Integer.parseInt(m.group(2));
            v = switch (m.group(1)) {
                case "add" -> v + k;
                case "minus" -> v - k;
                default -> v * k;
            };
            n += v >= 50 ? 1 : 0;
        }
        return n;
    }

    static int waits(String completion) {
        Matcher m = Pattern.compile("\\bwait\\b").matcher(completion);
        int c = 0;
        while (m.find()) {
            c++;
        }
        return c;
    }

    @Test
    void plantedSetCarriesTheReCheckDecisionAndRandomSetsDoNot() throws IOException {
        Path d = dir();
        ObjectMapper om = new ObjectMapper();
        JsonNode planted = om.readTree(d.resolve(Planted.FILE).toFile());
        Site site = Site.parse(planted.get("site").asText());
        int[] idx = new int[planted.get("indices").size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = planted.get("indices").get(i).asInt();
        }
        // the file says what the recipe plants
        assertEquals(Planted.standard().site(), site);
        assertArrayEquals(Planted.standard().indices(1234, 384), idx);
        assertTrue(Files.size(d.resolve("model.safetensors")) <= 20_000_000L, "model.safetensors over 20 MB");

        List<DemoData.Example> slice = new ArrayList<>();
        for (String line : Files.readAllLines(d.resolve("eval.jsonl"))) {
            if (slice.size() == N) {
                break;
            }
            JsonNode j = om.readTree(line);
            String answer = j.get("answer").asText();
            int gold = Integer.parseInt(answer.substring(answer.lastIndexOf("#### ") + 5).trim());
            slice.add(new DemoData.Example(j.get("question").asText(), answer, gold, 0, 0));
        }
        assertEquals(N, slice.size());
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(d, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(d)) {
            int width = site.width(m.config());
            DemoRecipe.PlantedCheck c = DemoRecipe.check(m, tok, slice, site, width, idx);

            // intact: reflects under greedy decoding, where the rule says, with varying length
            int agree = 0;
            int ruleTotal = 0;
            int min = Integer.MAX_VALUE;
            int max = 0;
            for (int i = 0; i < N; i++) {
                int rule = ruleRechecks(slice.get(i).question());
                ruleTotal += rule;
                agree += waits(c.intact().completions().get(i)) == rule ? 1 : 0;
                int len = c.intact().completions().get(i).length();
                min = Math.min(min, len);
                max = Math.max(max, len);
            }
            double r0 = c.intact().reflections();
            String summary = String.format(Locale.ROOT, "intact %.3f reflections/answer (rule %.3f; count agrees on %d/%d), "
                            + "accuracy %.2f; planted ablated %.3f, accuracy %.2f; random sets %s", r0, (double) ruleTotal / N, agree, N,
                    c.intact().accuracy(), c.ablated().reflections(), c.ablated().accuracy(),
                    c.random().stream().map(x -> String.format(Locale.ROOT, "%.3f", x.reflections())).toList());
            System.out.println("planted causal check: " + summary);
            assertTrue(r0 >= 0.5, "the intact model hardly reflects under greedy decoding: " + summary);
            assertTrue(agree >= 0.8 * N, "the intact model does not follow the re-check rule: " + summary);
            assertTrue(max - min >= 20, "greedy completions do not vary in length: " + min + ".." + max);

            // planted set ablated: at least 90 % of the reflections gone
            assertTrue(c.ablated().reflections() <= 0.1 * r0, "ablating the planted set leaves too many reflections: " + summary);
            // every random set of the same size: at most 20 % gone
            assertEquals(DemoRecipe.CHECK_SEEDS, c.random().size());
            for (DemoEval.Result x : c.random()) {
                assertTrue(x.reflections() >= 0.8 * r0, "a random set of " + idx.length + " carries the decision too: " + summary);
            }
        }
    }
}
