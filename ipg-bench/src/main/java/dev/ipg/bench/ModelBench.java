package dev.ipg.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.generate.Sampler;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.KVCache;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.Bf16Compute;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Prefill and decode throughput of the engine on a checkpoint, side by side with the PyTorch
 * implementation ({@code torch_model_bench.py}) on the same checkpoint in the same run.
 */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Prefill and batched-decode tokens/s of ipg vs PyTorch on the same checkpoint.")
public final class ModelBench implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", description = "Checkpoint to measure (default: a random Qwen2.5-0.5B-shaped one).")
    Path model;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "bench-out",
            description = "Where random checkpoints are written and kept between runs (default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--dtype", split = ",", defaultValue = "F32,BF16", description = "Weight dtypes of the random checkpoint (default: ${DEFAULT-VALUE}).")
    List<DType> dtypes;

    @Option(names = "--bf16-compute", split = ",", paramLabel = "HOW", defaultValue = "java,native",
            converter = Bf16ComputeConverter.class,
            description = "How ipg computes products with BF16 weights, one set of rows each: java, native, native-avx512, "
                    + "native-amx (default: ${DEFAULT-VALUE}; a native one this machine cannot run is reported and skipped).")
    List<Bf16Compute> bf16Computes;

    @Option(names = "--threads", defaultValue = "2")
    int threads;

    @Option(names = "--prompt-len", defaultValue = "128")
    int promptLen;

    @Option(names = "--decode-prompt-len", defaultValue = "32")
    int decodePromptLen;

    @Option(names = "--decode-steps", defaultValue = "32")
    int decodeSteps;

    @Option(names = "--batches", split = ",", defaultValue = "1,8")
    List<Integer> batches;

    @Option(names = "--repeats", defaultValue = "3", description = "Repetitions; the best is reported (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python with torch (default: ${DEFAULT-VALUE}).")
    String python;

    @Option(names = "--no-torch", description = "Measure ipg only.")
    boolean noTorch;

    @Option(names = "--bandwidth-mb", paramLabel = "MB", defaultValue = "512",
            description = "Buffer of the memory-bandwidth measurement that bounds decode, in MiB; 0 skips it (default: ${DEFAULT-VALUE}).")
    int bandwidthMb;

    @Option(names = "--out", paramLabel = "FILE", description = "Write all results as JSON.")
    Path out;

    static final ObjectMapper JSON = new ObjectMapper();

    /** A random checkpoint with the shapes of Qwen2.5-0.5B. */
    static RandomCheckpoint.Spec qwen05(DType dtype) {
        return new RandomCheckpoint.Spec(Family.QWEN2, 896, 24, 14, 2, 0, 4864, 151936, 32768, dtype, true, false, false);
    }

    @Override
    public Integer call() throws Exception {
        List<Path> dirs = new ArrayList<>();
        if (model != null) {
            dirs.add(model);
        } else {
            for (DType d : dtypes) {
                Path dir = work.resolve("qwen2.5-0.5b-shape-" + d.name().toLowerCase(Locale.ROOT));
                if (!Files.exists(dir.resolve("model.safetensors"))) {
                    System.err.println("[bench] writing random checkpoint " + dir);
                    RandomCheckpoint.write(dir, qwen05(d), 1);
                }
                dirs.add(dir);
            }
        }
        ObjectNode all = JSON.createObjectNode();
        all.put("date", ZonedDateTime.now().toString());
        all.put("machine", BenchEnv.machine());
        all.put("java", Runtime.version().toString());
        double bw = Double.NaN;
        if (bandwidthMb > 0) {
            ObjectNode b = all.putObject("bandwidth");
            b.put("buffer_mb", bandwidthMb);
            for (int t : threads == 1 ? List.of(1) : List.of(1, threads)) {
                double gb = Bandwidth.measure((long) bandwidthMb << 20, t, 10);
                b.put("threads" + t + "_gb_per_s", gb);
                System.err.printf(Locale.ROOT, "[bench] read bandwidth, %d thread(s): %.1f GB/s%n", t, gb);
                bw = gb;
            }
            System.out.printf(Locale.ROOT, "read bandwidth (Vector API streaming sum, %d threads): %.1f GB/s%n", threads, bw);
        }
        var runs = all.putArray("runs");
        System.out.printf(Locale.ROOT, "%-52s %12s %12s %8s %14s%n", "checkpoint / phase", "ipg tok/s", "torch tok/s", "ratio",
                "of bw bound");
        for (Path dir : dirs) {
            ObjectNode run = runs.addObject();
            run.put("model", dir.toString());
            boolean bf16 = Bandwidth.hasBf16(dir);
            JsonNode torch = noTorch ? null : torch(dir);
            if (torch != null) {
                run.set("torch", torch);
            }
            String name = dir.getFileName().toString();
            long bytes = Bandwidth.weightBytesPerToken(dir);
            run.put("weight_bytes_per_token", bytes);
            for (Bf16Compute how : bf16 ? bf16Computes : List.of(Bf16Compute.JAVA)) {
                Kernels kernels = KernelsProvider.lookup(how);
                if (how != Bf16Compute.JAVA && !kernels.name().contains("+bf16-")) {
                    System.out.println(name + ": BF16 compute " + how + " is not available here (kernels " + kernels.name() + ")");
                    continue;
                }
                ObjectNode ipg = measure(dir, kernels);
                String label = name + (bf16 ? " [" + how + "]" : "");
                run.set(bf16 && how != Bf16Compute.JAVA ? "ipg_" + how.spelling().replace('-', '_') : "ipg", ipg);
                row(label + " prefill " + promptLen, ipg.path("prefill_tokens_per_s").asDouble(),
                        torch == null ? Double.NaN : torch.path("prefill").path("tokens_per_s").asDouble(), Double.NaN);
                for (int b : batches) {
                    // every decode step streams all weights once for the whole batch
                    double bound = b * bw * 1e9 / bytes;
                    double tps = ipg.path("decode_batch" + b + "_tokens_per_s").asDouble();
                    double ttps = torch == null ? Double.NaN : torch.path("decode").path("batch" + b + "_tokens_per_s").asDouble();
                    if (!Double.isNaN(bound)) {
                        run.put("decode_batch" + b + "_bound_tokens_per_s", bound);
                        ipg.put("decode_batch" + b + "_fraction_of_bound", tps / bound);
                        if (torch != null) {
                            run.put("torch_decode_batch" + b + "_fraction_of_bound", ttps / bound);
                        }
                    }
                    row(label + " decode batch " + b, tps, ttps, bound);
                }
            }
        }
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(all));
        }
        return 0;
    }

    /** One table row; {@code bound} is the bandwidth bound in tokens/s (NaN: none), shown as ipg's (torch's) fraction of it. */
    private static void row(String what, double ipg, double torch, double bound) {
        String frac = Double.isNaN(bound) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * ipg / bound)
                + (Double.isNaN(torch) ? "" : String.format(Locale.ROOT, " (%.0f%%)", 100 * torch / bound));
        System.out.printf(Locale.ROOT, "%-52s %12.1f %12.1f %8s %14s%n", what, ipg, torch,
                Double.isNaN(torch) ? "-" : String.format(Locale.ROOT, "%.2fx", ipg / torch), frac);
    }

    private ObjectNode measure(Path dir, Kernels kernels) {
        ObjectNode r = JSON.createObjectNode();
        try (Parallel pool = Parallel.of(threads); Transformer m = Transformer.load(dir, kernels, pool)) {
            int v = m.config().vocabSize();
            r.put("kernels", m.kernels().name());
            r.put("threads", threads);
            // warm-up (JIT)
            for (int i = 0; i < 3; i++) {
                prefill(m, 16);
                decode(m, 2, 8, 4);
            }
            double best = Double.MAX_VALUE;
            for (int i = 0; i < repeats; i++) {
                best = Math.min(best, prefill(m, promptLen));
            }
            r.put("prefill_tokens_per_s", promptLen / best);
            System.err.printf(Locale.ROOT, "[bench] ipg prefill %d: %.1f tokens/s%n", promptLen, promptLen / best);
            for (int b : batches) {
                double bd = Double.MAX_VALUE;
                for (int i = 0; i < repeats; i++) {
                    bd = Math.min(bd, decode(m, b, decodePromptLen, decodeSteps));
                }
                r.put("decode_batch" + b + "_tokens_per_s", b * decodeSteps / bd);
                System.err.printf(Locale.ROOT, "[bench] ipg decode batch %d: %.1f tokens/s%n", b, b * decodeSteps / bd);
            }
            r.put("heap_used_mb", (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1e6);
            r.put("rss_peak_mb", BenchEnv.peakRssMb());
            if (v <= 0) {
                throw new IllegalStateException();
            }
        }
        return r;
    }

    static int[] tokens(int n, int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rng.nextInt(vocab);
        }
        return t;
    }

    /** Seconds for one prefill of n tokens (logits of the last row, as the PyTorch side). */
    private static double prefill(Transformer m, int n) {
        int[] ids = tokens(n, m.config().vocabSize(), n);
        KVCache cache = m.newCache(1, n);
        long t0 = System.nanoTime();
        m.forward(Batch.ofSequence(0, 0, ids), cache, Hooks.none(), new int[] {n - 1});
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Seconds for {@code steps} greedy decode steps of {@code batch} sequences after their prompts. */
    private static double decode(Transformer m, int batch, int promptLen, int steps) {
        int v = m.config().vocabSize();
        KVCache cache = m.newCache(batch, promptLen + steps);
        int[] last = new int[batch];
        int[] next = new int[batch];
        for (int b = 0; b < batch; b++) {
            float[] l = m.forward(Batch.ofSequence(b, 0, tokens(promptLen, v, 100 + b)), cache, Hooks.none(), new int[] {promptLen - 1});
            next[b] = Sampler.argmax(l, 0, v);
        }
        int[] seq = new int[batch];
        for (int b = 0; b < batch; b++) {
            seq[b] = b;
            last[b] = b;
        }
        long t0 = System.nanoTime();
        for (int s = 0; s < steps; s++) {
            int[] pos = new int[batch];
            for (int b = 0; b < batch; b++) {
                pos[b] = promptLen + s;
            }
            float[] l = m.forward(new Batch(next.clone(), seq, pos), cache, Hooks.none(), last);
            for (int b = 0; b < batch; b++) {
                next[b] = Sampler.argmax(l, b * v, v);
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private JsonNode torch(Path dir) throws IOException, InterruptedException {
        Path script = BenchEnv.script("torch_model_bench.py");
        List<String> cmd = List.of(python, script.toString(), "--model", dir.toString(), "--threads", Integer.toString(threads),
                "--prompt-len", Integer.toString(promptLen), "--decode-prompt-len", Integer.toString(decodePromptLen),
                "--decode-steps", Integer.toString(decodeSteps), "--repeats", Integer.toString(repeats),
                "--batches", String.join(",", batches.stream().map(String::valueOf).toList()), "--phases", "prefill,decode");
        return BenchEnv.runJson(cmd);
    }

}
