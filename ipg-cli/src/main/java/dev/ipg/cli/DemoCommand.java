package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.ModelConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ipg demo}: the whole pipeline on the bundled reasoning model, offline: IPG on the support
 * split, the comparison with the baselines on the evaluation split under enhance and suppress,
 * the gamma sweep, and the HTML report. It runs {@code ipg compare} and {@code ipg report} with
 * settings sized for a laptop, so what it prints is exactly what those commands measure.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the whole pipeline on the bundled demo model: IPG attribution on its support split, the comparison "
                + "with the baselines (enhance / suppress) on its evaluation split, a gamma sweep, and the HTML report.",
                "Equivalent to 'ipg compare' then 'ipg report' with the settings printed at the start; rerunning resumes. "
                + "Prints the measured table and whether IPG beats every baseline, also when it does not."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "Model directory (default: the bundled models/ipg-demo).")
    Path model;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = "demo-out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--site", paramLabel = "SITE", description = "Site (default: the middle block's hook_resid_post).")
    String site;

    @Option(names = "--support-limit", paramLabel = "M", defaultValue = "64", description = "Support problems attributed (default: ${DEFAULT-VALUE}).")
    int supportLimit;

    @Option(names = "--eval-limit", paramLabel = "N", defaultValue = "300", description = "Evaluation problems per condition (default: ${DEFAULT-VALUE}).")
    int evalLimit;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "10", description = "IPG path points (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "5", description = "IPG samples per point (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--top-percent", paramLabel = "P", description = "Top P percent of the components selected (default: 5).")
    String topPercent;

    @Option(names = "--top-count", paramLabel = "K", description = "Top K components selected, instead of --top-percent.")
    String topCount;

    @Option(names = "--top", hidden = true, paramLabel = "X")
    void retiredTop(String value) {
        throw SelectionOptions.retired(spec, "--top", "--top-percent P (a percentage) or --top-count K (a number of components)");
    }

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all available processors).")
    Integer threads;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** The bundled model: under the installation directory the launcher passes as ipg.home, or the working directory. */
    static Path bundled() {
        String home = System.getProperty("ipg.home");
        Path base = home != null ? Path.of(home) : Path.of("").toAbsolutePath();
        return base.resolve("models").resolve("ipg-demo");
    }

    @Override
    public Integer call() {
        PrintWriter outw = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path dir = model != null ? model : bundled();
        if (topPercent != null && topCount != null) {
            throw new IpgException("give one of --top-percent P or --top-count K");
        }
        for (String f : new String[] {"config.json", "support.jsonl", "eval.jsonl"}) {
            if (!Files.exists(dir.resolve(f))) {
                throw new IpgException(dir + " has no " + f + " (is it the demo model? train one with 'ipg train-demo --out DIR')");
            }
        }
        String s = site;
        if (s == null) {
            ModelConfig c = ModelConfig.load(dir);
            s = "blocks." + (c.numLayers() / 2) + ".hook_resid_post";
        }
        long t0 = System.nanoTime();
        Path cmp = out.resolve("compare");
        List<String> args = new ArrayList<>(List.of("compare", "--model", dir.toString(), "--support", dir.resolve("support.jsonl").toString(),
                "--eval", dir.resolve("eval.jsonl").toString(), "--site", s, "--out", cmp.toString(), "--signal", "correct",
                "--support-limit", Integer.toString(supportLimit), "--eval-limit", Integer.toString(evalLimit),
                "--steps", Integer.toString(steps), "--samples", Integer.toString(samples),
                topCount != null ? "--top-count" : "--top-percent", topCount != null ? topCount : topPercent != null ? topPercent : "5",
                "--enhance", "1.5", "--suppress", "0", "--sweep", "0,0.5,1,1.5,2", "--max-new-tokens", "256",
                "--eval-max-new-tokens", "256", "--support-temperature", "0.6", "--chat"));
        if (threads != null) {
            args.add("--threads");
            args.add(threads.toString());
        }
        err.println("[demo: " + String.join(" ", args.stream().map(DemoCommand::quote).toList()) + "]");
        CommandLine root = spec.commandLine().getParent();
        int rc = root.execute(args.toArray(String[]::new));
        if (rc != 0) {
            return rc;
        }
        Path html = out.resolve("report.html");
        List<String> rep = new ArrayList<>(List.of("report", cmp.resolve("methods").resolve("ipg").toString(), "--comparison", cmp.toString(),
                "--model", dir.toString(), "--out", html.toString()));
        err.println("[demo: " + String.join(" ", rep.stream().map(DemoCommand::quote).toList()) + "]");
        rc = root.execute(rep.toArray(String[]::new));
        if (rc != 0) {
            return rc;
        }
        outw.printf(Locale.ROOT, "%ndemo finished in %.0f s. Files:%n  %s   the report (open it in a browser)%n"
                        + "  %s   the comparison (JSON; also comparison.csv, gamma_sweep.csv)%n  %s   the IPG run (scores, top.csv, run.json)%n",
                (System.nanoTime() - t0) / 1e9, html, cmp.resolve("comparison.json"), cmp.resolve("methods").resolve("ipg"));
        return 0;
    }

    private static String quote(String a) {
        return a.isEmpty() || a.matches(".*[\\s%'\"$].*") ? "'" + a.replace("'", "'\\''") + "'" : a;
    }
}
