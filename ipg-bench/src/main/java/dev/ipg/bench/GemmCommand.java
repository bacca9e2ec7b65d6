package dev.ipg.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ipg.core.tensor.Bf16Compute;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Matrix;
import dev.ipg.core.tensor.Parallel;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * GFLOP/s of the engine's {@code matmul} ({@code out = x · wᵀ}) against numpy's float32
 * {@code x @ w.T} (OpenBLAS sgemm) on the same shapes, measured in the same run and interleaved
 * shape by shape so that both see the same machine load. Weights live off-heap, as a mapped
 * checkpoint does; numpy writes into a preallocated output, as the engine does.
 */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "Matmul GFLOP/s of the engine vs numpy/OpenBLAS on Qwen2.5-0.5B-like shapes.")
final class GemmCommand implements Callable<Integer> {

    @Option(names = "--threads", description = "Threads for both sides (default: ${DEFAULT-VALUE}).")
    int threads = 2;

    @Option(names = "--m", split = ",", description = "Input rows M (default: ${DEFAULT-VALUE}).")
    int[] ms = {1, 8, 128, 512};

    @Option(names = "--shapes", split = ",",
            description = "Weight shapes NxK (default: 896x896,128x896,4864x896,896x4864,151936x896).")
    String[] shapes = {"896x896", "128x896", "4864x896", "896x4864", "151936x896"};

    @Option(names = "--dtypes", split = ",", description = "Weight dtypes for the engine (default: F32,BF16).")
    DType[] dtypes = {DType.F32, DType.BF16};

    @Option(names = "--bf16-compute", split = ",", paramLabel = "HOW", converter = Bf16ComputeConverter.class,
            description = "How BF16 products are computed, one column each: java, native, native-avx512, native-amx "
                    + "(default: ${DEFAULT-VALUE}).")
    List<Bf16Compute> bf16Computes = List.of(Bf16Compute.JAVA);

    @Option(names = "--warmup", description = "Warm-up seconds per measurement (default: ${DEFAULT-VALUE}).")
    double warmup = 1.0;

    @Option(names = "--budget", description = "Timed seconds per measurement (default: ${DEFAULT-VALUE}).")
    double budget = 2.0;

    @Option(names = "--min-reps", description = "Least timed calls per measurement (default: ${DEFAULT-VALUE}).")
    int minReps = 5;

    @Option(names = "--rounds", description = "Repeat the whole table this many times, alternating engine and numpy; "
            + "report the median over rounds (default: ${DEFAULT-VALUE}).")
    int rounds = 1;

    @Option(names = "--python", description = "Python with numpy for the reference (default: ${DEFAULT-VALUE}).")
    String python = "/usr/bin/python3";

    @Option(names = "--script", description = "The reference script (default: ipg-bench/src/main/python/gemm_ref.py "
            + "or src/main/python/gemm_ref.py, whichever exists).")
    Path script;

    @Option(names = "--no-reference", description = "Measure the engine only.")
    boolean noReference;

    @Option(names = "--out", description = "JSON results file (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("gemm-bench.json");

    /** One row of the report. Rates are medians over the timed calls; null when not measured. */
    record Row(int m, int n, int k, Map<String, Double> java, Double numpy) {
    }

    /** One column of the engine: a weight dtype and the kernels that multiply it. */
    private record Column(String label, DType dtype, Kernels kernels) {
    }

    private List<Column> columns(Kernels kernels) {
        List<Column> c = new ArrayList<>();
        for (DType dt : dtypes) {
            if (dt != DType.BF16) {
                c.add(new Column(dt.name(), dt, kernels));
                continue;
            }
            for (Bf16Compute how : bf16Computes) {
                c.add(new Column(how == Bf16Compute.JAVA ? dt.name() : dt.name() + " " + how.spelling(), dt,
                        how == Bf16Compute.JAVA ? kernels : KernelsProvider.lookup(how)));
            }
        }
        return c;
    }

    private List<Column> columns;

    @Override
    public Integer call() throws Exception {
        Kernels kernels = KernelsProvider.lookup(Bf16Compute.JAVA);
        columns = columns(kernels);
        if (!kernels.name().startsWith("vector")) {
            System.err.println("ipg-bench: the Vector API kernels are not active (got '" + kernels.name()
                    + "'): run java with --add-modules jdk.incubator.vector");
            return 2;
        }
        int[][] nk = new int[shapes.length][];
        for (int i = 0; i < shapes.length; i++) {
            String[] p = shapes[i].toLowerCase().split("x");
            if (p.length != 2) {
                System.err.println("ipg-bench: --shapes entry '" + shapes[i] + "' is not NxK");
                return 2;
            }
            nk[i] = new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
        }
        Reference ref = noReference ? null : Reference.start(python, findScript(), threads);
        try (Parallel pool = Parallel.of(threads)) {
            System.out.printf("ipg-bench gemm: kernels %s, %d threads, Java %s; reference %s%n", kernels.name(), threads,
                    Runtime.version(), ref == null ? "none" : ref.hello);
            warmUp(pool);
            // (m, n, k) -> per-dtype rates and numpy rates, one entry per round
            Map<String, Map<String, List<Double>>> cells = new LinkedHashMap<>();
            for (int round = 1; round <= rounds; round++) {
                if (rounds > 1) {
                    System.out.println("round " + round + " of " + rounds);
                }
                printHeader();
                for (int[] s : nk) {
                    int n = s[0];
                    int k = s[1];
                    try (Arena arena = Arena.ofShared()) {
                        Map<DType, Matrix> weights = new LinkedHashMap<>();
                        for (DType dt : dtypes) {
                            weights.put(dt, randomWeights(arena, dt, n, k, round));
                        }
                        for (int m : ms) {
                            float[] x = randomInput(m * k, 2);
                            float[] o = new float[m * n];
                            Map<String, List<Double>> cell = cells.computeIfAbsent(m + "x" + n + "x" + k, key -> new LinkedHashMap<>());
                            Map<String, Double> java = new LinkedHashMap<>();
                            for (Column c : columns) {
                                Matrix w = weights.get(c.dtype());
                                double g = measure(() -> c.kernels().matmul(pool, x, 0, m, w, o, 0), m, n, k);
                                java.put(c.label(), g);
                                cell.computeIfAbsent(c.label(), key -> new ArrayList<>()).add(g);
                            }
                            Double numpy = ref == null ? null : ref.measure(m, n, k, warmup, minReps, budget);
                            if (numpy != null) {
                                cell.computeIfAbsent("numpy", key -> new ArrayList<>()).add(numpy);
                            }
                            printRow(new Row(m, n, k, java, numpy));
                        }
                    }
                }
            }
            List<Row> rows = new ArrayList<>();
            for (var e : cells.entrySet()) {
                String[] mnk = e.getKey().split("x");
                Map<String, Double> java = new LinkedHashMap<>();
                for (Column c : columns) {
                    java.put(c.label(), median(e.getValue().get(c.label())));
                }
                List<Double> np = e.getValue().get("numpy");
                rows.add(new Row(Integer.parseInt(mnk[0]), Integer.parseInt(mnk[1]), Integer.parseInt(mnk[2]), java,
                        np == null ? null : median(np)));
            }
            if (rounds > 1) {
                System.out.println("median over " + rounds + " rounds");
                printHeader();
                rows.forEach(this::printRow);
            }
            write(rows, kernels, ref);
            System.out.println("wrote " + out.toAbsolutePath());
        } finally {
            if (ref != null) {
                ref.close();
            }
        }
        return 0;
    }

    private Path findScript() {
        if (script != null) {
            return script;
        }
        for (Path p : List.of(Path.of("ipg-bench/src/main/python/gemm_ref.py"), Path.of("src/main/python/gemm_ref.py"))) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalStateException("gemm_ref.py not found under ipg-bench/src/main/python: pass --script");
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    /** Compiles both matmul paths before anything is timed. */
    private void warmUp(Parallel pool) {
        try (Arena arena = Arena.ofShared()) {
            long end = System.nanoTime() + (long) (2e9 * warmup);
            Map<DType, Matrix> ws = new LinkedHashMap<>();
            for (DType dt : dtypes) {
                ws.put(dt, randomWeights(arena, dt, 512, 512, 3));
            }
            float[] x = randomInput(128 * 512, 4);
            float[] o = new float[128 * 512];
            do {
                for (Column c : columns) {
                    for (int m : new int[] {1, 5, 8, 64, 128}) {
                        c.kernels().matmul(pool, x, 0, m, ws.get(c.dtype()), o, 0);
                    }
                }
            } while (System.nanoTime() < end);
        }
    }

    /** Median GFLOP/s of {@code call} after warm-up: at least minReps timed calls, up to the budget. */
    private double measure(Runnable call, int m, int n, int k) {
        long warmEnd = System.nanoTime() + (long) (warmup * 1e9);
        int calls = 0;
        while (calls < 3 || System.nanoTime() < warmEnd) {
            call.run();
            calls++;
        }
        List<Long> ns = new ArrayList<>();
        long budgetEnd = System.nanoTime() + (long) (budget * 1e9);
        while (ns.size() < minReps || (System.nanoTime() < budgetEnd && ns.size() < 200)) {
            long t0 = System.nanoTime();
            call.run();
            ns.add(System.nanoTime() - t0);
        }
        long[] sorted = ns.stream().mapToLong(Long::longValue).sorted().toArray();
        return 2.0 * m * n * k / sorted[sorted.length / 2];
    }

    private void printHeader() {
        StringBuilder h = new StringBuilder(String.format("%6s %7s %5s", "M", "N", "K"));
        for (Column c : columns) {
            String label = c.label().contains(" ") ? c.label() : "java " + c.label();
            h.append(String.format(" %" + width(c) + "s", label));
        }
        h.append(String.format(" %11s", "numpy F32"));
        for (Column c : columns) {
            h.append(String.format(" %" + width(c) + "s", c.label() + "/numpy"));
        }
        System.out.println(h + "   (GFLOP/s, median)");
    }

    /** Characters of a column: room for its header. */
    private static int width(Column c) {
        return Math.max(11, c.label().length() + 6);
    }

    private void printRow(Row r) {
        StringBuilder b = new StringBuilder(String.format("%6d %7d %5d", r.m(), r.n(), r.k()));
        for (Column c : columns) {
            b.append(String.format(" %" + width(c) + ".1f", r.java().get(c.label())));
        }
        b.append(r.numpy() == null ? String.format(" %11s", "-") : String.format(" %11.1f", r.numpy()));
        for (Column c : columns) {
            String f = " %" + width(c) + (r.numpy() == null ? "s" : ".2f");
            b.append(r.numpy() == null ? String.format(f, "-") : String.format(f, r.java().get(c.label()) / r.numpy()));
        }
        System.out.println(b);
    }

    private void write(List<Row> rows, Kernels kernels, Reference ref) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("benchmark", "gemm: out[m, n] = x[m, k] . w[n, k]^T");
        doc.put("threads", threads);
        doc.put("kernels", kernels.name());
        doc.put("java", Runtime.version().toString());
        doc.put("cpus", Runtime.getRuntime().availableProcessors());
        doc.put("reference", ref == null ? null : ref.helloJson);
        doc.put("statistic", "median GFLOP/s over >= " + minReps + " timed calls after " + warmup + " s warm-up"
                + (rounds > 1 ? ", then the median over " + rounds + " rounds" : ""));
        doc.put("rounds", rounds);
        List<Map<String, Object>> results = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("m", r.m());
            e.put("n", r.n());
            e.put("k", r.k());
            e.put("java_gflops", r.java());
            e.put("numpy_f32_gflops", r.numpy());
            Map<String, Double> ratio = new LinkedHashMap<>();
            if (r.numpy() != null) {
                r.java().forEach((dt, g) -> ratio.put(dt, g / r.numpy()));
            }
            e.put("ratio_to_numpy", ratio);
            results.add(e);
        }
        doc.put("results", results);
        Path abs = out.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        Files.write(tmp, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc));
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A {@code [n, k]} matrix of uniform values in [-0.5, 0.5) stored as {@code dtype} in {@code arena}. */
    static Matrix randomWeights(Arena arena, DType dtype, int n, int k, long seed) {
        long count = (long) n * k;
        MemorySegment seg = arena.allocate(count * dtype.bytes(), 64);
        long s = seed * 0x9E3779B97F4A7C15L + 1;
        for (long i = 0; i < count; i++) {
            s ^= s << 13;
            s ^= s >>> 7;
            s ^= s << 17;
            float v = ((s >>> 40) * 0x1p-24f) - 0.5f;
            switch (dtype) {
                case F32 -> seg.set(Matrix.F32_LE, i * 4, v);
                case BF16 -> seg.set(Matrix.I16_LE, i * 2, (short) (Float.floatToRawIntBits(v) >>> 16));
                case F16 -> seg.set(Matrix.I16_LE, i * 2, Float.floatToFloat16(v));
            }
        }
        return new Matrix(seg, dtype, n, k);
    }

    /** {@code n} uniform values in [-0.5, 0.5). */
    static float[] randomInput(int n, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble() - 0.5f;
        }
        return x;
    }

    /** The numpy side: one long-lived Python child speaking JSON lines. */
    static final class Reference implements AutoCloseable {
        private final Process process;
        private final BufferedWriter in;
        private final BufferedReader outReader;
        private final StringBuilder stderr = new StringBuilder();
        private final Thread stderrPump;
        final String hello;
        final JsonNode helloJson;
        private final ObjectMapper json = new ObjectMapper();

        private Reference(Process p) throws IOException {
            this.process = p;
            this.in = new BufferedWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8));
            this.outReader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            this.stderrPump = Thread.ofPlatform().daemon().start(() -> {
                try (var r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        synchronized (stderr) {
                            stderr.append(line).append('\n');
                        }
                    }
                } catch (IOException ignored) {
                    // the child is gone; what it said is in stderr
                }
            });
            JsonNode h = readAnswer("start-up");
            this.helloJson = h;
            this.hello = "numpy " + h.path("numpy").asText() + " " + h.path("blas").toString()
                    + " OPENBLAS_NUM_THREADS=" + h.path("openblas_num_threads").asText();
        }

        static Reference start(String python, Path script, int threads) throws IOException {
            if (!Files.isRegularFile(script)) {
                throw new IllegalStateException("reference script not found: " + script);
            }
            ProcessBuilder pb = new ProcessBuilder(python, script.toString());
            Map<String, String> env = pb.environment();
            env.put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
            env.remove("OPENBLAS_CORETYPE");
            env.remove("OPENBLAS_L2_SIZE");
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot start " + python + ": " + e.getMessage() + " (pass --python)", e);
            }
            return new Reference(p);
        }

        double measure(int m, int n, int k, double warmup, int minReps, double budget) throws IOException {
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("m", m);
            req.put("n", n);
            req.put("k", k);
            req.put("warmup_s", warmup);
            req.put("min_reps", minReps);
            req.put("budget_s", budget);
            in.write(json.writeValueAsString(req));
            in.newLine();
            in.flush();
            return readAnswer(m + "x" + n + "x" + k).path("gflops").asDouble();
        }

        private JsonNode readAnswer(String what) throws IOException {
            String line = outReader.readLine();
            if (line == null) {
                try {
                    process.waitFor();
                    stderrPump.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                String err;
                synchronized (stderr) {
                    err = stderr.toString().trim();
                }
                throw new IllegalStateException("numpy reference failed at " + what + " (exit " + process.exitValue()
                        + "): " + (err.isEmpty() ? "no message" : err));
            }
            return json.readTree(line);
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException ignored) {
                // the child may have exited already
            }
            process.destroy();
        }
    }
}
