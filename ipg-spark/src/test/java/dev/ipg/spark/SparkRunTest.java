package dev.ipg.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line with {@code --spark local[2]} (an embedded Spark) against the same command
 * without it, on the bundled demo model: the same files, bit for bit, apart from timings.
 */
class SparkRunTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** The bundled demo model (models/ipg-demo above the module); its absence is an error, not a skip. */
    static Path demo() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path m = d.resolve("models").resolve("ipg-demo");
            if (Files.isRegularFile(m.resolve("model.safetensors"))) {
                return m;
            }
        }
        throw new AssertionError("models/ipg-demo not found above " + Path.of("").toAbsolutePath());
    }

    record Run(int code, String out, String err) {
    }

    static Run ipg(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static Run ok(List<String> args) {
        Run r = ipg(args);
        assertEquals(0, r.code(), () -> "ipg " + args + " failed:\n" + r.err() + r.out());
        return r;
    }

    static List<String> attribute(Path out, String... more) {
        Path m = demo();
        List<String> a = new ArrayList<>(List.of("attribute", "-m", m.toString(), "--dataset", m.resolve("support.jsonl").toString(),
                "--site", "blocks.1.hook_resid_post,blocks.2.mlp.hook_post", "--signal", "correct", "-o", out.toString(), "--steps", "3",
                "--samples", "3", "--max-new-tokens", "40", "--limit", "5", "--seed", "11", "--baseline", "mean", "--threads", "1"));
        a.addAll(List.of(more));
        return a;
    }

    /** A JSON file without its timings (which measure the machine, not the result). */
    static JsonNode withoutTimings(Path file) throws IOException {
        JsonNode j = JSON.readTree(file.toFile());
        strip(j);
        return j;
    }

    private static void strip(JsonNode j) {
        if (j instanceof ObjectNode o) {
            o.remove("timings");
            o.properties().forEach(e -> strip(e.getValue()));
        } else if (j.isArray()) {
            j.forEach(SparkRunTest::strip);
        }
    }

    static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = dir.relativize(p).toString();
                if (!rel.endsWith(".lock")) {
                    out.put(rel, Files.readAllBytes(p));
                }
            }
        }
        return out;
    }

    /** Every file of two attribution runs equal: tensors bit for bit, JSON apart from timings and where the run went. */
    static void assertSameRun(Path a, Path b) throws IOException {
        Map<String, byte[]> fa = files(a);
        Map<String, byte[]> fb = files(b);
        assertEquals(fa.keySet(), fb.keySet());
        assertTrue(fa.containsKey("scores.safetensors") && fa.containsKey("top.csv") && fa.containsKey("prompts/00004.safetensors"),
                fa.keySet()::toString);
        for (String name : fa.keySet()) {
            if (name.endsWith(".json")) {
                JsonNode ja = withoutTimings(a.resolve(name));
                JsonNode jb = withoutTimings(b.resolve(name));
                assertEquals(ja, jb, name);
            } else {
                assertArrayEquals(fa.get(name), fb.get(name), name + " differs");
            }
        }
    }

    @Test
    void attributionOnEmbeddedSparkIsBitwiseTheSingleMachineRun() throws IOException {
        Path plain = tmp.resolve("plain");
        Path spark = tmp.resolve("spark");
        ok(attribute(plain));
        Run r = ok(attribute(spark, "--spark", "local[2]"));
        assertTrue(r.err().contains("prompts"), r.err());
        assertSameRun(plain, spark);

        // resume: finished prompts are not computed again; a lost prompt is, to the same bits
        Path p2 = spark.resolve("prompts").resolve("00002.json");
        Files.delete(p2);
        Files.delete(spark.resolve("prompts").resolve("00002.safetensors"));
        FileTime before = Files.getLastModifiedTime(spark.resolve("prompts").resolve("00001.json"));
        ok(attribute(spark, "--spark", "local[2]"));
        assertEquals(before, Files.getLastModifiedTime(spark.resolve("prompts").resolve("00001.json")));
        assertSameRun(plain, spark);

        // a changed configuration is refused, with one line, before anything runs
        Run changed = ipg(attribute(spark, "--spark", "local[2]", "--top-k", "5"));
        assertEquals(1, changed.code(), changed.err());
        assertTrue(changed.err().startsWith("ipg: ") && changed.err().contains("different configuration")
                && changed.err().strip().lines().count() == 1, changed.err());
    }

    static List<String> eval(Path out, String... more) {
        Path m = demo();
        List<String> a = new ArrayList<>(List.of("eval", "-m", m.toString(), "--dataset", m.resolve("eval.jsonl").toString(), "-o",
                out.toString(), "--limit", "7", "--batch-size", "3", "--max-new-tokens", "60", "--threads", "1"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void evaluationOnEmbeddedSparkGivesTheSameCompletionsAndSummary() throws IOException {
        for (List<String> decoding : List.of(List.<String>of(), List.of("--temperature", "0.8", "--top-p", "0.95", "--seed", "3"))) {
            Path plain = tmp.resolve("plain" + decoding.size());
            Path spark = tmp.resolve("spark" + decoding.size());
            ok(eval(plain, decoding.toArray(String[]::new)));
            List<String> withSpark = new ArrayList<>(decoding);
            withSpark.addAll(List.of("--spark", "local[2]"));
            ok(eval(spark, withSpark.toArray(String[]::new)));
            List<String> a = Files.readAllLines(plain.resolve("completions.jsonl"));
            List<String> b = Files.readAllLines(spark.resolve("completions.jsonl"));
            assertEquals(7, a.size());
            assertEquals(new HashSet<>(a), new HashSet<>(b), "completions differ (as sets of lines)");
            assertEquals(JSON.readTree(plain.resolve("summary.json").toFile()).get("results"),
                    JSON.readTree(spark.resolve("summary.json").toFile()).get("results"));
            assertEquals(withoutTimings(plain.resolve("summary.json")), withoutTimings(spark.resolve("summary.json")));
        }
    }

    @Test
    void anUnreachableMasterIsOneClearLine() throws IOException {
        Run r = ipg(attribute(tmp.resolve("x"), "--spark", "spark://127.0.0.1:1"));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("ipg: --spark spark://127.0.0.1:1: the master is unreachable"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        Set<String> left = Files.exists(tmp.resolve("x")) ? files(tmp.resolve("x")).keySet() : Set.of();
        assertTrue(left.stream().noneMatch(n -> n.startsWith("prompts/0")), left::toString);
    }
}
