package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.report.HtmlReport;
import dev.ipg.core.report.ModelProbe;
import dev.ipg.core.report.Report;
import dev.ipg.core.report.ReportData;
import dev.ipg.core.report.RunReader;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ipg report}: one self-contained HTML page (and JSON/CSV) from an attribution run. */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write an interactive HTML report of an attribution run: one file that opens offline in any browser.",
                "Beside it: BASE-data.json and CSVs (top components, scores, curves, completeness, process-level, tokens)."})
final class ReportCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "Run directory written by ipg attribute.")
    Path runDir;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "HTML file to write (default: RUN_DIR/report.html).")
    Path out;

    @Option(names = "--comparison", paramLabel = "DIR", description = "Output directory of ipg compare (comparison.json).")
    Path comparison;

    @Option(names = "--ignore-unused-tensors",
            description = "Load --model even if its checkpoint holds tensors that config.json does not use.")
    boolean ignoreUnusedTensors;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR",
            description = "Model directory for the process-level and before/after sections (default: the one recorded in run.json, if it exists).")
    Path model;

    @Option(names = "--no-model", description = "Skip the sections that run the model.")
    boolean noModel;

    @Option(names = "--top-count", defaultValue = "10", paramLabel = "K",
            description = "Top components (by signed score) scaled and tracked in the model sections (default: ${DEFAULT-VALUE}); "
                    + "with a --comparison on the same checkpoint, its IPG selection is used instead.")
    int components;

    @Option(names = "--components", hidden = true, paramLabel = "K")
    void retiredComponents(String value) {
        throw SelectionOptions.retired(spec, "--components", "--top-count K");
    }

    @Option(names = "--gamma", paramLabel = "G", defaultValue = "0", description = "Scale applied to them in the before/after section; 0 suppresses (default: ${DEFAULT-VALUE}); "
                    + "with a --comparison on the same checkpoint, its suppress gamma is used instead.")
    double gamma;

    @Option(names = "--examples", defaultValue = "3", paramLabel = "N", description = "Prompts shown before and after the intervention (default: ${DEFAULT-VALUE}).")
    int examples;

    @Option(names = "--trajectories", defaultValue = "24", paramLabel = "N",
            description = "Scored completions analysed for the process-level section (default: ${DEFAULT-VALUE}).")
    int trajectories;

    @Option(names = "--max-new-tokens", defaultValue = "0", paramLabel = "N",
            description = "Generation budget of the before/after examples, 0 = the run's (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--table-rows", defaultValue = "20", paramLabel = "N", description = "Rows of the top components table (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--top", hidden = true, paramLabel = "N")
    void retiredTop(String value) {
        throw SelectionOptions.retired(spec, "--top", "--table-rows N (rows of the top components table)");
    }

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all available processors).")
    Integer threads;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter outw = spec.commandLine().getOut();
        if (!Files.isDirectory(runDir)) {
            throw new IpgException(runDir + " is not a directory");
        }
        if (comparison != null && !Files.isDirectory(comparison)) {
            throw new IpgException("--comparison " + comparison + " is not a directory");
        }
        Path html = out != null ? out : runDir.resolve("report.html");
        if (Files.isDirectory(html)) {
            throw new IpgException("--out " + html + " is a directory; give a file name such as report.html");
        }
        var options = new Report.Options(top, components, new ModelProbe.Options(trajectories, examples, gamma, 8, 0.9, maxNewTokens));
        Path modelDir = model;
        String noModelReason = null;
        if (noModel) {
            modelDir = null;
            noModelReason = "skipped with --no-model";
        } else if (modelDir == null) {
            Path recorded = recordedModelDir(runDir);
            if (recorded == null) {
                noModelReason = "run.json records no model directory and --model was not given";
            } else if (!Files.isDirectory(recorded)) {
                noModelReason = "the model directory recorded in run.json (" + recorded + ") does not exist here";
            } else {
                modelDir = recorded;
            }
        } else if (!Files.isDirectory(modelDir)) {
            throw new IpgException("--model " + modelDir + " is not a directory");
        }
        ReportData data;
        if (modelDir == null) {
            err.println("[report without the model sections: " + noModelReason + "]");
            data = Report.gather(runDir, comparison, null, null, noModelReason, options);
        } else {
            int n = ModelOptions.threads(threads);
            try (Parallel pool = Parallel.of(n); Transformer m = Transformer.load(modelDir, KernelsProvider.lookup(), pool,
                    new Transformer.LoadOptions(ignoreUnusedTensors));
                 Tokenizer tok = Tokenizer.load(modelDir)) {
                data = gather(runDir, comparison, modelDir, m, tok, options, err);
            }
        }
        write(data, html, outw);
        return 0;
    }

    /** The report's data with the model sections run on {@code m}, the checkpoint of {@code runDir}'s run (else refused). */
    static ReportData gather(Path runDir, Path comparison, Path modelDir, Transformer m, Tokenizer tok, Report.Options options, PrintWriter err) {
        // a checkpoint that is not the run's is refused before anything is announced
        RunReader.requireModel(RunReader.read(runDir), m);
        err.println("[running " + modelDir + " for the process-level and before/after sections]");
        return Report.gather(runDir, comparison, m, tok, null, options);
    }

    /** Writes the report and says which files it wrote. */
    static void write(ReportData data, Path html, PrintWriter outw) {
        List<Path> written = HtmlReport.write(data, html);
        outw.println("wrote " + written.getFirst());
        outw.println("data: " + String.join(", ", written.subList(1, written.size()).stream().map(p -> p.getFileName().toString()).toList()));
    }

    private static Path recordedModelDir(Path runDir) {
        Path runJson = runDir.resolve("run.json");
        if (!Files.exists(runJson)) {
            return null; // RunReader reports the missing file
        }
        var node = Json.read(runJson).get("model_dir");
        return node == null || node.isNull() ? null : Path.of(node.asText());
    }
}
