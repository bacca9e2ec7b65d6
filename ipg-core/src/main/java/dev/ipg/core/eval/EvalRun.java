package dev.ipg.core.eval;

import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.Problem;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.run.RunConfig;
import dev.ipg.core.run.RunDirectory;
import dev.ipg.core.run.EvalResults;
import dev.ipg.core.run.RunFiles;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.run.Seeds;
import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.AnswerEquivalence;
import dev.ipg.core.signal.AnswerExtractor;
import dev.ipg.core.signal.Sample;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Thinking;
import dev.ipg.core.steer.Steering;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Accuracy of a (possibly steered) model on a problem set, the paper's protocol (ipg-method.md
 * §6): every problem is generated (greedy by default, several problems per batch), its final
 * answer extracted and compared with the gold answer; the summary gives the accuracy with its
 * 95 % Wilson interval, the mean number of generated tokens and the reflection-word rate.
 *
 * <pre>
 *   DIR/eval-config.json    what produced the results (a different one refuses to mix)
 *   DIR/completions.jsonl   one line per problem, appended and synced batch by batch
 *   DIR/summary.json        accuracy, interval, lengths, reflection words, configuration
 * </pre>
 *
 * A rerun resumes: finished problems are read back, a torn last line (an interrupted append) is
 * cut off, and only missing problems are generated. Batches are fixed blocks of the problem
 * order and sampled decoding seeds each block from the seed and its index, so a resumed run
 * produces what an uninterrupted one would.
 */
public final class EvalRun {

    /** File names inside the run directory. */
    public static final String CONFIG = "eval-config.json";
    public static final String COMPLETIONS = "completions.jsonl";
    public static final String SUMMARY = "summary.json";

    /**
     * How completions are generated.
     *
     * @param sampling     greedy (temperature 0, the paper's protocol) or sampled
     * @param maxNewTokens generation budget per problem
     * @param batchSize    problems per generation call
     */
    public record Decoding(SamplingParams sampling, int maxNewTokens, int batchSize) implements Serializable {
        public Decoding {
            if (maxNewTokens < 1) {
                throw new IpgException("--max-new-tokens must be >= 1, got " + maxNewTokens);
            }
            if (batchSize < 1) {
                throw new IpgException("--batch-size must be >= 1, got " + batchSize);
            }
        }

        /** Greedy decoding. */
        public static Decoding greedy(int maxNewTokens, int batchSize) {
            return new Decoding(SamplingParams.greedy(), maxNewTokens, batchSize);
        }

        /** The decoding as recorded in run configurations. */
        public ObjectNode json() {
            ObjectNode j = JsonNodeFactory.instance.objectNode();
            j.put("greedy", sampling.isGreedy());
            if (!sampling.isGreedy()) {
                j.put("temperature", sampling.temperature());
                j.put("top_p", sampling.topP());
                j.put("top_k", sampling.topK());
                j.put("seed", sampling.seed());
                // the blocks that share a random stream
                j.put("batch_size", batchSize);
            }
            j.put("max_new_tokens", maxNewTokens);
            return j;
        }

        /** A short description: "greedy, 512 tokens" or "T=0.6 top-p=0.95 seed=1, 512 tokens". */
        public String describe() {
            return (sampling.isGreedy() ? "greedy" : String.format(Locale.ROOT, "T=%s top-p=%s top-k=%d seed=%d", sampling.temperature(),
                    sampling.topP(), sampling.topK(), sampling.seed())) + ", " + maxNewTokens + " tokens";
        }
    }

    /**
     * What an evaluation is, beside the model and data.
     *
     * @param format          how a question becomes the prompt
     * @param decoding        how completions are generated
     * @param steering        the intervention during generation ({@link Steering#none()} for the original model)
     * @param reflectionWords the words counted as reflection (see {@link Signal.Reflection})
     */
    public record Spec(PromptFormat format, Decoding decoding, Steering steering, List<String> reflectionWords) implements Serializable {
        public Spec {
            reflectionWords = List.copyOf(reflectionWords);
        }

        /** The given format and decoding, the default reflection words, no steering. */
        public static Spec of(PromptFormat format, Decoding decoding) {
            return new Spec(format, decoding, Steering.none(), Signal.Reflection.DEFAULT_WORDS);
        }

        public Spec withSteering(Steering s) {
            return new Spec(format, decoding, s, reflectionWords);
        }
    }

    /**
     * One scored completion (a line of completions.jsonl).
     *
     * @param index           position in the dataset
     * @param id              the problem's id
     * @param gold            the gold answer
     * @param answer          the extracted answer (after any think block), or null when none was found
     * @param correct         whether the answer is equivalent to the gold
     * @param generatedTokens tokens generated (an end-of-sequence token included)
     * @param finish          why generation stopped: eos, max_tokens, context
     * @param reflectionWords reflection words in the completion
     * @param completion      the completion text (special tokens skipped)
     * @param tokens          the generated ids
     * @param think           the completion's think block: none, closed or unclosed ({@link Thinking})
     * @param thinkingTokens  generated tokens in the think block (0 without one), -1 when not measured
     */
    @JsonPropertyOrder({"index", "id", "gold", "answer", "correct", "generated_tokens", "think", "thinking_tokens", "answer_tokens",
        "finish", "reflection_words", "completion", "tokens"})
    public record Item(int index, String id, String gold, String answer, boolean correct,
                       @JsonProperty("generated_tokens") int generatedTokens, String finish,
                       @JsonProperty("reflection_words") int reflectionWords, String completion, int[] tokens, String think,
                       @JsonProperty("thinking_tokens") int thinkingTokens) {

        /** An item whose think block is read from the completion alone (its token boundary measured only when trivial). */
        public Item(int index, String id, String gold, String answer, boolean correct, int generatedTokens, String finish,
                    int reflectionWords, String completion, int[] tokens) {
            this(index, id, gold, answer, correct, generatedTokens, finish, reflectionWords, completion, tokens,
                    Thinking.split(null, completion).state().jsonName(),
                    new Sample(id, null, completion, generatedTokens, gold).thinkingTokens());
        }

        /**
         * An item as read from a line; a line written before think blocks were recorded has its
         * think block read from the completion.
         */
        @JsonCreator
        static Item read(@JsonProperty("index") int index, @JsonProperty("id") String id, @JsonProperty("gold") String gold,
                         @JsonProperty("answer") String answer, @JsonProperty("correct") Boolean correct,
                         @JsonProperty("generated_tokens") Integer generatedTokens, @JsonProperty("finish") String finish,
                         @JsonProperty("reflection_words") Integer reflectionWords, @JsonProperty("completion") String completion,
                         @JsonProperty("tokens") int[] tokens, @JsonProperty("think") String think,
                         @JsonProperty("thinking_tokens") Integer thinkingTokens) {
            if (id == null || gold == null || correct == null || generatedTokens == null || finish == null || reflectionWords == null
                    || completion == null) {
                throw new IllegalArgumentException("not a completion record: a key is missing");
            }
            int[] t = tokens == null ? new int[0] : tokens;
            if (think == null || thinkingTokens == null) {
                return new Item(index, id, gold, answer, correct, generatedTokens, finish, reflectionWords, completion, t);
            }
            return new Item(index, id, gold, answer, correct, generatedTokens, finish, reflectionWords, completion, t, think,
                    thinkingTokens);
        }

        /** Generated tokens after the think block (all of them without one), -1 when not measured. */
        @JsonProperty("answer_tokens")
        public int answerTokens() {
            return thinkingTokens < 0 ? -1 : generatedTokens - thinkingTokens;
        }

        ObjectNode json() {
            return (ObjectNode) RunFiles.tree(this);
        }

        static Item of(JsonNode j) {
            return RunFiles.convert(j, Item.class, "a line");
        }
    }

    /**
     * The figures of an evaluation.
     *
     * @param problems                problems evaluated
     * @param correct                 problems answered correctly
     * @param interval                the 95 % Wilson interval of the accuracy
     * @param meanGeneratedTokens     mean tokens generated per problem
     * @param reflectionPerCompletion mean reflection words per completion
     * @param reflectionPer1kTokens   reflection words per 1000 generated tokens
     * @param answered                completions in which an answer was found
     * @param finishes                how many completions stopped for each reason
     * @param thinkBlocks             how many completions had no think block, a closed one, an unclosed one
     *                                (empty when not recorded)
     * @param meanThinkingTokens      mean tokens per completion inside the think block (0 without blocks;
     *                                NaN when not measured)
     * @param meanAnswerTokens        mean tokens per completion after it (NaN when not measured)
     */
    public record Summary(int problems, int correct, Wilson interval, double meanGeneratedTokens, double reflectionPerCompletion,
                          double reflectionPer1kTokens, int answered, Map<String, Integer> finishes, Map<String, Integer> thinkBlocks,
                          double meanThinkingTokens, double meanAnswerTokens) {

        /** A summary without think-block figures. */
        public Summary(int problems, int correct, Wilson interval, double meanGeneratedTokens, double reflectionPerCompletion,
                       double reflectionPer1kTokens, int answered, Map<String, Integer> finishes) {
            this(problems, correct, interval, meanGeneratedTokens, reflectionPerCompletion, reflectionPer1kTokens, answered, finishes,
                    Map.of(), Double.NaN, Double.NaN);
        }

        public double accuracy() {
            return interval.proportion();
        }

        /** Whether any completion had a think block. */
        public boolean thinks() {
            return thinkBlocks.getOrDefault("closed", 0) + thinkBlocks.getOrDefault("unclosed", 0) > 0;
        }

        public ObjectNode json() {
            return (ObjectNode) RunFiles.tree(record());
        }

        /** The figures as recorded. */
        public EvalResults record() {
            boolean lengths = !thinkBlocks.isEmpty() && Double.isFinite(meanThinkingTokens);
            return new EvalResults(problems, correct, accuracy(), new EvalResults.Interval(interval.lower(), interval.upper()),
                    meanGeneratedTokens, thinkBlocks, lengths ? meanThinkingTokens : null, lengths ? meanAnswerTokens : null,
                    reflectionPerCompletion, reflectionPer1kTokens, answered, finishes);
        }

        /** The figures of a record (the interval recomputed from the counts). */
        public static Summary of(EvalResults r) {
            return new Summary(r.problems(), r.correct(), Wilson.of(r.correct(), r.problems()), r.meanGeneratedTokens(),
                    r.reflectionPerCompletion(), r.reflectionPer1kTokens(), r.answered(), r.finishes(), r.thinkBlocks(),
                    r.meanThinkingTokens() == null ? Double.NaN : r.meanThinkingTokens(),
                    r.meanAnswerTokens() == null ? Double.NaN : r.meanAnswerTokens());
        }

        /** Reads the {@code results} object of a summary.json. */
        public static Summary of(JsonNode j) {
            EvalResults r = RunFiles.convert(j, EvalResults.class, "the results of an evaluation");
            if (r.missing() != null) {
                throw new IpgException("the results of an evaluation have no " + r.missing());
            }
            return of(r);
        }
    }

    /** The outcome of {@link #run}: the figures, every item, and summary.json's content. */
    public record Result(Summary summary, List<Item> items, ObjectNode json) {
    }

    private final Transformer model;
    private final Tokenizer tok;
    private final Dataset data;
    private final Spec spec;
    private final Set<Integer> eos;
    private final Path dir;
    private final ProgressListener progress;
    private ObjectNode modelIdentity;

    public EvalRun(Transformer model, Tokenizer tok, Dataset data, Spec spec, Set<Integer> eos, Path dir, ProgressListener progress) {
        this.model = model;
        this.tok = tok;
        this.data = data;
        this.spec = spec;
        this.eos = Set.copyOf(eos);
        this.dir = dir;
        this.progress = progress;
        spec.steering().checkIn(model.config());
    }

    /**
     * This run as it travels to an executor, which brings the model and the tokenizer; null when
     * its steering cannot travel (an SAE's).
     */
    public Recipe recipe() {
        Steering s = spec.steering().travelling();
        return s == null ? null : new Recipe(data, new Spec(spec.format(), spec.decoding(), s, spec.reflectionWords()), eos);
    }

    /**
     * What an executor rebuilds an evaluation from, to compute its blocks ({@link #computeBlock})
     * and write nothing.
     */
    public record Recipe(Dataset data, Spec spec, Set<Integer> eos) implements Serializable {
        /** The run on {@code model} and {@code tok}, without a directory. */
        public EvalRun open(Transformer model, Tokenizer tok) {
            return new EvalRun(model, tok, data, spec, eos, null, ProgressListener.NONE);
        }
    }

    /** The configuration that identifies this evaluation's results. */
    public ObjectNode config() {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("method", "evaluation");
        if (modelIdentity == null) {
            modelIdentity = RunConfig.model(model); // hashes the weights once per run object
        }
        c.set("model", modelIdentity.deepCopy());
        c.set("dataset", RunConfig.dataset(data));
        c.set("intervention", spec.steering().json());
        c.set("decoding", spec.decoding().json());
        c.set("prompt_format", spec.format().json());
        ArrayNode e = c.putArray("eos_token_ids");
        new TreeSet<>(eos).forEach(e::add);
        ArrayNode w = c.putArray("reflection_words");
        spec.reflectionWords().forEach(w::add);
        return c;
    }

    /**
     * Creates the run directory and records the configuration, refusing a directory that holds
     * another one (also done by {@link #run}; call it to fail before announcing a run).
     */
    public void prepare() {
        prepare(0);
    }

    /**
     * Like {@link #prepare()}, after checking every prompt of the first {@code limit} problems (0:
     * all) against the model's context, so that bad input is found before anything is written.
     */
    public void prepare(int limit) {
        prompts(limit);
        try (RunLock lock = RunDirectory.lock(dir)) {
            RunConfig.prepare(dir, CONFIG, config(), s -> false);
        }
    }

    private List<int[]> prompts(int limit) {
        if (limit < 0) {
            throw new IpgException("--limit must be >= 0 (0 = all), got " + limit);
        }
        return data.prompts(limit, spec.format(), tok, model.config().maxPositions());
    }

    /** Runs (or resumes) the evaluation of the first {@code limit} problems (0: all). */
    public Result run(int limit) {
        return run(limit, null);
    }

    /**
     * The generated, scored completions of one block of problems (a batch of
     * {@link Decoding#batchSize()} problems in dataset order): what an executor returns.
     *
     * @param block the block's number
     * @param lines the completions.jsonl line of each problem of the block, in order
     * @param nanos the generation time
     */
    public record BlockResult(int block, List<String> lines, long nanos) implements Serializable {
    }

    /** Evaluates blocks of problems somewhere else (the executors of a cluster); see {@link #run(int, Remote)}. */
    @FunctionalInterface
    public interface Remote {
        /** Computes {@code blocks} with {@link #computeBlock(int, int)}, handing each result to {@code done} on the calling thread. */
        void compute(List<Integer> blocks, Consumer<BlockResult> done);
    }

    /**
     * Runs (or resumes) the evaluation like {@link #run(int)}, with the blocks that hold missing
     * problems computed by {@code remote} (null: here); everything written is written here.
     */
    public Result run(int limit, Remote remote) {
        List<int[]> allPrompts = prompts(limit);
        try (RunLock lock = RunDirectory.lock(dir)) {
            return runLocked(allPrompts, remote);
        }
    }

    /**
     * Generates and scores block {@code block} of the first {@code limit} problems exactly as
     * {@link #run(int)} does, writing nothing: the work of an executor.
     */
    public BlockResult computeBlock(int limit, int block) {
        if (executorPrompts == null || executorLimit != limit) {
            executorPrompts = prompts(limit);
            executorLimit = limit;
        }
        int b = spec.decoding().batchSize();
        if (block < 0 || (long) block * b >= executorPrompts.size()) {
            throw new IpgException("block " + block + " is not among the blocks of the " + executorPrompts.size() + " problems");
        }
        return block(executorPrompts, block, new Signal.Reflection(spec.reflectionWords()));
    }

    private List<int[]> executorPrompts;
    private int executorLimit = -1;

    private Result runLocked(List<int[]> allPrompts, Remote remote) {
        int n = allPrompts.size();
        long started = System.nanoTime();
        ObjectNode config = config();
        RunDirectory.prepare(dir, CONFIG, config, s -> false);
        Item[] items = finished(n);
        RunDirectory.start(progress, "problems", n, i -> items[i] != null);
        Signal.Reflection reflection = new Signal.Reflection(spec.reflectionWords());
        Work work = new Work();
        List<Integer> blocks = missingBlocks(items);
        Consumer<BlockResult> accept = r -> {
            work.generationNanos += r.nanos();
            work.generatedTokens += take(r, items);
        };
        if (remote != null) {
            if (!blocks.isEmpty()) {
                remote.compute(blocks, accept);
            }
            for (int i = 0; i < n; i++) {
                if (items[i] == null) {
                    throw new IpgException("problem " + i + " of " + dir + " was not evaluated");
                }
            }
        } else {
            for (int block : blocks) {
                accept.accept(block(allPrompts, block, reflection));
            }
        }
        List<Item> all = List.of(items);
        Summary s = summarize(all);
        config.with("dataset").put("used", n);
        EvalFiles.SummaryFile file = new EvalFiles.SummaryFile(RunFiles.version(), config, spec.steering().describe(),
                spec.decoding().describe(), s.record(), EvalFiles.Timings.of((System.nanoTime() - started) / 1e9,
                work.generationNanos / 1e9, work.generatedTokens, RunDirectory.Machine.of(model)));
        ObjectNode out = (ObjectNode) RunFiles.tree(file);
        Json.write(dir.resolve(SUMMARY), out);
        return new Result(s, all, out);
    }

    /** The numbers of the blocks ({@link Decoding#batchSize()} problems each) that hold a missing problem. */
    private List<Integer> missingBlocks(Item[] items) {
        int b = spec.decoding().batchSize();
        List<Integer> blocks = new ArrayList<>();
        for (int start = 0, block = 0; start < items.length; start += b, block++) {
            for (int i = start; i < Math.min(items.length, start + b); i++) {
                if (items[i] == null) {
                    blocks.add(block);
                    break;
                }
            }
        }
        return blocks;
    }

    /**
     * Generates every problem of a block (the batch is the block, whatever is already done; block
     * number {@code block} seeds sampled decoding) and scores it.
     */
    private BlockResult block(List<int[]> allPrompts, int block, Signal.Reflection reflection) {
        Decoding dec = spec.decoding();
        int start = block * dec.batchSize();
        int end = Math.min(allPrompts.size(), start + dec.batchSize());
        SamplingParams sp = dec.sampling();
        if (!sp.isGreedy()) {
            sp = new SamplingParams(sp.temperature(), sp.topK(), sp.topP(), Seeds.derive(sp.seed(), block));
        }
        long t0 = System.nanoTime();
        var comps = new Generator(model).generate(new ArrayList<>(allPrompts.subList(start, end)),
                new Generator.Options(sp, dec.maxNewTokens(), eos, List.of(), null), spec.steering().hooks(), null);
        long nanos = System.nanoTime() - t0;
        List<String> lines = new ArrayList<>();
        for (int i = start; i < end; i++) {
            var c = comps.get(i - start);
            Problem p = data.get(i);
            Sample sample = Sample.of(p.id(), spec.format().render(p.question(), tok), c.tokens(), ids -> tok.decode(ids, true),
                    p.gold());
            Item it = score(i, p, sample, c.tokens(), finish(c.finish()), reflection);
            lines.add(new String(Json.toBytes(it.json()), StandardCharsets.UTF_8));
        }
        return new BlockResult(block, lines, nanos);
    }

    /**
     * Takes the problems of a block that are still missing: appends their lines to the completions
     * file and reports them; returns the tokens they generated.
     */
    private long take(BlockResult r, Item[] items) {
        int start = r.block() * spec.decoding().batchSize();
        StringBuilder lines = new StringBuilder();
        int fresh = 0;
        long generated = 0;
        for (int k = 0; k < r.lines().size(); k++) {
            int i = start + k;
            if (i >= items.length || items[i] != null) {
                continue;
            }
            Item it = Item.of(Json.parse(r.lines().get(k), "the result of block " + r.block(), false));
            if (it.index() != i || !it.id().equals(data.get(i).id())) {
                throw new IpgException("the result of block " + r.block() + " holds problem " + it.index() + " '" + it.id()
                        + "' where problem " + i + " '" + data.get(i).id() + "' belongs");
            }
            items[i] = it;
            fresh++;
            generated += it.generatedTokens();
            lines.append(r.lines().get(k)).append('\n');
        }
        if (fresh == 0) {
            return 0;
        }
        append(dir.resolve(COMPLETIONS), lines.toString());
        int correct = 0;
        int so = 0;
        for (Item it : items) {
            if (it != null) {
                so++;
                correct += it.correct() ? 1 : 0;
            }
        }
        for (int k = 0; k < fresh; k++) {
            progress.advance(String.format(Locale.ROOT, "accuracy so far %d/%d", correct, so));
        }
        return generated;
    }

    /** What this invocation generated. */
    private static final class Work {
        long generatedTokens;
        long generationNanos;
    }

    /** The items already in the completions file, by index (null where missing); refuses a file of other problems. */
    private Item[] finished(int n) {
        Path file = dir.resolve(COMPLETIONS);
        Item[] items = new Item[n];
        for (Item it : readCompletions(file)) {
            if (it.index() >= n) {
                continue;
            }
            if (!it.id().equals(data.get(it.index()).id())) {
                throw new IpgException(file + ": problem " + it.index() + " is '" + it.id() + "' there but '"
                        + data.get(it.index()).id() + "' in " + data.name() + "; use another output directory");
            }
            items[it.index()] = it;
        }
        return items;
    }

    /** Scores one completion of problem {@code p} whose prompt is unknown (taken as not opening a think block). */
    public static Item score(int index, Problem p, String completion, int[] tokens, String finish, Signal.Reflection reflection) {
        return score(index, p, new Sample(p.id(), null, completion, tokens.length, p.gold()), tokens, finish, reflection);
    }

    /**
     * Scores one completion of problem {@code p}: the answer after any think block (see
     * {@link Thinking}), its correctness, the reflection words, the think block's length.
     */
    public static Item score(int index, Problem p, Sample s, int[] tokens, String finish, Signal.Reflection reflection) {
        var answer = AnswerExtractor.extract(s.prompt(), s.completion());
        boolean correct = answer.isPresent() && AnswerEquivalence.equivalent(answer.get(), p.gold());
        int refl = (int) reflection.reward(s);
        return new Item(index, p.id(), p.gold(), answer.orElse(null), correct, tokens.length, finish, refl, s.completion(), tokens,
                s.thinking().state().jsonName(), s.thinkingTokens());
    }

    /** The figures of a list of items. */
    public static Summary summarize(List<Item> items) {
        int correct = 0;
        int answered = 0;
        long tokens = 0;
        long refl = 0;
        Map<String, Integer> finishes = new TreeMap<>();
        Map<String, Integer> think = new TreeMap<>();
        for (Thinking.State st : Thinking.State.values()) {
            think.put(st.jsonName(), 0);
        }
        long thinking = 0;
        boolean measured = true;
        for (Item it : items) {
            correct += it.correct() ? 1 : 0;
            answered += it.answer() != null ? 1 : 0;
            tokens += it.generatedTokens();
            refl += it.reflectionWords();
            finishes.merge(it.finish(), 1, Integer::sum);
            think.merge(it.think(), 1, Integer::sum);
            measured &= it.thinkingTokens() >= 0;
            thinking += Math.max(0, it.thinkingTokens());
        }
        int n = items.size();
        double meanThinking = !measured ? Double.NaN : n == 0 ? 0 : (double) thinking / n;
        double meanAnswer = !measured ? Double.NaN : n == 0 ? 0 : (double) (tokens - thinking) / n;
        return new Summary(n, correct, Wilson.of(correct, n), n == 0 ? 0 : (double) tokens / n, n == 0 ? 0 : (double) refl / n,
                tokens == 0 ? 0 : 1000.0 * refl / tokens, answered, finishes, think, meanThinking, meanAnswer);
    }

    /** Reads a finished evaluation's summary.json. */
    public static Summary readSummary(Path dir) {
        return Summary.of(RunFiles.read(dir.resolve(SUMMARY), EvalFiles.SummaryFile.class, "the summary.json of an evaluation").results());
    }

    private static String finish(Generator.Finish f) {
        return f.name().toLowerCase(Locale.ROOT);
    }

    /**
     * The items of a completions file. A last line without its newline or not parseable (an
     * interrupted append) is cut off the file; any other bad line is an error.
     */
    static List<Item> readCompletions(Path file) {
        List<Item> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IpgException(file + ": cannot read: " + AtomicFiles.reason(e));
        }
        int pos = 0;
        int line = 0;
        long good = 0;
        while (pos < bytes.length) {
            int nl = pos;
            while (nl < bytes.length && bytes[nl] != '\n') {
                nl++;
            }
            line++;
            boolean last = nl >= bytes.length - 1;
            String text = new String(bytes, pos, nl - pos, StandardCharsets.UTF_8);
            Item it = null;
            if (nl < bytes.length) {
                try {
                    it = Item.of(Json.parse(text, file + " line " + line, false));
                } catch (RuntimeException e) {
                    it = null;
                }
            }
            if (it == null) {
                if (!last) {
                    throw new IpgException(file + " line " + line + " is not a completion record; the file is damaged "
                            + "(delete it to start over)");
                }
                break; // torn by an interrupted append: cut off below
            }
            out.add(it);
            pos = nl + 1;
            good = pos;
        }
        if (good < bytes.length) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(good);
                ch.force(true);
            } catch (IOException e) {
                throw new IpgException(file + ": cannot repair: " + AtomicFiles.reason(e));
            }
        }
        return out;
    }

    private static void append(Path file, String lines) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap(lines.getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        } catch (IOException e) {
            throw new IpgException(file + ": cannot write: " + AtomicFiles.reason(e));
        }
    }

}
