package dev.ipg.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Runs the JMH benchmarks of this jar; arguments are passed to JMH unchanged (try {@code -h}). */
@Command(name = "jmh", description = "Run the JMH benchmarks (arguments go to JMH, e.g. 'jmh Matmul -f 1').")
final class JmhCommand implements Callable<Integer> {

    @Parameters(arity = "0..*", description = "JMH arguments")
    private List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        org.openjdk.jmh.Main.main(args.toArray(String[]::new));
        return 0;
    }
}
