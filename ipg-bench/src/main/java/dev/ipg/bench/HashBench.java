package dev.ipg.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.io.ModelFingerprint;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Time of the content hash that identifies a checkpoint's weights in run configurations
 * ({@link ModelFingerprint#fileHash}): every round hashes every weight file without the cache
 * (the first round may read from disk, later ones from the page cache), then the cached lookup
 * that later commands pay is timed too.
 */
@Command(name = "hash", mixinStandardHelpOptions = true,
        description = "Time the content hash of a checkpoint's weight files (uncached and cached).")
final class HashBench implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", description = "Checkpoint directory (default: a random Qwen2.5-0.5B-shaped BF16 one).")
    Path model;

    @Option(names = "--work", defaultValue = "bench-out", description = "Where the default checkpoint is written (default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--rounds", defaultValue = "3", description = "Uncached hashes of every file (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the results as JSON.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path dir = model;
        if (dir == null) {
            dir = work.resolve("qwen2.5-0.5b-shape-bf16");
            if (!Files.exists(dir.resolve("model.safetensors"))) {
                System.err.println("[bench] writing random checkpoint " + dir);
                RandomCheckpoint.write(dir, ModelBench.qwen05(DType.BF16), 1);
            }
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IllegalStateException(dir + " holds no .safetensors files");
        }
        long bytes = 0;
        for (Path f : files) {
            bytes += Files.size(f);
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode r = json.createObjectNode();
        r.put("date", ZonedDateTime.now().toString());
        r.put("machine", BenchEnv.machine());
        r.put("model", dir.toString());
        r.put("files", files.size());
        r.put("bytes", bytes);
        r.put("processors", Runtime.getRuntime().availableProcessors());
        ArrayNode rs = r.putArray("uncached_s");
        System.out.printf(Locale.ROOT, "%s: %d weight files, %.2f GB, %d processors%n", dir, files.size(), bytes / 1e9,
                Runtime.getRuntime().availableProcessors());
        double best = Double.MAX_VALUE;
        for (int k = 0; k < rounds; k++) {
            long t0 = System.nanoTime();
            for (Path f : files) {
                ModelFingerprint.fileHash(f);
            }
            double s = (System.nanoTime() - t0) / 1e9;
            best = Math.min(best, s);
            rs.add(s);
            System.out.printf(Locale.ROOT, "  round %d: %.3f s (%.2f GB/s)%n", k + 1, s, bytes / 1e9 / s);
        }
        ModelFingerprint.weightsHash(dir, files, true); // fills the cache
        long t0 = System.nanoTime();
        ModelFingerprint.weightsHash(dir, files, true);
        double cached = (System.nanoTime() - t0) / 1e9;
        r.put("best_uncached_s", best);
        r.put("best_gb_per_s", bytes / 1e9 / best);
        r.put("cached_s", cached);
        System.out.printf(Locale.ROOT, "  best %.3f s (%.2f GB/s); cached lookup %.4f s%n", best, bytes / 1e9 / best, cached);
        if (out != null) {
            Files.writeString(out, json.writeValueAsString(r));
        }
        return 0;
    }
}
