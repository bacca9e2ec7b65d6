package dev.ipg.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.grad.Interpolation;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Forward + backward to a site (what one IPG trajectory costs), tokens/s at several lengths, and
 * peak memory, side by side with PyTorch autograd on the same checkpoint.
 */
@Command(name = "grad", mixinStandardHelpOptions = true,
        description = "Forward + backward-to-site tokens/s and peak memory of ipg vs PyTorch autograd.")
public final class GradBench implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", description = "Checkpoint (default: a random Qwen2.5-0.5B-shaped one).")
    Path model;

    @Option(names = "--shape", defaultValue = "qwen2.5-0.5b", description = "Shape of the random checkpoint: qwen2.5-0.5b or qwen2.5-1.5b.")
    String shape;

    @Option(names = "--dtype", defaultValue = "F32", description = "Weight dtype of the random checkpoint (default: ${DEFAULT-VALUE}).")
    DType dtype;

    @Option(names = "--work", defaultValue = "bench-out")
    Path work;

    @Option(names = "--threads", defaultValue = "2")
    int threads;

    @Option(names = "--lengths", split = ",", defaultValue = "256,1024")
    List<Integer> lengths;

    @Option(names = "--site", defaultValue = "hook_resid_post", description = "Site kind (default: ${DEFAULT-VALUE}).")
    String siteKind;

    @Option(names = "--site-layer", description = "Layer of the site (default: the middle one).")
    Integer siteLayer;

    @Option(names = "--repeats", defaultValue = "2", description = "Timed runs per length; the best is reported (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--python", defaultValue = "/usr/bin/python3")
    String python;

    @Option(names = "--no-torch", description = "Measure ipg only.")
    boolean noTorch;

    @Option(names = "--torch-max-len", paramLabel = "T", defaultValue = "8192",
            description = "Longest T given to PyTorch (longer ones are reported as not run; default: ${DEFAULT-VALUE}).")
    int torchMaxLen;

    @Option(names = "--out", paramLabel = "FILE")
    Path out;

    static RandomCheckpoint.Spec spec(String shape, DType dtype) {
        return switch (shape) {
            case "qwen2.5-0.5b" -> ModelBench.qwen05(dtype);
            case "qwen2.5-1.5b" -> new RandomCheckpoint.Spec(Family.QWEN2, 1536, 28, 12, 2, 0, 8960, 151936, 32768, dtype, true,
                    false, false);
            default -> throw new IllegalStateException("--shape: unknown shape " + shape + "; expected qwen2.5-0.5b or qwen2.5-1.5b");
        };
    }

    @Override
    public Integer call() throws Exception {
        Path dir = model;
        if (dir == null) {
            dir = work.resolve(shape + "-shape-" + dtype.name().toLowerCase(Locale.ROOT));
            if (!Files.exists(dir.resolve("model.safetensors"))) {
                System.err.println("[bench] writing random checkpoint " + dir);
                RandomCheckpoint.write(dir, spec(shape, dtype), 1);
            }
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode all = json.createObjectNode();
        all.put("date", ZonedDateTime.now().toString());
        all.put("machine", BenchEnv.machine());
        all.put("model", dir.toString());
        ObjectNode ipg = all.putObject("ipg");
        String siteName;
        try (Parallel pool = Parallel.of(threads); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool)) {
            int layer = siteLayer != null ? siteLayer : m.config().numLayers() / 2;
            Site site = Site.parse("blocks." + layer + "." + siteKind).checkIn(m.config());
            siteName = site.toString();
            ipg.put("site", siteName);
            ipg.put("kernels", m.kernels().name());
            ReverseMode rm = new ReverseMode(m);
            run(m, rm, site, 16);   // warm-up
            for (int t : lengths) {
                System.err.println("[bench] " + rm.describePlan(t, site, false));
                // peaks of this length alone: the kernel's RSS high-water mark and the heap pools' peaks are reset
                boolean reset = BenchEnv.resetPeaks();
                double best = Double.MAX_VALUE;
                for (int i = 0; i < repeats; i++) {
                    best = Math.min(best, run(m, rm, site, t));
                }
                ipg.put("T" + t + "_tokens_per_s", t / best);
                ipg.put("T" + t + "_seconds", best);
                ipg.put("T" + t + "_planned_mb", rm.plannedBytes(t, site, false) / 1048576.0);
                ipg.put("rss_peak_mb_after_T" + t, BenchEnv.peakRssMb());
                ipg.put("T" + t + "_rss_peak_mb", BenchEnv.peakRssMb());
                ipg.put("T" + t + "_rss_peak_is_per_length", reset);
                ipg.put("T" + t + "_heap_peak_mb", BenchEnv.heapPeakMb());
                System.err.printf(Locale.ROOT, "[bench] ipg fwd+bwd T=%d: %.1f tokens/s, peak RSS %.0f MB, heap high-water %.0f MB%n", t,
                        t / best, BenchEnv.peakRssMb(), BenchEnv.heapPeakMb());
            }
        }
        JsonNode torch = null;
        if (!noTorch) {
            String kind = siteName.substring(siteName.indexOf('.', "blocks.".length()) + 1);
            int layer = Integer.parseInt(siteName.split("\\.")[1]);
            torch = BenchEnv.runJson(List.of(python, BenchEnv.script("torch_model_bench.py").toString(), "--model", dir.toString(),
                    "--threads", Integer.toString(threads), "--phases", "fwd_bwd", "--site", kind, "--site-layer",
                    Integer.toString(layer), "--grad-lens", String.join(",", lengths.stream().filter(t -> t <= torchMaxLen)
                            .map(String::valueOf).toList())));
            all.set("torch", torch);
        }
        System.out.printf(Locale.ROOT, "%-28s %12s %12s %8s %10s %14s %12s%n", "fwd+bwd to " + siteName, "ipg tok/s", "torch tok/s", "ratio",
                "ipg s", "ipg RSS/heap", "torch RSS");
        for (int t : lengths) {
            double a = ipg.path("T" + t + "_tokens_per_s").asDouble();
            JsonNode tb = torch == null ? null : torch.path("fwd_bwd").path("T" + t + "_tokens_per_s");
            double b = tb == null || !tb.isNumber() ? Double.NaN : tb.asDouble();
            double trss = torch == null ? Double.NaN : torch.path("rss_mb").path("after_fwd_bwd_T" + t).asDouble(Double.NaN);
            System.out.printf(Locale.ROOT, "%-28s %12.1f %12s %8s %10.2f %8.0f/%-5.0f %12s%n", "T = " + t, a,
                    Double.isNaN(b) ? (t > torchMaxLen || torch == null ? "-" : "failed") : String.format(Locale.ROOT, "%.1f", b),
                    Double.isNaN(b) ? "-" : String.format(Locale.ROOT, "%.2fx", a / b), ipg.path("T" + t + "_seconds").asDouble(),
                    ipg.path("T" + t + "_rss_peak_mb").asDouble(), ipg.path("T" + t + "_heap_peak_mb").asDouble(),
                    Double.isNaN(trss) ? "-" : String.format(Locale.ROOT, "%.0f MB", trss));
        }
        // growth with T: seconds per token relative to the shortest length (flat while the weights dominate,
        // rising linearly once the quadratic attention does)
        int t0 = lengths.getFirst();
        double perTok0 = ipg.path("T" + t0 + "_seconds").asDouble() / t0;
        StringBuilder growth = new StringBuilder("ipg seconds per token relative to T = " + t0 + ":");
        for (int t : lengths) {
            double r = ipg.path("T" + t + "_seconds").asDouble() / t / perTok0;
            ipg.put("T" + t + "_cost_per_token_vs_T" + t0, r);
            growth.append(String.format(Locale.ROOT, " T=%d %.2fx", t, r));
        }
        System.out.println(growth);
        System.out.printf(Locale.ROOT, "peak RSS: ipg %.0f MB%s%n", ipg.path("rss_peak_mb_after_T" + lengths.getLast()).asDouble(),
                torch == null ? "" : String.format(Locale.ROOT, ", torch %.0f MB", torch.path("peak_rss_mb").asDouble()));
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, json.writerWithDefaultPrettyPrinter().writeValueAsString(all));
        }
        return 0;
    }

    private static double run(Transformer m, ReverseMode rm, Site site, int t) {
        int[] ids = ModelBench.tokens(t, m.config().vocabSize(), t);
        long t0 = System.nanoTime();
        rm.siteGradients(List.of(new Trajectory(ids, 1)), Interpolation.uniform(site, site.width(m.config()), 1f), false);
        return (System.nanoTime() - t0) / 1e9;
    }
}
