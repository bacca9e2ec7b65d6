package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.AtomicFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ipg warm-up}: a short fixed workload that runs the engine's hot paths once, so that a JVM
 * started with {@code -XX:AOTCacheOutput=FILE} records them (loaded classes and method profiles)
 * into an ahead-of-time cache. The launcher does this once per build and starts every later command
 * with {@code -XX:AOTCache=FILE}: classes come from the cache already parsed and linked, and the JIT
 * compiles the hot kernels from the recorded profiles instead of waiting to collect its own.
 *
 * <p>The workload: two random checkpoints as wide as Qwen2.5-0.5B (hidden 896, 14 query and 2
 * key/value heads, MLP 4864; 2 blocks and a small vocabulary, so they are quick to write), one with
 * F32 and one with BF16 weights; on each, a 128-token forward with a gradient, batched sampling of 8
 * and one greedy completion; then IPG on one support problem of the bundled demo model, when it is
 * present. Every step goes through the same command code a user runs.
 */
@Command(name = "warm-up", mixinStandardHelpOptions = true,
        description = "Run a short fixed workload once (random F32 and BF16 checkpoints as wide as a 0.5B model: forward, "
                + "gradient, batched and greedy decoding; IPG on the bundled demo model). The ipg launcher runs it under "
                + "-XX:AOTCacheOutput once per build to make the start-up cache; it has no other use.")
final class WarmUpCommand implements Callable<Integer> {

    @Option(names = "--work", paramLabel = "DIR",
            description = "Directory for the temporary checkpoints (default: a new temporary directory, removed afterwards).")
    Path work;

    @Option(names = "--demo", paramLabel = "DIR",
            description = "The demo model whose tokenizer and support set the workload uses (default: the bundled models/ipg-demo).")
    Path demo;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "2",
            description = "Worker threads of each step (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--quiet", description = "Do not print the steps.")
    boolean quiet;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (threads < 1) {
            throw new IpgException("--threads must be at least 1 (got " + threads + ")");
        }
        PrintWriter log = spec.commandLine().getErr();
        Path demo = this.demo != null ? this.demo : DemoCommand.bundled();
        boolean hasDemo = Files.isRegularFile(demo.resolve("tokenizer.json")) && Files.isRegularFile(demo.resolve("support.jsonl"));
        if (!hasDemo) {
            throw new IpgException("the bundled demo model is missing at " + demo + " (its tokenizer is used for the prompts)");
        }
        boolean temporary = work == null;
        Path dir = temporary ? Files.createTempDirectory("ipg-warm-up") : Files.createDirectories(work);
        try {
            String ids = IntStream.range(0, 128).mapToObj(i -> Integer.toString(10 + (i * 37) % 200)).collect(Collectors.joining(","));
            for (String dtype : List.of("F32", "BF16")) {
                Path m = dir.resolve("wide-" + dtype.toLowerCase(Locale.ROOT));
                step(log, "random-model", "--out", m.toString(), "--force", "--family", "qwen2", "--hidden", "896", "--heads", "14",
                        "--kv-heads", "2", "--intermediate", "4864", "--layers", "2", "--vocab", "4096", "--context", "1024",
                        "--dtype", dtype, "--tokenizer", demo.toString());
                step(log, "logits", "--model", m.toString(), "--token-ids", ids, "--grad-site", "blocks.1.hook_resid_post",
                        "--out", dir.resolve("logits-" + dtype + ".safetensors").toString(), "--threads", Integer.toString(threads));
                step(log, "generate", "--model", m.toString(), "--prompt", "12+7=", "--num-samples", "8", "--max-new-tokens", "24",
                        "--temperature", "0.6", "--no-stream", "--threads", Integer.toString(threads));
                step(log, "generate", "--model", m.toString(), "--prompt", "12+7=", "--max-new-tokens", "24", "--temperature", "0",
                        "--no-stream", "--threads", Integer.toString(threads));
            }
            step(log, "attribute", "--model", demo.toString(), "--dataset", demo.resolve("support.jsonl").toString(), "--limit", "1",
                    "--site", "blocks.2.hook_resid_post", "--steps", "2", "--samples", "2", "--max-new-tokens", "32", "--chat", "--signal", "correct",
                    "--out", dir.resolve("attribution").toString(), "--threads", Integer.toString(threads));
            return 0;
        } finally {
            if (temporary) {
                AtomicFiles.deleteTree(dir);
            }
        }
    }

    /** Runs one ipg command in this JVM; its output is dropped, a failure ends the warm-up with its message. */
    private void step(PrintWriter log, String... args) {
        if (!quiet) {
            log.println("ipg warm-up: " + args[0]);
        }
        StringWriter err = new StringWriter();
        int rc = Main.run(args, new PrintWriter(OutputStream.nullOutputStream(), true), new PrintWriter(err, true));
        if (rc != 0) {
            throw new IpgException("warm-up step '" + args[0] + "' failed: " + err.toString().strip());
        }
    }
}
