package dev.ipg.api;

import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.AttributionRun;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.generate.GenerationDefaults;
import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.grad.Interpolation;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.ModelConfig;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.signal.Signal.Reflection;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.Steering;
import dev.ipg.core.steer.SteeringVector;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A loaded checkpoint with its tokenizer and worker threads: everything the facade does goes
 * through one. Obtain it with {@link Ipg#load(Path)} and close it when done. A model may be used
 * from one thread at a time (its calls use all its worker threads already).
 */
public final class Model implements AutoCloseable {

    private final Parallel pool;
    private final Transformer transformer;
    private final Tokenizer tokenizer;
    private final Set<Integer> eos;
    private ProgressListener progress = ProgressListener.NONE;

    private Model(Parallel pool, Transformer transformer, Tokenizer tokenizer, Set<Integer> eos) {
        this.pool = pool;
        this.transformer = transformer;
        this.tokenizer = tokenizer;
        this.eos = Set.copyOf(eos);
    }

    static Model open(Path dir, Parallel pool) {
        Transformer t = null;
        try {
            t = Transformer.load(dir, KernelsProvider.lookup(), pool);
            Tokenizer tok = Tokenizer.load(dir);
            Set<Integer> eos = new HashSet<>(GenerationDefaults.load(dir).eosTokenIds());
            if (eos.isEmpty()) {
                eos.addAll(t.config().eosTokenIds());
            }
            tok.eosTokenId().ifPresent(eos::add);
            return new Model(pool, t, tok, eos);
        } catch (RuntimeException e) {
            if (t != null) {
                t.close();
            }
            pool.close();
            throw e;
        }
    }

    /** @return the engine, for what this facade does not cover */
    public Transformer transformer() {
        return transformer;
    }

    /** @return the model's Hugging Face tokenizer and chat template */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** @return the architecture as read from {@code config.json} */
    public ModelConfig config() {
        return transformer.config();
    }

    /** @return the ids that end a generation (generation_config.json's, config.json's and the tokenizer's) */
    public Set<Integer> eosIds() {
        return eos;
    }

    /**
     * Sends the progress of long calls ({@link #attribute}, {@link #evaluate}) to {@code listener}.
     *
     * @param listener receives start, advance and message events; {@link ProgressListener#NONE} by default
     * @return this model
     */
    public Model progress(ProgressListener listener) {
        this.progress = listener == null ? ProgressListener.NONE : listener;
        return this;
    }

    /**
     * Questions as the model's chat template renders them: the question as the user message, the
     * assistant turn opened.
     *
     * @return the chat prompt format
     */
    public PromptFormat chat() {
        return new PromptFormat("{question}", true, null, null);
    }

    /**
     * The tokens of a question in a prompt format.
     *
     * @param question the text ({@code {question}} of the format)
     * @param format   {@link #chat()}, {@link PromptFormat#plain()} or another format
     * @return the prompt's token ids
     */
    public int[] prompt(String question, PromptFormat format) {
        return format.encode(question, tokenizer);
    }

    /**
     * Decodes ids to text.
     *
     * @param ids token ids
     * @return the text, special tokens skipped
     */
    public String decode(int[] ids) {
        return tokenizer.decode(ids, true);
    }

    /**
     * Generates one completion.
     *
     * @param prompt       prompt token ids
     * @param sampling     {@link SamplingParams#greedy()} or a seeded temperature / top-p / top-k sampler
     * @param maxNewTokens generation budget
     * @param steering     the intervention applied at every position ({@link Steering#none()} for none)
     * @return the completion
     */
    public Generated generate(int[] prompt, SamplingParams sampling, int maxNewTokens, Steering steering) {
        steering.checkIn(config());
        var opts = new Generator.Options(sampling, maxNewTokens, eos, List.of(), null);
        Generator.Completion c = new Generator(transformer).generate(List.of(prompt), opts, steering.hooks(), null).getFirst();
        return new Generated(decode(c.tokens()), c.tokens(), c.finish());
    }

    /**
     * Runs the model over a token sequence and records the activations of some sites.
     *
     * @param tokens the sequence
     * @param sites  TransformerLens names such as {@code blocks.1.hook_resid_post}
     * @return site name to its activations, in the order given, shaped as {@link Site#shape} ({@code [T, d]}; hook_q/k/v/z {@code [T, heads, head_dim]}; hook_pattern {@code [heads, T, T]})
     */
    public Map<String, Activations> cache(int[] tokens, String... sites) {
        if (tokens.length == 0) {
            throw new IpgException("no tokens to run");
        }
        ActivationCache rec = new ActivationCache();
        Hooks hooks = Hooks.none();
        Map<String, Site> parsed = new LinkedHashMap<>();
        for (String s : sites) {
            Site site = Site.parse(s).checkIn(config());
            parsed.put(s, site);
            hooks.read(site, rec);
        }
        int[] rows = {tokens.length - 1};
        transformer.forward(Batch.ofSequence(0, 0, tokens), transformer.newCache(1, tokens.length), hooks, rows);
        Map<String, Activations> out = new LinkedHashMap<>();
        parsed.forEach((name, site) -> out.put(name, new Activations(site, shape(site, tokens.length), rec.get(site, 0, config()))));
        return out;
    }

    /**
     * Differentiates the log-probability of {@code tokens[from..]} (teacher-forced) with respect to a site.
     *
     * @param tokens the sequence
     * @param from   the first scored position, 1 &le; from &lt; T
     * @param site   the site's TransformerLens name
     * @return L, h, dL/dh and dL/dalpha
     */
    public SiteGradient gradient(int[] tokens, int from, String site) {
        Site s = Site.parse(site).checkIn(config());
        int width = s.width(config());
        var r = new ReverseMode(transformer).siteGradients(List.of(new Trajectory(tokens, from)), Interpolation.uniform(s, width, 1f), true)
                .getFirst();
        int[] shape = shape(s, tokens.length);
        return new SiteGradient(r.objective(), new Activations(s, shape, r.activation()), new Activations(s, shape, r.siteGrad()), r.scaleGrad());
    }

    /**
     * Integrated Policy Gradient over the first {@code limit} problems of a support set (or
     * resumes a run of the same configuration in {@code outDir}).
     *
     * @param dataset JSONL problems (GSM8K, MATH-500 or AIME shape)
     * @param limit   problems used (0: all)
     * @param format  how a question becomes a prompt, e.g. {@link #chat()}
     * @param site    the site whose components are scored
     * @param signal  the outcome signal spec: {@code correct}, {@code length}, {@code reflection}, ...
     * @param options q, N, sampling and the rest; {@link Attribution#options} or {@link IpgOptions#paper()}
     * @param outDir  the run directory written
     * @return the scores and the run record
     */
    public Attribution attribute(Path dataset, int limit, PromptFormat format, String site, String signal, IpgOptions options,
                                 Path outDir) {
        Site s = Site.parse(site);
        Dataset data = Dataset.load(dataset);
        try (Signal sig = Signals.parse(signal, pool)) {
            var run = new AttributionRun(transformer, tokenizer, data, sig, new AttributionRun.Spec(List.of(s), options, signal, format, 50),
                    eos, outDir, progress);
            var json = run.run(limit);
            return new Attribution(outDir, ScoresFile.load(outDir, s), json);
        }
    }

    /**
     * Scale the top components of a scores file at every position.
     *
     * @param scores an {@link Attribution}'s directory, a baseline's, or a scores file
     * @param top    how many: {@code new Top.Percent(5)} or {@code new Top.Count(20)}
     * @param gamma  the factor: 0 suppresses, &gt; 1 enhances
     * @return the steering, checked against this model
     */
    public Steering scale(Path scores, Top top, double gamma) {
        return Steering.scale(ScoresFile.load(scores, null), top, Rank.SIGNED, gamma).checkIn(config());
    }

    /**
     * Add a direction at every position.
     *
     * @param vector   a safetensors vector file (numpy-written files too)
     * @param site     its site, or null when the file names it
     * @param strength the multiplier
     * @return the steering, checked against this model
     */
    public Steering add(Path vector, String site, double strength) {
        SteeringVector v = SteeringVector.load(vector, site == null ? null : Site.parse(site));
        return new Steering.Add(v, strength, vector.toString()).checkIn(config());
    }

    /**
     * Greedy accuracy on a problem set, with its 95 % Wilson interval, original or steered (or
     * resumes an evaluation of the same configuration in {@code outDir}).
     *
     * @param dataset      JSONL problems
     * @param limit        problems used (0: all)
     * @param format       how a question becomes a prompt
     * @param steering     the intervention, {@link Steering#none()} for the original model
     * @param maxNewTokens generation budget per problem
     * @param outDir       where {@code completions.jsonl} and {@code summary.json} are written
     * @return accuracy, interval, mean length and reflection counts
     */
    public EvalRun.Summary evaluate(Path dataset, int limit, PromptFormat format, Steering steering, int maxNewTokens, Path outDir) {
        steering.checkIn(config());
        var spec = new EvalRun.Spec(format, EvalRun.Decoding.greedy(maxNewTokens, 8), steering, Reflection.DEFAULT_WORDS);
        var run = new EvalRun(transformer, tokenizer, Dataset.load(dataset), spec, eos, outDir, progress);
        run.prepare();
        return run.run(limit).summary();
    }

    private int[] shape(Site site, int positions) {
        return java.util.Arrays.stream(site.shape(config(), positions)).mapToInt(Math::toIntExact).toArray();
    }

    /** Releases the tokenizer, the weights' memory mappings and the worker threads. */
    @Override
    public void close() {
        try {
            tokenizer.close();
        } finally {
            try {
                transformer.close();
            } finally {
                pool.close();
            }
        }
    }
}
