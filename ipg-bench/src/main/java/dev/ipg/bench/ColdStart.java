package dev.ipg.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Cold start, what a one-shot command feels: {@code ipg logits} on a prompt in a fresh JVM (wall
 * time of the process, its forward time, its peak RSS), then in another fresh JVM the same forward
 * timed first (cold) and then repeated (warm), with the resident set after loading, after the
 * first call and at the end, and optionally the JVM's native-memory summary. Every measurement
 * runs in its own JVM, F32 and BF16 checkpoints each.
 */
@Command(name = "cold", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Cold start of `ipg logits` (first call vs warm throughput, peak RSS), each in a fresh JVM.")
public final class ColdStart implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", split = ",",
            description = "Checkpoints (default: random ones of --shape for each of --dtype).")
    List<Path> models;

    @Option(names = "--shape", paramLabel = "SHAPE", defaultValue = "qwen2.5-0.5b",
            description = "Shape of the random checkpoints: qwen2.5-0.5b or qwen2.5-1.5b (default: ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--dtype", paramLabel = "DTYPE", split = ",", defaultValue = "F32,BF16",
            description = "Weight dtypes of the random checkpoints (default: ${DEFAULT-VALUE}).")
    List<DType> dtypes;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "bench-out",
            description = "Where random checkpoints are written and kept (default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--prompt-len", paramLabel = "N", defaultValue = "128", description = "Prompt tokens (default: ${DEFAULT-VALUE}).")
    int promptLen;

    @Option(names = "--warm-repeats", paramLabel = "N", defaultValue = "5",
            description = "Forward passes after the first; the best is the warm figure (default: ${DEFAULT-VALUE}).")
    int warmRepeats;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "2", description = "Threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--ipg-jar", paramLabel = "FILE", defaultValue = "ipg-cli/target/ipg.jar",
            description = "The ipg command-line jar, run as `ipg logits` (default: ${DEFAULT-VALUE}).")
    Path ipgJar;

    @Option(names = "--jvm-opt", paramLabel = "OPT",
            description = "Extra option of the child JVMs (repeatable), e.g. -XX:AOTCache=FILE or -Xmx4g.")
    List<String> jvmOpts = new ArrayList<>();

    @Option(names = "--aot", description = "Also time `ipg logits` with the start-up cache the ipg launcher makes: `ipg warm-up` run "
            + "once under -XX:AOTCacheOutput (the workload of the launcher), then -XX:AOTCache for the timed process.")
    boolean aot;

    @Option(names = "--nmt", description = "Run the timed child with -XX:NativeMemoryTracking=summary and report where the memory goes.")
    boolean nmt;

    @Option(names = "--out", paramLabel = "FILE", description = "Write all results as JSON.")
    Path out;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        if (promptLen < 1 || warmRepeats < 1 || threads < 1) {
            throw new IllegalStateException("--prompt-len, --warm-repeats and --threads must be >= 1");
        }
        List<Path> dirs = new ArrayList<>();
        if (models != null) {
            dirs.addAll(models);
        } else {
            for (DType d : dtypes) {
                Path dir = work.resolve(shape + "-shape-" + d.name().toLowerCase(Locale.ROOT));
                if (!Files.exists(dir.resolve("model.safetensors"))) {
                    System.err.println("[bench] writing random checkpoint " + dir);
                    RandomCheckpoint.write(dir, GradBench.spec(shape, d), 1);
                }
                dirs.add(dir);
            }
        }
        Path jar = ipgJar.toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("--ipg-jar: " + jar + " does not exist; build it with ./mvnw -DskipTests package");
        }
        ObjectNode all = JSON.createObjectNode();
        all.put("date", ZonedDateTime.now().toString());
        all.put("machine", BenchEnv.machine());
        all.put("java", Runtime.version().toString());
        all.put("prompt_len", promptLen);
        all.put("threads", threads);
        Path cache = aot ? makeAotCache(jar) : null;
        all.put("aot_cache_mb", cache == null ? 0 : Files.size(cache) / 1e6);
        var runs = all.putArray("runs");
        System.out.printf(Locale.ROOT, "%-28s %9s %9s %9s %9s %9s %10s%n", "checkpoint", "process s", "first s", "first t/s",
                "warm t/s", "warm/1st", "peak RSS");
        for (Path dir : dirs) {
            ObjectNode run = runs.addObject();
            run.put("model", dir.toString());
            run.put("weights_mb", Files.size(dir.resolve("model.safetensors")) / 1e6);
            ObjectNode cli = logitsProcess(dir, jar, List.of());
            run.set("ipg_logits", cli);
            ObjectNode cached = cache == null ? null : logitsProcess(dir, jar, aotOptions(cache));
            if (cached != null) {
                run.set("ipg_logits_aot", cached);
            }
            JsonNode child = childProcess(dir);
            run.set("in_process", child);
            double first = child.path("first_seconds").asDouble();
            double warm = child.path("warm_best_seconds").asDouble();
            System.out.printf(Locale.ROOT, "%-28s %9.2f %9.2f %9.1f %9.1f %8.1fx %7.0f MB%n", dir.getFileName(),
                    cli.path("process_seconds").asDouble(), cli.path("forward_seconds").asDouble(),
                    promptLen / cli.path("forward_seconds").asDouble(), promptLen / warm, first / warm, cli.path("peak_rss_mb").asDouble());
            System.out.printf(Locale.ROOT, "  fresh JVM, same forward: load %.2f s, first %.2f s, warm %.2f s; RSS after load %.0f MB, "
                            + "after first %.0f MB, peak %.0f MB (heap high-water %.0f MB)%n", child.path("load_seconds").asDouble(), first, warm,
                    child.path("rss_after_load_mb").asDouble(), child.path("rss_after_first_mb").asDouble(),
                    child.path("peak_rss_mb").asDouble(), child.path("heap_peak_mb").asDouble());
            if (cached != null) {
                System.out.printf(Locale.ROOT, "  with the start-up cache: process %.2f s, first forward %.2f s (%.1f t/s), %.1fx the warm time, "
                                + "peak RSS %.0f MB%n", cached.path("process_seconds").asDouble(), cached.path("forward_seconds").asDouble(),
                        promptLen / cached.path("forward_seconds").asDouble(), cached.path("forward_seconds").asDouble() / warm,
                        cached.path("peak_rss_mb").asDouble());
            }
            if (child.has("nmt_top")) {
                System.out.println("  native memory (NMT committed): " + child.path("nmt_top").asText());
            }
        }
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(all));
        }
        return 0;
    }

    /** The JVM of the children: this one's binary with the options the ipg launcher uses. */
    private List<String> jvm() {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC"));
        if (jvmOpts.stream().noneMatch(o -> o.startsWith("-Xmx") || o.contains("RAMPercentage"))) {
            cmd.add("-XX:MaxRAMPercentage=60");
        }
        cmd.addAll(jvmOpts);
        return cmd;
    }

    private String promptIds() {
        return Arrays.stream(ModelBench.tokens(promptLen, 1 << 30, 42)).map(t -> t % 100 + 10).mapToObj(Integer::toString)
                .collect(Collectors.joining(","));
    }

    /** The options with which the ipg launcher starts a command on its start-up cache. */
    static List<String> aotOptions(Path cache) {
        return List.of("-XX:AOTCache=" + cache, "-Xlog:aot=off", "-Xlog:cds=off");
    }

    /** Makes the start-up cache as the ipg launcher does: {@code ipg warm-up} under -XX:AOTCacheOutput, in a fresh JVM. */
    private Path makeAotCache(Path jar) throws IOException, InterruptedException {
        Path cache = work.toAbsolutePath().resolve("ipg-cold.aot");
        Files.createDirectories(cache.getParent());
        Files.deleteIfExists(cache);
        List<String> cmd = jvm();
        cmd.addAll(List.of("-XX:AOTCacheOutput=" + cache, "-Dipg.home=" + Path.of("").toAbsolutePath(), "-jar", jar.toString(),
                "warm-up", "--quiet", "--threads", Integer.toString(threads)));
        System.err.println("[bench] making the start-up cache (ipg warm-up)");
        Measured m = runMeasured(cmd);
        if (m.exit != 0 || !Files.isRegularFile(cache)) {
            throw new IllegalStateException("ipg warm-up under -XX:AOTCacheOutput failed (exit " + m.exit + "): " + m.stderr.strip());
        }
        System.err.printf(Locale.ROOT, "[bench] start-up cache: %.0f MB in %.1f s%n", Files.size(cache) / 1e6, m.seconds);
        return cache;
    }

    private ObjectNode logitsProcess(Path dir, Path jar, List<String> extra) throws IOException, InterruptedException {
        Path tmp = Files.createTempFile("ipg-cold-logits", ".safetensors");
        try {
            List<String> cmd = jvm();
            cmd.addAll(extra);
            cmd.addAll(List.of("-jar", jar.toString(), "logits", "--model", dir.toString(), "--token-ids", promptIds(), "-o",
                    tmp.toString(), "--threads", Integer.toString(threads)));
            System.err.println("[bench] fresh JVM: ipg logits on " + dir.getFileName() + (extra.isEmpty() ? "" : " with the start-up cache"));
            Measured m = runMeasured(cmd);
            Matcher mt = Pattern.compile("\\[(\\d+) tokens in ([0-9.]+) s").matcher(m.stderr);
            if (m.exit != 0 || !mt.find()) {
                throw new IllegalStateException("ipg logits failed (exit " + m.exit + "): " + m.stderr.strip());
            }
            ObjectNode r = JSON.createObjectNode();
            r.put("process_seconds", m.seconds);
            r.put("forward_seconds", Double.parseDouble(mt.group(2)));
            r.put("peak_rss_mb", m.peakRssMb);
            return r;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private JsonNode childProcess(Path dir) throws IOException, InterruptedException {
        List<String> cmd = jvm();
        if (nmt) {
            cmd.add("-XX:NativeMemoryTracking=summary");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName(), dir.toString(),
                Integer.toString(promptLen), Integer.toString(warmRepeats), Integer.toString(threads), Boolean.toString(nmt)));
        System.err.println("[bench] fresh JVM: first and warm forward on " + dir.getFileName());
        Measured m = runMeasured(cmd);
        if (m.exit != 0) {
            throw new IllegalStateException("the timed child JVM failed (exit " + m.exit + "): " + m.stderr.strip());
        }
        ObjectNode r = (ObjectNode) JSON.readTree(m.stdout);
        r.put("process_seconds", m.seconds);
        r.put("peak_rss_polled_mb", m.peakRssMb);
        return r;
    }

    private record Measured(int exit, double seconds, double peakRssMb, String stdout, String stderr) {
    }

    /** Runs {@code cmd}, polling its peak RSS (VmHWM) until it exits. */
    private static Measured runMeasured(List<String> cmd) throws IOException, InterruptedException {
        Path err = Files.createTempFile("ipg-cold", ".err");
        Path outF = Files.createTempFile("ipg-cold", ".out");
        try {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(outF.toFile()).start();
            Path status = Path.of("/proc", Long.toString(p.pid()), "status");
            double peak = -1;
            while (!p.waitFor(20, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                peak = Math.max(peak, vmHwmMb(status));
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            String e = Files.readString(err, StandardCharsets.UTF_8).lines().filter(l -> !l.startsWith("WARNING: Using incubator"))
                    .collect(Collectors.joining("\n"));
            return new Measured(p.exitValue(), secs, peak, Files.readString(outF, StandardCharsets.UTF_8), e);
        } finally {
            Files.deleteIfExists(err);
            Files.deleteIfExists(outF);
        }
    }

    private static double vmHwmMb(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException | java.io.UncheckedIOException ignored) {
            // the process has just exited
        }
        return -1;
    }

    static double rssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // not Linux
        }
        return -1;
    }

    /**
     * The timed child: arguments DIR PROMPT_LEN REPEATS THREADS NMT. Loads the model, runs the
     * forward of {@code ipg logits} (logits of every position) once cold and REPEATS times warm,
     * and prints one JSON object.
     */
    public static final class Child {

        private Child() {
        }

        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            int len = Integer.parseInt(args[1]);
            int repeats = Integer.parseInt(args[2]);
            int threads = Integer.parseInt(args[3]);
            boolean nmt = Boolean.parseBoolean(args[4]);
            ObjectNode r = JSON.createObjectNode();
            long t0 = System.nanoTime();
            try (Parallel pool = Parallel.of(threads); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool)) {
                r.put("load_seconds", (System.nanoTime() - t0) / 1e9);
                r.put("rss_after_load_mb", rssMb());
                int[] ids = Arrays.stream(ModelBench.tokens(len, 1 << 30, 42)).map(t -> t % 100 + 10).toArray();
                int[] rows = new int[len];
                Arrays.setAll(rows, i -> i);
                long f0 = System.nanoTime();
                m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, len), Hooks.none(), rows);
                r.put("first_seconds", (System.nanoTime() - f0) / 1e9);
                r.put("rss_after_first_mb", rssMb());
                r.put("peak_rss_after_first_mb", BenchEnv.peakRssMb());
                double best = Double.MAX_VALUE;
                var secs = r.putArray("warm_seconds");
                for (int i = 0; i < repeats; i++) {
                    long w0 = System.nanoTime();
                    m.forward(Batch.ofSequence(0, 0, ids), m.newCache(1, len), Hooks.none(), rows);
                    double s = (System.nanoTime() - w0) / 1e9;
                    secs.add(s);
                    best = Math.min(best, s);
                }
                r.put("warm_best_seconds", best);
                r.put("rss_end_mb", rssMb());
                r.put("peak_rss_mb", BenchEnv.peakRssMb());
                r.put("heap_peak_mb", BenchEnv.heapPeakMb());
                r.put("heap_committed_mb", Runtime.getRuntime().totalMemory() / 1048576.0);
                if (nmt) {
                    String summary = nmtSummary();
                    r.put("nmt_summary", summary);
                    r.put("nmt_top", nmtTop(summary));
                }
            }
            System.out.println(JSON.writeValueAsString(r));
        }

        private static String nmtSummary() throws Exception {
            var server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
            var name = new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand");
            return (String) server.invoke(name, "vmNativeMemory", new Object[] {new String[] {"summary", "scale=MB"}},
                    new String[] {String[].class.getName()});
        }

        /** "Total 1234MB; Java Heap 800MB; Compiler 300MB; ..." : the committed sizes, largest first. */
        static String nmtTop(String summary) {
            Pattern p = Pattern.compile("^-\\s+(.+?)\\s+\\(reserved=\\d+MB, committed=(\\d+)MB\\)", Pattern.MULTILINE);
            Matcher m = p.matcher(summary);
            List<String[]> rows = new ArrayList<>();
            while (m.find()) {
                rows.add(new String[] {m.group(1).strip(), m.group(2)});
            }
            rows.sort((a, b) -> Integer.parseInt(b[1]) - Integer.parseInt(a[1]));
            Matcher total = Pattern.compile("Total: reserved=\\d+MB, committed=(\\d+)MB").matcher(summary);
            String head = total.find() ? "total " + total.group(1) + " MB; " : "";
            return head + rows.stream().limit(6).map(x -> x[0] + " " + x[1] + " MB").collect(Collectors.joining("; "));
        }
    }
}
