package dev.ipg.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.IpgEstimator;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Seconds per prompt of Integrated Policy Gradient (q path points, N samples each, a fixed number
 * of new tokens), split into sampling and backward.
 */
@Command(name = "ipg", mixinStandardHelpOptions = true,
        description = "Seconds per prompt of IPG attribution, split into sampling and backward.")
public final class IpgBench implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", description = "Checkpoint (default: a random Qwen2.5-0.5B-shaped one).")
    Path model;

    @Option(names = "--work", defaultValue = "bench-out")
    Path work;

    @Option(names = "--threads", defaultValue = "2")
    int threads;

    @Option(names = "--steps", defaultValue = "10")
    int steps;

    @Option(names = "--samples", defaultValue = "5")
    int samples;

    @Option(names = "--new-tokens", defaultValue = "128")
    int newTokens;

    @Option(names = "--prompt-len", defaultValue = "64")
    int promptLen;

    @Option(names = "--prompts", defaultValue = "1", description = "Prompts to time (default: ${DEFAULT-VALUE}).")
    int prompts;

    @Option(names = "--site", defaultValue = "hook_resid_post")
    String siteKind;

    @Option(names = "--out", paramLabel = "FILE")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path dir = model;
        if (dir == null) {
            dir = work.resolve("qwen2.5-0.5b-shape-f32");
            if (!Files.exists(dir.resolve("model.safetensors"))) {
                System.err.println("[bench] writing random checkpoint " + dir);
                RandomCheckpoint.write(dir, ModelBench.qwen05(DType.F32), 1);
            }
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("date", ZonedDateTime.now().toString());
        r.put("machine", BenchEnv.machine());
        r.put("model", dir.toString());
        try (Parallel pool = Parallel.of(threads); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool)) {
            Site site = Site.parse("blocks." + m.config().numLayers() / 2 + "." + siteKind);
            // rewards vary between samples, so every group is back-propagated (the expensive case)
            IpgOptions opt = new IpgOptions(steps, samples, 1.0, 1.0, 0, newTokens, Advantage.GRPO, IpgOptions.BaselineKind.ZERO,
                    IpgOptions.SamplingMode.ON_PATH, IpgOptions.Positions.ALL, Quadrature.RIEMANN_RIGHT, 1);
            IpgEstimator est = new IpgEstimator(m, opt, Set.of(), cs -> cs.stream().mapToDouble(c -> {
                long s = 0;
                for (int t : c) {
                    s += t;
                }
                return s % 3;
            }).toArray());
            r.put("site", site.toString());
            r.put("kernels", m.kernels().name());
            r.put("steps", steps);
            r.put("samples", samples);
            r.put("new_tokens", newTokens);
            r.put("prompt_len", promptLen);
            double total = 0;
            double sampling = 0;
            double backward = 0;
            for (int p = 0; p < prompts; p++) {
                int[] prompt = ModelBench.tokens(promptLen, m.config().vocabSize(), 1000 + p);
                long t0 = System.nanoTime();
                var res = est.attribute(prompt, site, null, p);
                total += (System.nanoTime() - t0) / 1e9;
                sampling += res.samplingSeconds();
                backward += res.backwardSeconds();
                System.err.printf(Locale.ROOT, "[bench] prompt %d: %.1f s (sampling %.1f s, backward %.1f s, %d tokens)%n", p,
                        (System.nanoTime() - t0) / 1e9, res.samplingSeconds(), res.backwardSeconds(), res.generatedTokens());
            }
            r.put("seconds_per_prompt", total / prompts);
            r.put("sampling_seconds_per_prompt", sampling / prompts);
            r.put("backward_seconds_per_prompt", backward / prompts);
            r.put("rss_peak_mb", BenchEnv.peakRssMb());
            System.out.printf(Locale.ROOT, "IPG q=%d N=%d %d new tokens at %s: %.1f s per prompt (sampling %.1f s, backward %.1f s)%n",
                    steps, samples, newTokens, site, total / prompts, sampling / prompts, backward / prompts);
        }
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, json.writerWithDefaultPrettyPrinter().writeValueAsString(r));
        }
        return 0;
    }
}
