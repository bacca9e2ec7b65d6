package dev.ipg.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paths on a real standalone cluster (one worker, {@link LocalCluster}), whose executors work in
 * their own directory, not the driver's: a relative path inside a string option resolves against
 * the driver's working directory there too; a sampled baseline's executors open what they need
 * from the command's options; a model directory that exists for the driver only is one clear line
 * naming the path and the executor, and leaves no half-written file.
 */
class ClusterPathsTest {

    @TempDir
    static Path tmp;

    static LocalCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = LocalCluster.start(tmp, 1);
    }

    @AfterAll
    static void stopCluster() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    static final String[] SMALL = {"--site", "blocks.1.hook_resid_post", "--samples", "2", "--steps", "2", "--max-new-tokens", "20"};

    static List<String> attribute(Path out, String... more) {
        List<String> a = new ArrayList<>(StandaloneClusterTest.attribute(out, SMALL));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void aRelativePathInAStringOptionResolvesAgainstTheDriversDirectory() throws Exception {
        Path first = tmp.resolve("first");
        SparkRunTest.ok(attribute(first));
        // relative to this (the driver's) directory; an executor's own directory is elsewhere
        String candidates = Path.of("").toAbsolutePath().relativize(first) + ":top=3";
        assertTrue(!Path.of(candidates).isAbsolute() && candidates.startsWith(".."), candidates);
        Path out = tmp.resolve("second");
        Path plain = tmp.resolve("second-plain");
        SparkRunTest.ok(attribute(out, "--candidates", candidates));
        Files.move(out, plain);
        SparkRunTest.Run r = SparkRunTest.ok(attribute(out, "--candidates", candidates, "--spark", cluster.master));
        assertTrue(r.err().contains("top 3 candidates"), r.err());
        SparkRunTest.assertSameRun(plain, out);
    }

    @Test
    void aSampledBaselineOnTheClusterIsTheSingleMachineRun() throws Exception {
        // the executors open the model, the tokenizer and the signal from the command's own options
        Path out = tmp.resolve("pg");
        Path plain = tmp.resolve("pg-plain");
        SparkRunTest.ok(SparkBaselineCompareTest.baseline(out, "pg"));
        Files.move(out, plain);
        SparkRunTest.ok(SparkBaselineCompareTest.with(SparkBaselineCompareTest.baseline(out, "pg"), "--spark", cluster.master));
        assertTrue(SparkBaselineCompareTest.assertSameTree(plain, out).containsKey("prompts/00004.safetensors"));
    }

    @Test
    void aModelDirectoryTheExecutorsCannotSeeIsOneLineAndNoHalfWrittenFile() throws Exception {
        // /proc/self/cwd is the working directory of the process that reads it: this path names the
        // model for the driver, and a directory that does not exist for the executor (in its own directory)
        Path link = Files.createDirectories(Path.of("target")).resolve("driver-only-model-" + ProcessHandle.current().pid());
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, SparkRunTest.demo());
        try {
            String model = "/proc/self/cwd/" + link;
            assertTrue(Files.isRegularFile(Path.of(model, "model.safetensors")), model);
            Path out = tmp.resolve("missing-model");
            List<String> args = attribute(out, "--spark", cluster.master);
            args.set(args.indexOf("-m") + 1, model);
            SparkRunTest.Run r = SparkRunTest.ipg(args);
            assertEquals(1, r.code(), r.err() + r.out());
            String err = r.err().strip();
            // one error line (the others are the announcement and the progress), no trace
            List<String> errors = err.lines().filter(l -> l.startsWith("ipg: ")).toList();
            assertEquals(1, errors.size(), err);
            assertTrue(err.lines().noneMatch(l -> l.contains("Exception") || l.strip().startsWith("at ")), err);
            String line = errors.getFirst();
            assertTrue(line.matches("ipg: executor \\d+ on 127\\.0\\.0\\.1: --model " + java.util.regex.Pattern.quote(model)
                    + ": the model directory is missing on this executor; .*"), line);
            Set<String> left = SparkRunTest.files(out).keySet();
            assertTrue(left.stream().noneMatch(n -> n.startsWith("prompts/") || n.endsWith(".tmp") || n.equals("run.json")
                    || n.equals("scores.safetensors")), left::toString);
        } finally {
            Files.delete(link);
        }
    }
}
