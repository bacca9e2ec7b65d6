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
 * {@code ipg demo}: the whole pipeline on the bundled reasoning model, offline: at a residual and
 * an MLP site, IPG and the baselines on the support split, the comparison on the evaluation split
 * under enhance and suppress, the localization protocol (suppression curves over k with paired
 * intervals against IPG, random selection over 10 seeds, the ablation ground truth on the dev
 * split, stability between support halves, the verdict per site), and the HTML report. With the
 * bundled SAE (or {@code --sae}), the table of the SAE's site also has the IPG-SAE and SAE-R rows. It runs
 * {@code ipg compare} and {@code ipg report} with small settings sized for a laptop, so what it
 * prints is exactly what those commands measure.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the whole pipeline on the bundled demo model at a residual and an MLP site: IPG attribution and the "
                + "baselines on its support split, the comparison (enhance / suppress) on its evaluation split, the localization "
                + "protocol (suppression curves over k with paired intervals against IPG, random selection over 10 seeds, a "
                + "ground truth by ablation on its dev split, stability between support halves), and the HTML report. With the "
                + "bundled SAE (models/ipg-demo-sae) the residual site's table also has IPG-SAE and SAE-R rows over its latents.",
                "Equivalent to 'ipg compare' then 'ipg report' with the settings printed at the start; rerunning resumes. "
                + "Prints the measured tables and the verdict per site: where IPG wins, ties and loses."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "Model directory (default: the bundled models/ipg-demo).")
    Path model;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = "demo-out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--site", paramLabel = "SITES",
            description = "Sites, comma-separated (default: the middle block's hook_resid_post and mlp.hook_post).")
    String site;

    @Option(names = "--support-limit", paramLabel = "M", defaultValue = "32", description = "Support problems attributed (default: ${DEFAULT-VALUE}).")
    int supportLimit;

    @Option(names = "--eval-limit", paramLabel = "N", defaultValue = "50", description = "Evaluation problems per condition (default: ${DEFAULT-VALUE}).")
    int evalLimit;

    @Option(names = "--dev-limit", paramLabel = "N", defaultValue = "32", description = "Dev problems of the ablation ground truth (default: ${DEFAULT-VALUE}).")
    int devLimit;

    @Option(names = "--curve-k", defaultValue = "1,4,16,64", paramLabel = "K,K,...",
            description = "Selection sizes of the suppression curves (default: ${DEFAULT-VALUE}).")
    String curveK;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "5", description = "IPG path points (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "4", description = "IPG samples per point (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--top-percent", paramLabel = "P", description = "Top P percent of the components selected (default: 5).")
    String topPercent;

    @Option(names = "--top-count", paramLabel = "K", description = "Top K components selected, instead of --top-percent.")
    String topCount;

    @Option(names = "--top", hidden = true, paramLabel = "X")
    void retiredTop(String value) {
        throw SelectionOptions.retired(spec, "--top", "--top-percent P (a percentage) or --top-count K (a number of components)");
    }

    @Option(names = "--sae", paramLabel = "DIR",
            description = "An SAE at one of the sites: adds the IPG-SAE (IPG over its latents) and SAE-R (ReasonScore) rows to that "
                    + "site's table (default: the directory MODEL-sae beside the model if there is one, models/ipg-demo-sae for the bundled model).")
    Path sae;

    @Option(names = "--no-sae", description = "Leave out the IPG-SAE and SAE-R rows.")
    boolean noSae;

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

    /** The SAE shipped beside a model directory M: M-sae (models/ipg-demo-sae for the bundled model). */
    static Path saeBeside(Path model) {
        Path abs = model.toAbsolutePath().normalize();
        return abs.resolveSibling(abs.getFileName() + "-sae");
    }

    @Override
    public Integer call() {
        PrintWriter outw = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path dir = model != null ? model : bundled();
        if (topPercent != null && topCount != null) {
            throw new IpgException("give one of --top-percent P or --top-count K");
        }
        for (String f : new String[] {"config.json", "support.jsonl", "eval.jsonl", "dev.jsonl"}) {
            if (!Files.exists(dir.resolve(f))) {
                throw new IpgException(dir + " has no " + f + " (is it the demo model? train one with 'ipg train-demo --out DIR')");
            }
        }
        String s = site;
        if (s == null) {
            ModelConfig c = ModelConfig.load(dir);
            s = "blocks." + (c.numLayers() / 2) + ".hook_resid_post,blocks." + (c.numLayers() / 2) + ".mlp.hook_post";
        }
        List<String> siteList = CompareCommand.sites(s).stream().map(Object::toString).toList();
        if (sae != null && noSae) {
            throw new IpgException("give one of --sae DIR and --no-sae");
        }
        Path saeDir = noSae ? null : sae != null ? sae : Files.isRegularFile(saeBeside(dir).resolve("cfg.json")) ? saeBeside(dir) : null;
        long t0 = System.nanoTime();
        Path cmp = out.resolve("compare");
        List<String> args = new ArrayList<>(List.of("compare", "--model", dir.toString(), "--support", dir.resolve("support.jsonl").toString(),
                "--eval", dir.resolve("eval.jsonl").toString(), "--site", s, "--out", cmp.toString(), "--signal", "correct",
                "--support-limit", Integer.toString(supportLimit), "--eval-limit", Integer.toString(evalLimit),
                "--steps", Integer.toString(steps), "--samples", Integer.toString(samples),
                topCount != null ? "--top-count" : "--top-percent", topCount != null ? topCount : topPercent != null ? topPercent : "5",
                "--enhance", "1.5", "--suppress", "0", "--sweep", "0,0.5,1,1.5,2", "--max-new-tokens", "256",
                "--eval-max-new-tokens", "256", "--support-temperature", "0.6", "--chat",
                "--dev", dir.resolve("dev.jsonl").toString(), "--dev-limit", Integer.toString(devLimit),
                "--random-seeds", "10", "--curve-k", curveK, "--no-enhance-curve", "--ground-truth-all", "0", "--batch-size", "25"));
        if (Files.exists(dir.resolve("train.jsonl"))) {
            args.add("--exclude");
            args.add(dir.resolve("train.jsonl").toString());
        }
        // the demo model's only reasoning word is "wait" (with words that never occur, ReasonScore's entropy
        // term would be 0 for every latent; the reasoning-neuron baseline finds the same positions either way)
        args.addAll(List.of("--words", "wait"));
        if (saeDir != null) {
            // the SAE's rows at its site
            args.addAll(List.of("--sae", saeDir.toString(), "--methods", "ipg,random,activation,reasoning-neuron,control-vector,pg,ig,ipg-sae,sae-r"));
        }
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
        // the report shows the first site's run and comparison, and the protocol of every site
        Path first = siteList.size() == 1 ? cmp : cmp.resolve(siteList.getFirst());
        List<String> rep = new ArrayList<>(List.of("report", first.resolve("methods").resolve("ipg").toString(), "--comparison", first.toString(),
                "--model", dir.toString(), "--out", html.toString()));
        err.println("[demo: " + String.join(" ", rep.stream().map(DemoCommand::quote).toList()) + "]");
        rc = root.execute(rep.toArray(String[]::new));
        if (rc != 0) {
            return rc;
        }
        outw.printf(Locale.ROOT, "%ndemo finished in %.0f s. Files:%n  %s   the report (open it in a browser)%n"
                        + "  %s   the protocol of every site (JSON; also curves.csv, ground_truth.csv, stability.csv)%n"
                        + "  %s   the first site's comparison and IPG run (comparison.json, methods/ipg)%n",
                (System.nanoTime() - t0) / 1e9, html, cmp.resolve("protocol.json"), first);
        return 0;
    }

    private static String quote(String a) {
        return a.isEmpty() || a.matches(".*[\\s%'\"$].*") ? "'" + a.replace("'", "'\\''") + "'" : a;
    }
}
