package dev.ipg.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ipg-bench}. */
@Command(name = "ipg-bench", mixinStandardHelpOptions = true,
        description = "Benchmarks of the ipg engine, side by side with OpenBLAS and PyTorch in the same run.",
        subcommands = {ModelBench.class, GradBench.class, IpgBench.class, CommandLine.HelpCommand.class})
public final class BenchMain implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }
}
