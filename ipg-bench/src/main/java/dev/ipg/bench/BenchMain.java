package dev.ipg.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code ipg-bench}: {@code gemm} compares the engine's matmul with numpy/OpenBLAS
 * on the same shapes in the same run; {@code model}, {@code grad} and {@code ipg} compare prefill/decode,
 * forward + backward and the whole IPG estimator with PyTorch; {@code bandwidth} measures the memory
 * read bandwidth that bounds decode; {@code cold} times a one-shot {@code ipg logits} in fresh JVMs;
 * {@code hash} times the content hash of a checkpoint's weights;
 * {@code sae} times TopK SAE training and encoding beside PyTorch;
 * {@code spark} times {@code ipg attribute} on a standalone Spark cluster of one-core workers beside the plain command;
 * {@code jmh} runs the JMH benchmarks packaged in this jar.
 */
@Command(name = "ipg-bench", mixinStandardHelpOptions = true,
        description = "Benchmarks of the ipg engine.",
        subcommands = {GemmCommand.class, ModelBench.class, Bandwidth.class, ColdStart.class, GradBench.class, IpgBench.class, HashBench.class,
                SaeBench.class, SparkBench.class, JmhCommand.class,
                CommandLine.HelpCommand.class})
public final class BenchMain implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new BenchMain());
        // everything after 'jmh' belongs to JMH, options included
        cl.getSubcommands().get("jmh").setUnmatchedOptionsArePositionalParams(true);
        // environment problems (no numpy, no script, no incubator module) are one line, not a trace
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof IllegalStateException) {
                System.err.println("ipg-bench: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        System.exit(cl.execute(args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
