package dev.ipg.cli;

import dev.ipg.core.IpgException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code ipg} command. */
@Command(name = "ipg", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Find and steer the internal components behind a language model's reasoning "
                + "(Integrated Policy Gradient).",
        subcommands = {InspectCommand.class, GenerateCommand.class, LogitsCommand.class, AttributeCommand.class,
                BaselineCommand.class, SteerCommand.class, EvalCommand.class, CompareCommand.class, ReportCommand.class, ExportCommand.class,
                DemoCommand.class, TrainDemoCommand.class, SaeCommand.class, RandomModelCommand.class, WarmUpCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit code: 0 success, 1 bad input, 2 bad usage, 3 internal error. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("ipg: " + ex.getMessage().lines().findFirst().orElse("bad arguments")
                    + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            Throwable t = ex;
            while (t != null && !(t instanceof IpgException)) {
                t = t.getCause();
            }
            if (t != null) {
                err.println("ipg: " + t.getMessage());
                return 1;
            }
            if (ex instanceof java.io.UncheckedIOException || ex instanceof java.io.IOException) {
                err.println("ipg: " + ex.getMessage());
                return 1;
            }
            err.println("ipg: internal error (a bug; please report it with the stack trace below)");
            ex.printStackTrace(err);
            return 3;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("ipg: out of memory; raise the Java heap with IPG_HEAP (e.g. IPG_HEAP=16g)");
            return 1;
        }
    }

    /** Version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"ipg " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
