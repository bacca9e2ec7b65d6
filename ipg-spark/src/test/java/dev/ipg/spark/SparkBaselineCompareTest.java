package dev.ipg.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code baseline} (the sampled ones) and {@code compare} with {@code --spark local[2]} against the
 * same commands without it, on the bundled demo model: every file of the output trees the same,
 * tensors and tables byte for byte, JSON apart from timings, completions as the same lines.
 */
class SparkBaselineCompareTest {

    @TempDir
    Path tmp;

    /** Two output trees hold the same files with the same content (see the class comment); returns the file names. */
    static Map<String, byte[]> assertSameTree(Path a, Path b) throws IOException {
        Map<String, byte[]> fa = SparkRunTest.files(a);
        Map<String, byte[]> fb = SparkRunTest.files(b);
        assertEquals(fa.keySet(), fb.keySet());
        for (String name : fa.keySet()) {
            if (name.endsWith(".jsonl")) {
                List<String> la = Files.readAllLines(a.resolve(name));
                List<String> lb = Files.readAllLines(b.resolve(name));
                assertEquals(la.size(), lb.size(), name);
                assertEquals(new HashSet<>(la), new HashSet<>(lb), name + ": completions differ (as sets of lines)");
            } else if (name.endsWith(".json")) {
                assertEquals(SparkRunTest.withoutTimings(a.resolve(name)), SparkRunTest.withoutTimings(b.resolve(name)), name);
            } else {
                assertArrayEquals(fa.get(name), fb.get(name), name + " differs");
            }
        }
        return fa;
    }

    static List<String> with(List<String> args, String... more) {
        List<String> a = new ArrayList<>(args);
        a.addAll(List.of(more));
        return a;
    }

    static List<String> baseline(Path out, String method) {
        Path m = SparkRunTest.demo();
        return new ArrayList<>(List.of("baseline", "-m", m.toString(), "--method", method, "--dataset", m.resolve("support.jsonl").toString(),
                "--site", "blocks.1.hook_resid_post", "-o", out.toString(), "--limit", "5", "--max-new-tokens", "30", "--samples", "3",
                "--batch-size", "2", "--seed", "5", "--threads", "1"));
    }

    @Test
    void sampledBaselinesOnEmbeddedSparkAreTheSingleMachineRuns() throws IOException {
        // pg (an attribution with one path point), activation (the model's own completions, here sampled)
        for (List<String> extra : List.of(List.<String>of(), List.of("--temperature", "0.9"))) {
            String method = extra.isEmpty() ? "pg" : "activation";
            // both at the same path (records name the files a run read), the first moved aside
            Path spark = tmp.resolve(method);
            Path plain = tmp.resolve(method + "-plain");
            SparkRunTest.ok(with(baseline(spark, method), extra.toArray(String[]::new)));
            Files.move(spark, plain);
            SparkRunTest.Run r = SparkRunTest.ok(with(with(baseline(spark, method), extra.toArray(String[]::new)), "--spark", "local[2]"));
            Map<String, byte[]> files = assertSameTree(plain, spark);
            assertTrue(files.containsKey("scores.safetensors") && files.containsKey("top.csv"), files.keySet()::toString);
            assertTrue(method.equals("pg") ? files.containsKey("prompts/00004.safetensors") : files.containsKey("completions/completions.jsonl"),
                    files.keySet()::toString);
            assertTrue(r.out().contains(method + " scores of blocks.1.hook_resid_post"), r.out());
        }
    }

    static List<String> compare(Path out) {
        Path m = SparkRunTest.demo();
        return new ArrayList<>(List.of("compare", "-m", m.toString(), "--support", m.resolve("support.jsonl").toString(), "--eval",
                m.resolve("eval.jsonl").toString(), "--site", "blocks.1.hook_resid_post", "-o", out.toString(), "--methods",
                "ipg,pg,random,activation", "--top-count", "4", "--random-seeds", "1", "--support-limit", "4", "--eval-limit", "5",
                "--steps", "2", "--samples", "2", "--max-new-tokens", "20", "--eval-max-new-tokens", "20", "--batch-size", "2",
                "--sweep", "0,2", "--curve-k", "2,4", "--bootstrap", "100", "--support-temperature", "0.9", "--seed", "3",
                "--threads", "1"));
    }

    @Test
    void compareOnEmbeddedSparkIsTheSingleMachineComparison() throws IOException {
        // both at the same path (records name the score files a selection came from), the first moved aside
        Path spark = tmp.resolve("out");
        Path plain = tmp.resolve("plain");
        SparkRunTest.Run a = SparkRunTest.ok(compare(spark));
        Files.move(spark, plain);
        SparkRunTest.Run b = SparkRunTest.ok(with(compare(spark), "--spark", "local[2]"));
        Map<String, byte[]> files = assertSameTree(plain, spark);
        for (String f : List.of("comparison.json", "curves.csv", "protocol.json", "comparison.csv", "methods/ipg/scores.safetensors",
                "methods/pg/prompts/00003.safetensors", "stability.csv")) {
            assertTrue(files.containsKey(f), f + " is not among " + files.keySet());
        }
        assertTrue(files.keySet().stream().anyMatch(f -> f.startsWith("evals/") && f.endsWith("completions.jsonl")), files.keySet()::toString);
        assertEquals(a.out(), b.out(), "the tables printed");
    }
}
