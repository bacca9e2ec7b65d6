package dev.ipg.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Spark standalone cluster on loopback: a master and two workers of one core each, separate
 * JVMs started by the test (Spark's jars are this test's class path, laid out as a Spark home), and
 * the command line as the driver. One worker is killed (with its executor) while the run is under
 * way: its items run again on the other, and the run directory is bit for bit the single-machine one.
 * Every process the test starts is stopped by it.
 */
class StandaloneClusterTest {

    @TempDir
    Path tmp;

    static long donePrompts(Path run) throws IOException {
        Path prompts = run.resolve("prompts");
        if (!Files.isDirectory(prompts)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(prompts)) {
            return s.filter(p -> p.getFileName().toString().matches("\\d{5}\\.json")).count();
        }
    }

    @Test
    void aWorkerKilledMidRunLosesNothingAndChangesNothing() throws Exception {
        try (LocalCluster c = LocalCluster.start(tmp, 2)) {
            killedWorker(c);
        }
    }

    private void killedWorker(LocalCluster c) throws Exception {
        String master = c.master;
        Path plain = tmp.resolve("plain");
        Path cluster = tmp.resolve("cluster");
        String[] small = {"--limit", "8", "--site", "blocks.1.hook_resid_post", "--samples", "2", "--steps", "2", "--max-new-tokens", "30"};
        long t0 = System.nanoTime();
        SparkRunTest.ok(attribute(plain, small));
        System.err.printf("single machine: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        long t1 = System.nanoTime();
        List<String> withCluster = attribute(cluster, small);
        withCluster.addAll(List.of("--spark", master));
        CompletableFuture<SparkRunTest.Run> run = CompletableFuture.supplyAsync(() -> SparkRunTest.ipg(withCluster));

        // kill a worker and its executor once the run is under way
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
        while (donePrompts(cluster) < 2 && !run.isDone() && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertTrue(!run.isDone() && donePrompts(cluster) < 8, "the run ended before a worker could be killed: "
                + (run.isDone() ? run.get().err() : donePrompts(cluster) + " prompts"));
        c.kill(0);
        long killedAt = donePrompts(cluster);

        System.err.printf("worker killed after %.1f s with %d prompts done%n", (System.nanoTime() - t1) / 1e9, killedAt);
        SparkRunTest.Run r = run.get(240, TimeUnit.SECONDS);
        System.err.printf("cluster run: %.1f s%n%s", (System.nanoTime() - t1) / 1e9, r.err());
        assertEquals(0, r.code(), () -> r.err() + r.out());
        assertTrue(killedAt < 8, "killed after " + killedAt);
        assertTrue(r.err().contains("lost"), "the loss of the executor is reported:\n" + r.err());
        SparkRunTest.assertSameRun(plain, cluster);
    }

    /** The attribution of SparkRunTest with the given options replacing its own. */
    static List<String> attribute(Path out, String... options) {
        List<String> base = SparkRunTest.attribute(out);
        List<String> a = new ArrayList<>();
        for (int i = 0; i < base.size(); i++) {
            String arg = base.get(i);
            boolean replaced = false;
            for (int k = 0; k < options.length; k += 2) {
                replaced |= options[k].equals(arg);
            }
            if (replaced) {
                i++;
                continue;
            }
            a.add(arg);
        }
        a.addAll(List.of(options));
        return a;
    }
}
