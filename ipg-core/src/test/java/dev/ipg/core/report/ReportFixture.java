package dev.ipg.core.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.AttributionRun;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.io.Json;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.testutil.PyTorchReference;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A small real attribution run to report on: a random two-layer Qwen3 with the Qwen3 tokenizer,
 * IPG at both layers' MLP neurons over three prompts, one of whose questions carries markup.
 */
final class ReportFixture {

    static final List<Site> SITES = List.of(new Site(0, Site.Kind.MLP_POST), new Site(1, Site.Kind.MLP_POST));
    static final String SIGNAL = "regex:[A-Z]";
    /** Markup in a dataset question: must show as text. */
    static final String QUESTION_MARKUP = "What is 2 + 3? <img src=x onerror=\"window.__pwnedQuestion=1\"> <b>bold?</b>";
    /** Markup put into a recorded completion: must show as text and never run. */
    static final String COMPLETION_MARKUP = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwnedImg=1\"></script>";

    final Path model;
    final Path data;
    final Path run;

    private ReportFixture(Path model, Path data, Path run) {
        this.model = model;
        this.data = data;
        this.run = run;
    }

    private static ReportFixture shared;

    /** One fixture for every test class of the JVM (built on first use, deleted at exit); read it, never change it. */
    static synchronized ReportFixture shared() throws IOException {
        if (shared == null) {
            Path dir = Files.createTempDirectory("ipg-report-fixture");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            shared = build(dir);
        }
        return shared;
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort at exit
        }
    }

    static Path tokenizerDir() {
        Path tokDir = PyTorchReference.repositoryRoot().resolveSibling("shared").resolve("fixtures/tokenizers/qwen3");
        if (!Files.exists(tokDir.resolve("tokenizer.json"))) {
            throw new AssertionError("missing " + tokDir + " (../shared next to the repository)");
        }
        return tokDir;
    }

    /** Builds the model, the data set and the run under {@code tmp}; the first completion of prompt 0 gets markup injected. */
    static ReportFixture build(Path tmp) throws IOException {
        Path tokDir = tokenizerDir();
        Path model = tmp.resolve("model");
        RandomCheckpoint.write(model, new RandomCheckpoint.Spec(Family.QWEN3, 16, 2, 2, 1, 8, 32, 151680, 128, DType.F32, true,
                false, false), 5);
        Files.copy(tokDir.resolve("tokenizer.json"), model.resolve("tokenizer.json"));
        Files.copy(tokDir.resolve("tokenizer_config.json"), model.resolve("tokenizer_config.json"));
        Path data = tmp.resolve("support.jsonl");
        String q0 = Json.object().put("question", QUESTION_MARKUP).put("answer", "2 + 3 = 5\n#### 5").toString();
        Files.writeString(data, q0 + "\n" + """
                {"question": "What is 7 - 4?\\n\\nThink step by step.", "answer": "7 - 4 = 3\\n#### 3"}
                {"question": "What is 6 * 2?", "answer": "6 * 2 = 12\\n#### 12"}
                """);
        Path run = tmp.resolve("run");
        var opt = new IpgOptions(2, 3, 1.5, 1.0, 0, 8, Advantage.RLOO, IpgOptions.BaselineKind.ZERO, IpgOptions.SamplingMode.ON_PATH,
                IpgOptions.Positions.ALL, Quadrature.RIEMANN_RIGHT, 11);
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(model, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(model); Signal signal = Signals.parse(SIGNAL)) {
            var spec = new AttributionRun.Spec(SITES, opt, SIGNAL, PromptFormat.plain(), 10);
            new AttributionRun(m, tok, Dataset.load(data), signal, spec, Set.of(151645), run, ProgressListener.NONE).run(0);
        }
        Path p0 = run.resolve("prompts/00000.json");
        ObjectNode pj = Json.readObject(p0);
        ObjectNode c0 = (ObjectNode) pj.at("/sites/" + SITES.getFirst() + "/completions_last_point/0");
        c0.put("text", "Let me think.\n\n" + COMPLETION_MARKUP + "\n\nSo the answer is 5.");
        Json.write(p0, pj);
        return new ReportFixture(model, data, run);
    }
}
