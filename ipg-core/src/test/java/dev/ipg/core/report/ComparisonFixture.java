package dev.ipg.core.report;

import dev.ipg.core.attribution.Advantage;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.attribution.baselines.ControlVectorBaseline;
import dev.ipg.core.attribution.baselines.IntegratedGradients;
import dev.ipg.core.attribution.baselines.Method;
import dev.ipg.core.compare.Comparison;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.TensorInfo;
import dev.ipg.core.model.Family;
import dev.ipg.core.model.RandomCheckpoint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A real {@code ipg compare} output to report on: IPG, random selection (two seeds) and an added
 * control vector on a random one-block Qwen3, with a gamma sweep of IPG.
 *
 * <p>A random model almost never writes a digit, so every accuracy would be 0. The LM head rows
 * of the ten digits are therefore scaled up (the model then mostly answers with digits), and the
 * evaluation set's gold answers are set from a first greedy pass of the unmodified model: the
 * first {@link #MATCHING} problems get the answer the model gives, the others one it does not
 * give. The original model's accuracy is thus known before the comparison runs, and the
 * interventions move the other rows away from it.
 */
final class ComparisonFixture {

    static final Site SITE = new Site(0, Site.Kind.MLP_POST);
    static final int EVAL_PROBLEMS = 6;
    /** Evaluation problems whose gold answer is the unmodified model's answer. */
    static final int MATCHING = 4;
    static final int EVAL_TOKENS = 3;
    /** Many end-of-sequence ids (none a digit), so that lengths differ between interventions too. */
    static final Set<Integer> EOS = java.util.stream.IntStream.range(1000, 60000).boxed().collect(java.util.stream.Collectors.toSet());

    final Path model;
    final Path out;
    final Comparison.Result result;

    private ComparisonFixture(Path model, Path out, Comparison.Result result) {
        this.model = model;
        this.out = out;
        this.result = result;
    }

    private static ComparisonFixture shared;

    /** One fixture for every test class of the JVM (built on first use, deleted at exit); read it, never change it. */
    static synchronized ComparisonFixture shared() throws IOException {
        if (shared == null) {
            Path dir = Files.createTempDirectory("ipg-comparison-fixture");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (var paths = Files.walk(dir)) {
                    paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException e) {
                    // best effort at exit
                }
            }));
            shared = build(dir);
        }
        return shared;
    }

    static Comparison.Spec spec() {
        IpgOptions ipg = new IpgOptions(2, 3, 1.5, 1.0, 0, 3, Advantage.RLOO, IpgOptions.BaselineKind.ZERO, IpgOptions.SamplingMode.ON_PATH,
                IpgOptions.Positions.ALL, Quadrature.RIEMANN_RIGHT, 3);
        return new Comparison.Spec(SITE, new Comparison.Selection(List.of(Method.IPG, Method.RANDOM, Method.CONTROL_VECTOR),
                new Top.Percent(25), Rank.SIGNED), new Comparison.Conditions(2.0, 0.0, List.of(0.0, 1.0, 3.0), List.of(Method.IPG)),
                new Comparison.Estimators(ipg, "regex:[13579]",
                        new IntegratedGradients.Options(2, Quadrature.RIEMANN_RIGHT, IpgOptions.BaselineKind.ZERO, IpgOptions.Positions.ALL),
                        Signal.Reflection.DEFAULT_WORDS,
                        new Comparison.ControlVector(ControlVectorBaseline.Variant.MEAN_DIFFERENCE, Comparison.CvMode.ADD, 1.0)),
                new Comparison.Seeding(2, 7),
                new Comparison.Splits(PromptFormat.plain(), EvalRun.Decoding.greedy(3, 2), 0, EvalRun.Decoding.greedy(EVAL_TOKENS, 3), 0));
    }

    static ComparisonFixture build(Path tmp) throws IOException {
        Path tokDir = ReportFixture.tokenizerDir();
        Path model = tmp.resolve("model");
        RandomCheckpoint.write(model, new RandomCheckpoint.Spec(Family.QWEN3, 16, 1, 2, 1, 8, 32, 151680, 96, DType.F32, false,
                false, false), 21);
        Files.copy(tokDir.resolve("tokenizer.json"), model.resolve("tokenizer.json"));
        Files.copy(tokDir.resolve("tokenizer_config.json"), model.resolve("tokenizer_config.json"));
        Path support = tmp.resolve("support.jsonl");
        Files.writeString(support, """
                {"question": "What is 2 + 3?", "answer": "#### 5"}
                {"question": "What is 7 - 4?", "answer": "#### 3"}
                """);
        List<String> questions = List.of("What is 6 * 2?", "What is 9 - 1?", "What is 1 + 1?", "What is 8 + 5?", "What is 3 * 3?",
                "What is 4 + 4?");
        Path out = tmp.resolve("compare");
        try (Parallel pool = Parallel.of(2)) {
            try (Tokenizer tok = Tokenizer.load(model)) {
                scaleDigitRows(model, tok, 4f);
            }
            try (Transformer m = Transformer.load(model, KernelsProvider.lookup(), pool); Tokenizer tok = Tokenizer.load(model)) {
                // what the unmodified model answers
                Path probe = tmp.resolve("probe.jsonl");
                Files.writeString(probe, lines(questions, List.of("0", "0", "0", "0", "0", "0")));
                var items = new EvalRun(m, tok, Dataset.load(probe), EvalRun.Spec.of(PromptFormat.plain(), spec().splits().evalDecoding()), EOS,
                        tmp.resolve("probe"), ProgressListener.NONE).run(0).items();
                List<String> gold = new ArrayList<>();
                for (int i = 0; i < questions.size(); i++) {
                    String a = items.get(i).answer();
                    if (a == null) {
                        throw new AssertionError("the digit-boosted model gave no number for '" + questions.get(i) + "': "
                                + items.get(i).completion());
                    }
                    gold.add(i < MATCHING ? a : a + "1");
                }
                Path eval = tmp.resolve("eval.jsonl");
                Files.writeString(eval, lines(questions, gold));
                try (Signal sig = Signals.parse(spec().estimators().signalSpec())) {
                    var result = new Comparison(m, tok, Dataset.load(support), Dataset.load(eval), sig, spec(), EOS, out,
                            ProgressListener.NONE).run();
                    return new ComparisonFixture(model, out, result);
                }
            }
        }
    }

    private static String lines(List<String> questions, List<String> gold) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < questions.size(); i++) {
            b.append(Json.object().put("question", questions.get(i)).put("answer", "#### " + gold.get(i))).append('\n');
        }
        return b.toString();
    }

    /** Multiplies the LM head rows of the digits 0-9 by {@code factor}, in place in model.safetensors (F32). */
    static void scaleDigitRows(Path model, Tokenizer tok, float factor) throws IOException {
        Path file = model.resolve("model.safetensors");
        TensorInfo head;
        long dataStart;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            head = f.info("lm_head.weight");
        }
        int hidden = (int) head.dim(1);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            dataStart = 8 + len.getLong(0);
            for (char d = '0'; d <= '9'; d++) {
                int id = tok.tokenId(String.valueOf(d)).orElseThrow();
                long at = dataStart + head.begin() + (long) id * hidden * Float.BYTES;
                ByteBuffer row = ByteBuffer.allocate(hidden * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(row, at);
                for (int k = 0; k < hidden; k++) {
                    row.putFloat(k * Float.BYTES, row.getFloat(k * Float.BYTES) * factor);
                }
                row.rewind();
                ch.write(row, at);
            }
        }
    }
}
