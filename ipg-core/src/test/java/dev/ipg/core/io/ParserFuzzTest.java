package dev.ipg.core.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.BrokenCheckpoints;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of the files a user hands ipg (safetensors headers, config.json,
 * tokenizer.json, dataset lines), each loaded through the real entry points in this one JVM.
 * Every case must end in success or in an {@link IpgException} with a one-line message: never
 * another exception, an {@link OutOfMemoryError}, or a hang (each case has a time limit).
 */
class ParserFuzzTest {

    private static final long SEED = 20260212L;
    private static final int HEADER_CASES = 1200;
    private static final int CONFIG_CASES = 800;
    private static final int TOKENIZER_CASES = 600;
    private static final int DATASET_CASES = 800;
    private static final long CASE_SECONDS = 10;

    private static final ObjectMapper OM = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    @TempDir
    Path tmp;

    /** Values that sit on the edges of the domains the parsers check. */
    private static JsonNode edgeValue(SplittableRandom r) {
        return switch (r.nextInt(30)) {
            case 0 -> F.numberNode(-1);
            case 1 -> F.numberNode(0);
            case 2 -> F.numberNode(1);
            case 3 -> F.numberNode(2);
            case 4 -> F.numberNode(128);
            case 5 -> F.numberNode(127.5);
            case 6 -> F.numberNode(Integer.MAX_VALUE);
            case 7 -> F.numberNode(2147483648L);
            case 8 -> F.numberNode(Long.MAX_VALUE);
            case 9 -> F.numberNode(new BigInteger("123456789012345678901234567890"));
            case 10 -> F.numberNode(new BigDecimal("1e400"));
            case 11 -> F.numberNode(3e38);
            case 12 -> F.numberNode(-0.0);
            case 13 -> F.textNode("");
            case 14 -> F.textNode("x");
            case 15 -> F.textNode(r.nextBoolean() ? "F32" : "BF16");
            case 16 -> F.textNode(r.nextBoolean() ? "I64" : "U8");
            case 17 -> F.nullNode();
            case 18 -> F.booleanNode(r.nextBoolean());
            case 19 -> F.arrayNode();
            case 20 -> F.arrayNode().add(1).add(2);
            case 21 -> F.arrayNode().add(0).add(1e20);
            case 22 -> F.objectNode();
            case 23 -> F.objectNode().put("a", 1);
            case 24 -> F.textNode("y".repeat(10_000));
            case 25 -> F.numberNode(-2147483648);
            case 26 -> F.numberNode(1 + r.nextInt(300));
            case 27 -> F.numberNode(1e-300);
            case 28 -> F.textNode("\u0000\n\"\\");
            default -> F.arrayNode().add(F.arrayNode().add(-5).add(3));
        };
    }

    /** Every (container, key or index) of the tree. */
    private static void slots(JsonNode n, List<Object[]> out) {
        if (n.isObject()) {
            for (var e : n.properties()) {
                out.add(new Object[] {n, e.getKey()});
                slots(e.getValue(), out);
            }
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                out.add(new Object[] {n, i});
                slots(n.get(i), out);
            }
        }
    }

    /** One to three structural edits of a copy of {@code root}. */
    private static JsonNode mutateTree(JsonNode root, SplittableRandom r) {
        JsonNode copy = root.deepCopy();
        int edits = 1 + r.nextInt(3);
        for (int k = 0; k < edits; k++) {
            List<Object[]> all = new ArrayList<>();
            slots(copy, all);
            if (all.isEmpty()) {
                return edgeValue(r);
            }
            Object[] s = all.get(r.nextInt(all.size()));
            int action = r.nextInt(10);
            if (s[0] instanceof ObjectNode o) {
                String key = (String) s[1];
                switch (action) {
                    case 0 -> o.remove(key);
                    case 1 -> o.set(key + (r.nextBoolean() ? "_" : "x"), o.get(key));
                    case 2 -> o.set("unknown_" + r.nextInt(5), edgeValue(r));
                    default -> o.set(key, edgeValue(r));
                }
            } else if (s[0] instanceof ArrayNode a) {
                int i = (Integer) s[1];
                switch (action) {
                    case 0 -> a.remove(i);
                    case 1 -> a.add(a.get(i).deepCopy());
                    default -> a.set(i, edgeValue(r));
                }
            }
        }
        return copy;
    }

    /** One to four byte edits: flip, insert, delete a range, duplicate a range, or truncate. */
    private static byte[] mutateBytes(byte[] b, SplittableRandom r) {
        byte[] out = b.clone();
        int edits = 1 + r.nextInt(4);
        for (int k = 0; k < edits && out.length > 0; k++) {
            int at = r.nextInt(out.length);
            switch (r.nextInt(5)) {
                case 0 -> out[at] = (byte) r.nextInt(256);
                case 1 -> {
                    byte[] ins = {(byte) "{}[]\",:0-e.\\\n".charAt(r.nextInt(13))};
                    out = concat(Arrays.copyOf(out, at), ins, Arrays.copyOfRange(out, at, out.length));
                }
                case 2 -> {
                    int end = Math.min(out.length, at + 1 + r.nextInt(16));
                    out = concat(Arrays.copyOf(out, at), Arrays.copyOfRange(out, end, out.length));
                }
                case 3 -> {
                    int end = Math.min(out.length, at + 1 + r.nextInt(32));
                    out = concat(Arrays.copyOf(out, end), Arrays.copyOfRange(out, at, out.length));
                }
                default -> out = Arrays.copyOf(out, at);
            }
        }
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    private static byte[] json(JsonNode n) throws Exception {
        return OM.writeValueAsBytes(n);
    }

    @FunctionalInterface
    private interface Case {
        void run() throws Exception;
    }

    private final List<String> failures = new ArrayList<>();
    private ExecutorService exec = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz-case");
        t.setDaemon(true);
        return t;
    });

    /** Runs one case with a time limit and records anything but success or a clean one-line IpgException. */
    private void check(String what, Case c) throws InterruptedException {
        Future<Throwable> f = exec.submit(() -> {
            try {
                c.run();
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        Throwable t;
        try {
            t = f.get(CASE_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            exec.shutdownNow();
            exec = Executors.newSingleThreadExecutor();
            failures.add(what + ": no result after " + CASE_SECONDS + " s");
            return;
        } catch (java.util.concurrent.ExecutionException e) {
            t = e.getCause();
        }
        if (t == null) {
            return;
        }
        if (t instanceof IpgException e) {
            String m = e.getMessage();
            if (m == null || m.isBlank() || m.contains("\n") || m.contains("\r")) {
                failures.add(what + ": an IpgException message that is not one line: " + m);
            }
            return;
        }
        var sw = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(sw));
        failures.add(what + ": " + sw.toString().lines().limit(6).reduce((a, b) -> a + " | " + b).orElse(""));
    }

    private static void loadAndRun(Path dir, Parallel pool) {
        try (Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool)) {
            int[] ids = {1, 2, 3};
            m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, ids.length), Hooks.none(), new int[] {2});
        }
    }

    private static Path base;
    private static byte[] header;
    private static byte[] data;
    private static byte[] config;
    private static byte[] tokenizer;
    private static List<String> lines;

    @BeforeAll
    static void fixtures(@TempDir Path root) throws Exception {
        // a small model with the demo model's vocabulary and tokenizer
        base = root.resolve("base");
        RandomCheckpoint.write(base, new RandomCheckpoint.Spec(Family.LLAMA, 16, 1, 2, 1, 0, 24, 128, 32, DType.F32,
                false, true, false), 1);
        Path demo = BrokenCheckpoints.demo();
        Files.copy(demo.resolve("tokenizer.json"), base.resolve("tokenizer.json"));
        Files.copy(demo.resolve("tokenizer_config.json"), base.resolve("tokenizer_config.json"));
        byte[] st = Files.readAllBytes(base.resolve("model.safetensors"));
        int n = (int) ByteBuffer.wrap(st, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        header = Arrays.copyOfRange(st, 8, 8 + n);
        data = Arrays.copyOfRange(st, 8 + n, st.length);
        config = Files.readAllBytes(base.resolve("config.json"));
        tokenizer = Files.readAllBytes(base.resolve("tokenizer.json"));
        lines = Files.readAllLines(demo.resolve("support.jsonl")).subList(0, 6);
    }

    /** A model directory for the cases: a copy of the base model. */
    private Path caseDir() throws Exception {
        Path dir = tmp.resolve("case");
        Files.createDirectories(dir);
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}) {
            Files.copy(base.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }

    private void assertClean(String what, int cases, long t0) {
        exec.shutdownNow();
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf(java.util.Locale.ROOT, "ParserFuzzTest %s: %d cases in %.1f s, %d failures%n", what, cases, secs,
                failures.size());
        assertTrue(failures.isEmpty(), failures.size() + " of " + cases + " " + what + " cases ended badly, e.g.:\n"
                + String.join("\n", failures.subList(0, Math.min(15, failures.size()))));
    }

    @Test
    void safetensorsHeaders() throws Exception {
        long t0 = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(SEED);
        JsonNode headerTree = OM.readTree(header);
        Path dir = caseDir();
        try (Parallel pool = Parallel.serial()) {
            for (int i = 0; i < HEADER_CASES; i++) {
                SplittableRandom r = rng.split();
                byte[] h = r.nextInt(10) < 6 ? json(mutateTree(headerTree, r)) : mutateBytes(header, r);
                long len = r.nextInt(20) == 0 ? r.nextLong() : h.length;
                byte[] file = concat(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(len).array(), h,
                        r.nextInt(20) == 0 ? Arrays.copyOf(data, r.nextInt(data.length)) : data);
                Files.write(dir.resolve("model.safetensors"), file);
                check("safetensors header case " + i, () -> loadAndRun(dir, pool));
            }
        }
        assertClean("safetensors header", HEADER_CASES, t0);
    }

    @Test
    void configJson() throws Exception {
        long t0 = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(SEED + 1);
        JsonNode configTree = OM.readTree(config);
        Path dir = caseDir();
        try (Parallel pool = Parallel.serial()) {
            for (int i = 0; i < CONFIG_CASES; i++) {
                SplittableRandom r = rng.split();
                Files.write(dir.resolve("config.json"), r.nextInt(10) < 7 ? json(mutateTree(configTree, r)) : mutateBytes(config, r));
                boolean withTokenizer = i % 8 == 0;
                check("config.json case " + i, () -> {
                    loadAndRun(dir, pool);
                    if (withTokenizer) {
                        Tokenizer.load(dir).close();
                    }
                });
            }
        }
        assertClean("config.json", CONFIG_CASES, t0);
    }

    @Test
    void tokenizerJson() throws Exception {
        long t0 = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(SEED + 2);
        JsonNode tokenizerTree = OM.readTree(tokenizer);
        Path dir = caseDir();
        for (int i = 0; i < TOKENIZER_CASES; i++) {
            SplittableRandom r = rng.split();
            Files.write(dir.resolve("tokenizer.json"),
                    r.nextInt(10) < 7 ? json(mutateTree(tokenizerTree, r)) : mutateBytes(tokenizer, r));
            check("tokenizer.json case " + i, () -> {
                try (Tokenizer tok = Tokenizer.load(dir)) {
                    int[] ids = tok.encode("What is 12+7? <|im_end|>", true);
                    tok.decode(ids, false);
                }
            });
        }
        assertClean("tokenizer.json", TOKENIZER_CASES, t0);
    }

    @Test
    void datasetLines() throws Exception {
        long t0 = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(SEED + 3);
        Path ds = tmp.resolve("data.jsonl");
        for (int i = 0; i < DATASET_CASES; i++) {
            SplittableRandom r = rng.split();
            List<byte[]> out = new ArrayList<>();
            for (String l : lines) {
                out.add(l.getBytes(StandardCharsets.UTF_8));
            }
            int at = r.nextInt(out.size());
            out.set(at, r.nextInt(10) < 6 ? json(mutateTree(OM.readTree(out.get(at)), r)) : mutateBytes(out.get(at), r));
            var file = new java.io.ByteArrayOutputStream();
            for (byte[] l : out) {
                file.write(l);
                file.write('\n');
            }
            Files.write(ds, file.toByteArray());
            check("dataset line case " + i, () -> Dataset.load(ds));
        }
        assertClean("dataset line", DATASET_CASES, t0);
    }
}
