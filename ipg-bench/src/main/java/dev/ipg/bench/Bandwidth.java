package dev.ipg.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.TensorInfo;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Memory read bandwidth as the engine can use it: a Vector API streaming sum over a large
 * off-heap buffer (far larger than the caches), split in contiguous slices over 1 or more
 * threads, best of several passes. Batch-1 decode reads every weight once per token, so
 * {@code bandwidth / weight bytes per token} bounds its tokens/s.
 */
@Command(name = "bandwidth", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Memory read bandwidth (Vector API streaming sum), 1 and N threads.")
public final class Bandwidth implements Callable<Integer> {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Option(names = "--mb", paramLabel = "MB", defaultValue = "512", description = "Buffer size in MiB (default: ${DEFAULT-VALUE}).")
    int mb;

    @Option(names = "--threads", paramLabel = "N", split = ",", defaultValue = "1,2",
            description = "Thread counts to measure (default: ${DEFAULT-VALUE}).")
    List<Integer> threads;

    @Option(names = "--passes", paramLabel = "N", defaultValue = "10", description = "Timed passes; the best is reported (default: ${DEFAULT-VALUE}).")
    int passes;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the results as JSON.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (mb < 1 || passes < 1 || threads.stream().anyMatch(t -> t < 1)) {
            throw new IllegalStateException("--mb, --passes and --threads must be >= 1");
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("date", ZonedDateTime.now().toString());
        r.put("machine", BenchEnv.machine());
        r.put("buffer_mb", mb);
        r.put("vector_bits", S.vectorBitSize());
        for (int t : threads) {
            double gb = measure((long) mb << 20, t, passes);
            r.put("threads" + t + "_gb_per_s", gb);
            System.out.printf(Locale.ROOT, "read bandwidth, %d thread%s: %.1f GB/s%n", t, t == 1 ? "" : "s", gb);
        }
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, json.writerWithDefaultPrettyPrinter().writeValueAsString(r));
        }
        return 0;
    }

    /** Best GB/s (1e9 bytes) over {@code passes} reads of a buffer of {@code bytes}, split over {@code threads}. */
    static double measure(long bytes, int threads, int passes) throws InterruptedException {
        long step = (long) S.vectorByteSize() * 4;
        long size = bytes / (step * threads) * step * threads;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(size, 64);
            seg.fill((byte) 1); // touch every page before timing
            long slice = size / threads;
            double[] sink = new double[threads];
            double best = Double.MAX_VALUE;
            for (int p = 0; p < passes + 1; p++) {
                Thread[] ts = new Thread[threads];
                long t0 = System.nanoTime();
                for (int i = 0; i < threads; i++) {
                    final int id = i;
                    ts[i] = Thread.ofPlatform().start(() -> sink[id] += sum(seg, id * slice, slice));
                }
                for (Thread t : ts) {
                    t.join();
                }
                double s = (System.nanoTime() - t0) / 1e9;
                if (p > 0) { // the first pass warms the JIT
                    best = Math.min(best, s);
                }
            }
            if (Double.isNaN(java.util.Arrays.stream(sink).sum())) {
                throw new IllegalStateException("bandwidth: NaN sum");
            }
            return size / 1e9 / best;
        }
    }

    /** Sum of the floats in [off, off + len) with four independent accumulators. */
    private static double sum(MemorySegment seg, long off, long len) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        long vb = S.vectorByteSize();
        ByteOrder o = ByteOrder.nativeOrder();
        for (long i = off; i < off + len; i += 4 * vb) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, seg, i, o));
            a1 = a1.add(FloatVector.fromMemorySegment(S, seg, i + vb, o));
            a2 = a2.add(FloatVector.fromMemorySegment(S, seg, i + 2 * vb, o));
            a3 = a3.add(FloatVector.fromMemorySegment(S, seg, i + 3 * vb, o));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Bytes of weights one batch-1 decode step reads: every tensor of the checkpoint, except the
     * token and position embeddings when a separate LM head exists (one row of them is read; a
     * tied embedding is read whole, as the LM head).
     */
    /** Whether any tensor of the checkpoint in {@code dir} is stored as BF16. */
    static boolean hasBf16(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        for (Path f : files) {
            try (SafetensorsFile sf = SafetensorsFile.open(f)) {
                for (String n : sf.names()) {
                    if ("BF16".equals(sf.info(n).dtype())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    static long weightBytesPerToken(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        boolean separateHead = false;
        long total = 0;
        long embed = 0;
        for (Path f : files) {
            try (SafetensorsFile sf = SafetensorsFile.open(f)) {
                for (String n : sf.names()) {
                    TensorInfo ti = sf.info(n);
                    separateHead |= n.endsWith("lm_head.weight");
                    if (n.endsWith("embed_tokens.weight")) {
                        embed += ti.byteSize();
                    } else if (n.endsWith("wpe.weight")) {
                        continue;
                    }
                    total += ti.byteSize();
                }
            }
        }
        return separateHead ? total - embed : total;
    }
}
