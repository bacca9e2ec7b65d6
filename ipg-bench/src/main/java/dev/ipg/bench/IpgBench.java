package dev.ipg.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.IpgEstimator;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.compare.Dice;
import dev.ipg.core.compare.Spearman;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.Bf16Compute;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.Kernels;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Seconds per prompt of Integrated Policy Gradient (q path points, N samples each, a fixed number
 * of new tokens), split into sampling and backward, side by side with the same estimator written
 * in PyTorch ({@code torch_ipg_bench.py}) on the same checkpoint, prompts and site in the same run.
 * Optionally compares the reuse-weighted estimator with on-path at equal cost, and writes one
 * prompt's trajectories so the PyTorch backward can be run on exactly the same samples.
 */
@Command(name = "ipg", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Seconds per prompt of IPG attribution (sampling + backward), ipg vs the same estimator in PyTorch.")
public final class IpgBench implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", description = "Checkpoint (default: a random checkpoint of --shape and --dtype).")
    Path model;

    @Option(names = "--shape", paramLabel = "SHAPE", defaultValue = "qwen2.5-0.5b",
            description = "Shape of the random checkpoint: qwen2.5-0.5b or qwen2.5-1.5b (default: ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--dtype", paramLabel = "DTYPE", defaultValue = "F32",
            description = "Weight dtype of the random checkpoint: F32 or BF16 (default: ${DEFAULT-VALUE}).")
    DType dtype;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "bench-out",
            description = "Where random checkpoints are written and kept (default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--bf16-compute", paramLabel = "HOW", defaultValue = "java", converter = Bf16ComputeConverter.class,
            description = "How ipg computes products with BF16 weights: java, native, native-avx512 or native-amx "
                    + "(default: ${DEFAULT-VALUE}; a native one this machine cannot run is refused).")
    Bf16Compute bf16Compute;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "2", description = "Threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--steps", paramLabel = "Q", defaultValue = "10", description = "q, path points (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "5", description = "N, samples per path point (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--new-tokens", paramLabel = "N", defaultValue = "128",
            description = "Tokens generated per sample, no early stop (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--prompt-len", paramLabel = "N", defaultValue = "64", description = "Prompt length in tokens (default: ${DEFAULT-VALUE}).")
    int promptLen;

    @Option(names = "--prompts", paramLabel = "N", defaultValue = "1", description = "Prompts to time (default: ${DEFAULT-VALUE}).")
    int prompts;

    @Option(names = "--site", paramLabel = "KIND", defaultValue = "hook_resid_post",
            description = "Site kind at the middle layer (default: ${DEFAULT-VALUE}).")
    String siteKind;

    @Option(names = "--sampling", paramLabel = "MODE", defaultValue = "on-path",
            description = "on-path or reuse-weighted (default: ${DEFAULT-VALUE}).")
    String sampling;

    @Option(names = "--compare-sampling", description = "Also run reuse-weighted at the cost of on-path and report the agreement of their scores, "
            + "beside that of the main estimator with other seeds (the noise ceiling).")
    boolean compareSampling;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "20",
            description = "Components compared by top-k overlap with --compare-sampling (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--trajectories-out", paramLabel = "FILE",
            description = "Write the first prompt's samples, advantages and scores as JSON (input of torch_ipg_bench.py --mode backward).")
    Path trajectoriesOut;

    @Option(names = "--python", paramLabel = "EXE", defaultValue = "/usr/bin/python3",
            description = "Python with torch (default: ${DEFAULT-VALUE}).")
    String python;

    @Option(names = "--no-torch", description = "Measure ipg only.")
    boolean noTorch;

    @Option(names = "--out", paramLabel = "FILE", description = "Write all results as JSON.")
    Path out;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Seed offset of the control row of {@code --compare-sampling} (prompt p of the main run uses seed p). */
    private static final long CONTROL_SEEDS = 1_000_003;

    @Override
    public Integer call() throws Exception {
        IpgOptions.SamplingMode mode = switch (sampling) {
            case "on-path" -> IpgOptions.SamplingMode.ON_PATH;
            case "reuse-weighted" -> IpgOptions.SamplingMode.REUSE_WEIGHTED;
            default -> throw new IllegalStateException("--sampling: expected on-path or reuse-weighted, got " + sampling);
        };
        if (steps < 1 || samples < 2 || newTokens < 1 || promptLen < 1 || prompts < 1 || !(temperature > 0)) {
            throw new IllegalStateException("--steps, --new-tokens, --prompt-len, --prompts must be >= 1, --samples >= 2, --temperature > 0");
        }
        Path dir = model;
        if (dir == null) {
            dir = work.resolve(shape + "-shape-" + dtype.name().toLowerCase(Locale.ROOT));
            if (!Files.exists(dir.resolve("model.safetensors"))) {
                System.err.println("[bench] writing random checkpoint " + dir);
                RandomCheckpoint.write(dir, GradBench.spec(shape, dtype), 1);
            }
        }
        ObjectNode r = JSON.createObjectNode();
        r.put("date", ZonedDateTime.now().toString());
        r.put("machine", BenchEnv.machine());
        r.put("java", Runtime.version().toString());
        r.put("model", dir.toString());
        List<int[]> promptIds = new ArrayList<>();
        String siteName;
        Kernels kernels = KernelsProvider.lookup(bf16Compute);
        if (bf16Compute != Bf16Compute.JAVA && !kernels.name().contains("+bf16-")) {
            throw new IllegalStateException("--bf16-compute " + bf16Compute + " is not available here (kernels " + kernels.name() + ")");
        }
        r.put("bf16_compute", bf16Compute.spelling());
        try (Parallel pool = Parallel.of(threads); Transformer m = Transformer.load(dir, kernels, pool)) {
            Site site = Site.parse("blocks." + m.config().numLayers() / 2 + "." + siteKind).checkIn(m.config());
            siteName = site.toString();
            for (int p = 0; p < prompts; p++) {
                promptIds.add(ModelBench.tokens(promptLen, m.config().vocabSize(), 1000 + p));
            }
            r.put("site", siteName);
            r.put("kernels", m.kernels().name());
            r.put("threads", threads);
            r.put("steps", steps);
            r.put("samples", samples);
            r.put("temperature", temperature);
            r.put("new_tokens", newTokens);
            r.put("prompt_len", promptLen);
            r.put("prompts", prompts);
            r.put("sampling", sampling);
            // warm-up (JIT) on a tiny run of the same code paths
            for (int i = 0; i < 2; i++) {
                estimator(m, 1, 2, Math.min(16, newTokens), mode).attribute(promptIds.getFirst(), site, null, 7 + i);
            }
            Timing main = time(m, site, promptIds, samples, mode, "ipg " + sampling);
            r.set("ipg", main.json());
            if (trajectoriesOut != null) {
                writeTrajectories(trajectoriesOut, promptIds.getFirst(), siteName, temperature, main.first());
            }
            if (compareSampling) {
                r.set("sampling_comparison", compare(m, site, promptIds, mode, main));
            }
            r.put("rss_peak_mb", BenchEnv.peakRssMb());
            r.put("heap_peak_mb", BenchEnv.heapPeakMb());
        }
        JsonNode torch = null;
        if (!noTorch) {
            if (mode != IpgOptions.SamplingMode.ON_PATH) {
                System.err.println("[bench] the PyTorch estimator is on-path only: no torch run for --sampling " + sampling);
            } else {
                torch = torch(dir, siteName, promptIds);
                r.set("torch", torch);
            }
        }
        JsonNode ipg = r.path("ipg");
        if (ipg.path("points_backpropagated").asInt() < ipg.path("points").asInt()) {
            System.err.printf(Locale.ROOT, "[bench] only %d of %d path points had mixed rewards and were back-propagated (first prompt):"
                    + " the backward figure covers those%n", ipg.path("points_backpropagated").asInt(), ipg.path("points").asInt());
        }
        System.out.printf(Locale.ROOT, "IPG q=%d N=%d, %d new tokens, %s at %s, %s (seconds per prompt)%n", steps, samples, newTokens,
                sampling, siteName, dir.getFileName());
        System.out.printf(Locale.ROOT, "%-10s %10s %10s %10s%n", "", "total", "sampling", "backward");
        System.out.printf(Locale.ROOT, "%-10s %10.2f %10.2f %10.2f%n", "ipg", ipg.path("seconds_per_prompt").asDouble(),
                ipg.path("sampling_seconds_per_prompt").asDouble(), ipg.path("backward_seconds_per_prompt").asDouble());
        if (torch != null && torch.has("seconds_per_prompt")) {
            System.out.printf(Locale.ROOT, "%-10s %10.2f %10.2f %10.2f%n", "torch", torch.path("seconds_per_prompt").asDouble(),
                    torch.path("sampling_seconds_per_prompt").asDouble(), torch.path("backward_seconds_per_prompt").asDouble());
            // how many times faster ipg is (torch seconds / ipg seconds)
            System.out.printf(Locale.ROOT, "%-10s %10s %10s %10s%n", "speed-up", ratio(torch, ipg, "seconds_per_prompt"),
                    ratio(torch, ipg, "sampling_seconds_per_prompt"), ratio(torch, ipg, "backward_seconds_per_prompt"));
        } else if (torch != null) {
            System.out.println("torch: " + torch.path("error").asText());
        }
        System.out.printf(Locale.ROOT, "peak RSS: ipg %.0f MB (heap high-water %.0f MB)%s%n", r.path("rss_peak_mb").asDouble(),
                r.path("heap_peak_mb").asDouble(),
                torch == null || !torch.has("peak_rss_mb") ? "" : String.format(Locale.ROOT, ", torch %.0f MB", torch.path("peak_rss_mb").asDouble()));
        JsonNode cmp = r.path("sampling_comparison");
        if (!cmp.isMissingNode()) {
            for (JsonNode row : cmp.path("rows")) {
                System.out.printf(Locale.ROOT, "%s N=%d: %.2f s per prompt (%s N=%d: %.2f s); Spearman %.3f, top-%d overlap %.3f%n",
                        row.path("estimator").asText(), row.path("samples").asInt(), row.path("seconds_per_prompt").asDouble(), sampling, samples,
                        ipg.path("seconds_per_prompt").asDouble(), row.path("spearman_mean").asDouble(), topK,
                        row.path("top_k_dice_mean").asDouble());
            }
        }
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
        }
        return 0;
    }

    private static String ratio(JsonNode torch, JsonNode ipg, String key) {
        double a = torch.path(key).asDouble();
        double b = ipg.path(key).asDouble();
        return b > 0 && a > 0 ? String.format(Locale.ROOT, "%.2fx", a / b) : "-";
    }

    private IpgEstimator estimator(Transformer m, int q, int n, int tokens, IpgOptions.SamplingMode mode) {
        // rewards vary between samples, so every group is back-propagated (the expensive case)
        IpgOptions opt = new IpgOptions(q, n, temperature, 1.0, 0, tokens, Advantage.GRPO, IpgOptions.BaselineKind.ZERO, mode,
                IpgOptions.Positions.ALL, Quadrature.RIEMANN_RIGHT, 1);
        return new IpgEstimator(m, opt, Set.of(), IpgBench::rewards);
    }

    /** The bench's synthetic reward: the sum of the completion's ids mod 3 (the PyTorch side computes the same). */
    static double[] rewards(List<int[]> completions) {
        return completions.stream().mapToDouble(c -> {
            long s = 0;
            for (int t : c) {
                s += t;
            }
            return s % 3;
        }).toArray();
    }

    /** Seconds of each prompt and the scores of each. */
    private record Timing(String label, int samples, double[] seconds, double[] samplingSeconds, double[] backwardSeconds,
                          List<float[]> scores, IpgEstimator.Result first) {

        double mean(double[] x) {
            return java.util.Arrays.stream(x).average().orElse(Double.NaN);
        }

        ObjectNode json() {
            ObjectNode o = JSON.createObjectNode();
            o.put("estimator", label);
            o.put("samples", samples);
            o.put("seconds_per_prompt", mean(seconds));
            o.put("sampling_seconds_per_prompt", mean(samplingSeconds));
            o.put("backward_seconds_per_prompt", mean(backwardSeconds));
            ArrayNode a = o.putArray("seconds");
            for (double s : seconds) {
                a.add(s);
            }
            o.put("generated_tokens", first.generatedTokens());
            // path points whose rewards were mixed (only those are back-propagated), first prompt
            o.put("points_backpropagated", first.nodes().stream()
                    .filter(n -> java.util.Arrays.stream(n.advantages()).anyMatch(x -> x != 0)).count());
            o.put("points", first.nodes().size());
            return o;
        }
    }

    private Timing time(Transformer m, Site site, List<int[]> promptIds, int n, IpgOptions.SamplingMode mode, String label) {
        return time(m, site, promptIds, n, mode, label, 0);
    }

    /** As above, with the seed of prompt p {@code seedOffset + p}. */
    private Timing time(Transformer m, Site site, List<int[]> promptIds, int n, IpgOptions.SamplingMode mode, String label,
                        long seedOffset) {
        IpgEstimator est = estimator(m, steps, n, newTokens, mode);
        int count = promptIds.size();
        double[] total = new double[count];
        double[] samp = new double[count];
        double[] back = new double[count];
        List<float[]> scores = new ArrayList<>();
        IpgEstimator.Result first = null;
        for (int p = 0; p < count; p++) {
            long t0 = System.nanoTime();
            var res = est.attribute(promptIds.get(p), site, null, seedOffset + p);
            total[p] = (System.nanoTime() - t0) / 1e9;
            samp[p] = res.samplingSeconds();
            back[p] = res.backwardSeconds();
            scores.add(res.ipg());
            first = first == null ? res : first;
            System.err.printf(Locale.ROOT, "[bench] %s N=%d prompt %d/%d: %.2f s (sampling %.2f s, backward %.2f s, %d tokens)%n", label, n,
                    p + 1, count, total[p], samp[p], back[p], res.generatedTokens());
        }
        return new Timing(label, n, total, samp, back, scores, first);
    }

    /**
     * Reuse-weighted against on-path: first at the same N, then at the N whose measured seconds per
     * prompt match on-path's (the cost is about linear in N), scores compared prompt by prompt. The
     * first row is the control: the reference estimator itself with other seeds, whose agreement
     * with the reference is the most any other estimator of the same cost can be expected to reach
     * (the noise ceiling).
     */
    private ObjectNode compare(Transformer m, Site site, List<int[]> promptIds, IpgOptions.SamplingMode mode, Timing main) {
        IpgOptions.SamplingMode other = mode == IpgOptions.SamplingMode.ON_PATH ? IpgOptions.SamplingMode.REUSE_WEIGHTED
                : IpgOptions.SamplingMode.ON_PATH;
        String otherName = other == IpgOptions.SamplingMode.ON_PATH ? "on-path" : "reuse-weighted";
        ObjectNode o = JSON.createObjectNode();
        o.put("reference", sampling);
        o.put("other", otherName);
        o.put("top_k", topK);
        ArrayNode rows = o.putArray("rows");
        rows.add(agreement(time(m, site, promptIds, samples, mode, sampling + ", other seeds", CONTROL_SEEDS), main));
        Timing same = time(m, site, promptIds, samples, other, otherName);
        rows.add(agreement(same, main));
        double perSample = same.mean(same.seconds) / samples;
        int equal = (int) Math.max(2, Math.min(512, Math.round(main.mean(main.seconds) / perSample)));
        if (equal != samples) {
            rows.add(agreement(time(m, site, promptIds, equal, other, otherName + " at equal cost"), main));
        }
        return o;
    }

    private ObjectNode agreement(Timing t, Timing ref) {
        ObjectNode row = t.json();
        double rho = 0;
        double dice = 0;
        ArrayNode per = row.putArray("per_prompt");
        for (int p = 0; p < ref.scores.size(); p++) {
            double[] a = toDouble(t.scores.get(p));
            double[] b = toDouble(ref.scores.get(p));
            double s = Spearman.of(a, b);
            double dc = Dice.of(top(a, topK), top(b, topK));
            per.addObject().put("spearman", s).put("top_k_dice", dc);
            rho += s;
            dice += dc;
        }
        row.put("spearman_mean", rho / ref.scores.size());
        row.put("top_k_dice_mean", dice / ref.scores.size());
        return row;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** The k components of largest |score|. */
    static int[] top(double[] s, int k) {
        return IntStream.range(0, s.length).boxed().sorted(Comparator.comparingDouble(i -> -Math.abs(s[i]))).limit(k)
                .mapToInt(Integer::intValue).toArray();
    }

    /** One prompt's samples per path point with their advantages, and ipg's scores. */
    static void writeTrajectories(Path file, int[] prompt, String site, double temperature, IpgEstimator.Result res)
            throws java.io.IOException {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode p = o.putArray("prompt");
        for (int t : prompt) {
            p.add(t);
        }
        o.put("site", site);
        o.put("temperature", temperature);
        o.put("positions_from", 0);
        ArrayNode nodes = o.putArray("nodes");
        for (IpgEstimator.Node n : res.nodes()) {
            ObjectNode node = nodes.addObject();
            node.put("alpha", n.alpha());
            node.put("weight", n.weight());
            ArrayNode cs = node.putArray("completions");
            for (int[] c : n.completions()) {
                ArrayNode ca = cs.addArray();
                for (int t : c) {
                    ca.add(t);
                }
            }
            ArrayNode adv = node.putArray("advantages");
            for (double a : n.advantages()) {
                adv.add(a);
            }
            ArrayNode contribution = node.putArray("contribution");
            for (float v : n.contribution()) {
                contribution.add(v);
            }
        }
        ArrayNode s = o.putArray("ipg");
        for (float v : res.ipg()) {
            s.add(v);
        }
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        Files.writeString(file, JSON.writeValueAsString(o));
    }

    private JsonNode torch(Path dir, String siteName, List<int[]> promptIds) {
        StringBuilder ps = new StringBuilder();
        for (int[] p : promptIds) {
            if (!ps.isEmpty()) {
                ps.append(';');
            }
            ps.append(String.join(",", java.util.Arrays.stream(p).mapToObj(Integer::toString).toList()));
        }
        List<String> cmd = List.of(python, BenchEnv.script("torch_ipg_bench.py").toString(), "--model", dir.toString(),
                "--threads", Integer.toString(threads), "--steps", Integer.toString(steps), "--samples", Integer.toString(samples),
                "--temperature", Double.toString(temperature), "--new-tokens", Integer.toString(newTokens), "--site", siteName,
                "--prompt", ps.toString());
        try {
            return BenchEnv.runJson(cmd);
        } catch (IllegalStateException | java.io.IOException e) {
            // the ipg figures stand on their own (e.g. PyTorch ran out of memory at a long length)
            System.err.println("[bench] PyTorch run failed: " + e.getMessage());
            return JSON.createObjectNode().put("error", String.valueOf(e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }
}
