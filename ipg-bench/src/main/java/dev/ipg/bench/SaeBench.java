package dev.ipg.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.generate.Sampler;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.KVCache;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeSplice;
import dev.ipg.core.sae.TopKTrainer;
import dev.ipg.core.tensor.DType;
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
 * TopK SAE costs on a model's residual stream, beside PyTorch in the same run
 * ({@code sae_step_ref.py}): the training step of {@link TopKTrainer} (the one {@code ipg sae train}
 * runs: TopK encoder, sparse decoder, MSE, the decoder gradient's parallel part removed, Adam, unit
 * decoder rows) in rows/s on Gaussian rows of the site's width, the time to encode one row, and
 * the cost per generated token of an SAE spliced in with its error term (greedy decoding of one
 * sequence with and without the splice; the difference is the encode overhead). Models: the bundled
 * demo model and a random checkpoint with the shapes of Qwen2.5-0.5B, each at the middle block's
 * {@code hook_resid_post}.
 */
@Command(name = "sae", mixinStandardHelpOptions = true,
        description = "TopK SAE training rows/s, encode time per row and per generated token, ipg vs PyTorch, on the demo model "
                + "and the Qwen2.5-0.5B shape.")
final class SaeBench implements Callable<Integer> {

    @Option(names = "--models", split = ",", paramLabel = "demo|qwen05", defaultValue = "demo,qwen05",
            description = "Which models (default: ${DEFAULT-VALUE}).")
    List<String> models;

    @Option(names = "--demo", paramLabel = "DIR", description = "The demo model (default: models/ipg-demo above the working directory).")
    Path demo;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "bench-out",
            description = "Where the random 0.5B-shaped checkpoint is written and kept (default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--expansion", paramLabel = "E", defaultValue = "16", description = "d_sae = E x d_model (default: ${DEFAULT-VALUE}).")
    int expansion;

    @Option(names = "--k", paramLabel = "K", defaultValue = "32", description = "Latents kept per row (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--batch", paramLabel = "ROWS", defaultValue = "256", description = "Rows per training step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "5", description = "Timed training steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "1", description = "Untimed training steps first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--encodes", paramLabel = "N", defaultValue = "200", description = "Rows encoded one at a time (default: ${DEFAULT-VALUE}).")
    int encodes;

    @Option(names = "--gen-tokens", paramLabel = "N", defaultValue = "32", description = "Greedy tokens generated with and without the SAE (default: ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = "--prompt-len", paramLabel = "N", defaultValue = "16", description = "Prompt tokens before generating (default: ${DEFAULT-VALUE}).")
    int promptLen;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "3", description = "Generation repeats; the best is kept (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "2",
            description = "Threads of the model and of PyTorch; ipg's training step runs on one (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--torch-threads", paramLabel = "N", description = "PyTorch threads for the training step (default: 1, as ipg's step).")
    Integer torchThreads;

    @Option(names = "--python", paramLabel = "EXE", defaultValue = "/usr/bin/python3", description = "Python with torch (default: ${DEFAULT-VALUE}).")
    String python;

    @Option(names = "--no-torch", description = "Measure ipg only.")
    boolean noTorch;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the results as JSON.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (expansion < 1 || k < 1 || batch < 1 || steps < 1 || warmup < 0 || encodes < 1 || genTokens < 1 || promptLen < 1 || repeats < 1
                || threads < 1) {
            throw new IllegalStateException("--expansion, --k, --batch, --steps, --encodes, --gen-tokens, --prompt-len, --repeats and "
                    + "--threads must be >= 1, --warmup >= 0");
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode r = json.createObjectNode();
        r.put("date", ZonedDateTime.now().toString());
        r.put("machine", BenchEnv.machine());
        r.put("threads", threads);
        r.put("expansion", expansion);
        r.put("k", k);
        r.put("batch", batch);
        ArrayNode rows = r.putArray("models");
        for (String name : models) {
            Path dir = switch (name.strip()) {
                case "demo" -> demoDir();
                case "qwen05" -> {
                    Path d = work.resolve("qwen2.5-0.5b-shape");
                    if (!Files.exists(d.resolve("model.safetensors"))) {
                        System.err.println("[bench] writing random checkpoint " + d);
                        RandomCheckpoint.write(d, ModelBench.qwen05(DType.F32), 1);
                    }
                    yield d;
                }
                default -> throw new IllegalStateException("--models: unknown model '" + name + "' (demo or qwen05)");
            };
            rows.add(measure(json, name.strip(), dir));
        }
        if (out != null) {
            Files.writeString(out, json.writeValueAsString(r));
            System.err.println("[bench] wrote " + out);
        }
        return 0;
    }

    private Path demoDir() {
        if (demo != null) {
            return demo;
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path m = d.resolve("models").resolve("ipg-demo");
            if (Files.isRegularFile(m.resolve("config.json"))) {
                return m;
            }
        }
        throw new IllegalStateException("cannot find models/ipg-demo above " + Path.of("").toAbsolutePath() + "; give --demo DIR");
    }

    private ObjectNode measure(ObjectMapper json, String name, Path dir) throws IOException, InterruptedException {
        ObjectNode r = json.createObjectNode();
        try (Parallel pool = Parallel.of(threads); Transformer m = Transformer.load(dir, KernelsProvider.lookup(), pool)) {
            Site site = new Site(m.config().numLayers() / 2, Site.Kind.RESID_POST);
            int d = site.width(m.config());
            int n = Math.multiplyExact(d, expansion);
            if (k > n) {
                throw new IllegalStateException("--k " + k + " exceeds d_sae " + n);
            }
            r.put("model", name);
            r.put("dir", dir.toString());
            r.put("site", site.toString());
            r.put("d_in", d);
            r.put("d_sae", n);
            System.err.printf(Locale.ROOT, "[bench] %s: TopK SAE at %s, d_in %d, d_sae %d, k %d; %d + %d steps of %d rows%n", name, site, d, n, k,
                    warmup, steps, batch);
            // training step, single-threaded as in ipg sae train
            TopKTrainer t = new TopKTrainer(d, new TopKTrainer.Options(n, k, 1e-3, 1.0 / 32, Long.MAX_VALUE / 4, 0));
            SplittableRandom rng = new SplittableRandom(1);
            float[] x = new float[batch * d];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble()));
            }
            for (int s = 0; s < warmup; s++) {
                t.step(x, batch);
                System.err.printf(Locale.ROOT, "[bench]   warm-up step %d/%d%n", s + 1, warmup);
            }
            long t0 = System.nanoTime();
            TopKTrainer.Stats last = null;
            for (int s = 0; s < steps; s++) {
                last = t.step(x, batch);
                System.err.printf(Locale.ROOT, "[bench]   step %d/%d: %.1f rows/s so far%n", s + 1, steps,
                        (s + 1) * (double) batch / ((System.nanoTime() - t0) / 1e9));
            }
            double trainS = (System.nanoTime() - t0) / 1e9;
            r.put("ipg_train_rows_per_s", steps * (double) batch / trainS);
            r.put("ipg_train_last_fvu", last.fvu());
            // one row encoded at a time
            Sae sae = t.sae(site, "bench");
            float[] row = new float[d];
            System.arraycopy(x, 0, row, 0, d);
            for (int i = 0; i < 5; i++) {
                sae.encode(row, 0);
            }
            long e0 = System.nanoTime();
            for (int i = 0; i < encodes; i++) {
                row[i % d] += 1e-3f;
                sae.encode(row, 0);
            }
            double encodeMs = (System.nanoTime() - e0) / 1e6 / encodes;
            r.put("ipg_encode_ms_per_row", encodeMs);
            // generation with and without the splice
            double plain = Double.MAX_VALUE;
            double spliced = Double.MAX_VALUE;
            Hooks splice = new SaeSplice(sae).hooks();
            generate(m, Hooks.none()); // warm-up of both paths (JIT), untimed
            generate(m, splice);
            for (int rep = 0; rep < repeats; rep++) {
                plain = Math.min(plain, generate(m, Hooks.none()));
                spliced = Math.min(spliced, generate(m, splice));
            }
            r.put("ipg_decode_ms_per_token", 1000 * plain / genTokens);
            r.put("ipg_decode_ms_per_token_with_sae", 1000 * spliced / genTokens);
            r.put("ipg_sae_overhead_ms_per_token", 1000 * (spliced - plain) / genTokens);
            System.err.printf(Locale.ROOT, "[bench]   ipg: %.1f rows/s training, encode %.3f ms/row; decode %.2f -> %.2f ms/token with the SAE%n",
                    steps * (double) batch / trainS, encodeMs, 1000 * plain / genTokens, 1000 * spliced / genTokens);
            if (!noTorch) {
                List<String> cmd = new ArrayList<>(List.of(python, BenchEnv.script("sae_step_ref.py").toString(), "--d", Integer.toString(d),
                        "--latents", Integer.toString(n), "--k", Integer.toString(k), "--batch", Integer.toString(batch),
                        "--steps", Integer.toString(steps), "--warmup", Integer.toString(warmup), "--encodes", Integer.toString(encodes),
                        "--threads", Integer.toString(torchThreads == null ? 1 : torchThreads)));
                JsonNode tr = BenchEnv.runJson(cmd);
                r.set("torch", tr);
                System.err.printf(Locale.ROOT, "[bench]   torch %s (%d threads): %.1f rows/s training, encode %.3f ms/row%n",
                        tr.path("torch").asText(), tr.path("threads").asInt(), tr.path("rows_per_s").asDouble(),
                        tr.path("encode_ms_per_row").asDouble());
            }
            r.put("rss_peak_mb", BenchEnv.peakRssMb());
        }
        System.out.println(r.toString());
        return r;
    }

    /** Seconds for {@link #genTokens} greedy decode steps of one sequence after a random prompt. */
    private double generate(Transformer m, Hooks hooks) {
        int v = m.config().vocabSize();
        int[] prompt = ModelBench.tokens(promptLen, v, 7);
        KVCache cache = m.newCache(1, promptLen + genTokens);
        float[] l = m.forward(Batch.ofSequence(0, 0, prompt), cache, hooks, new int[] {promptLen - 1});
        int next = Sampler.argmax(l, 0, v);
        long t0 = System.nanoTime();
        for (int s = 0; s < genTokens; s++) {
            l = m.forward(new Batch(new int[] {next}, new int[] {0}, new int[] {promptLen + s}), cache, hooks, new int[] {0});
            next = Sampler.argmax(l, 0, v);
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
