package dev.ipg.core.attribution;

import dev.ipg.core.run.Seeds;

import dev.ipg.core.run.AttributionFiles;
import dev.ipg.core.run.AttributionFiles.Completion;
import dev.ipg.core.run.AttributionFiles.CurvePoint;
import dev.ipg.core.run.AttributionFiles.PromptCompleteness;
import dev.ipg.core.run.AttributionFiles.PromptFile;
import dev.ipg.core.run.AttributionFiles.PromptTimings;
import dev.ipg.core.run.AttributionFiles.RunFile;
import dev.ipg.core.run.AttributionFiles.SiteResult;
import dev.ipg.core.run.RunDirectory;
import dev.ipg.core.run.RunFiles;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.run.ProgressListener;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.data.Problem;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.Json;
import dev.ipg.core.run.RunConfig;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeFingerprint;
import dev.ipg.core.sae.SaeSite;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Sample;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * An attribution run over a support set: IPG of every prompt at every site, persisted prompt by
 * prompt (atomically, so an interrupted run resumes where it stopped), then aggregated into
 * {@code scores.safetensors}, {@code top.csv} and {@code run.json} in the run directory.
 *
 * <pre>
 *   RUN_DIR/run-config.json          what produced the results (a different one refuses to mix)
 *   RUN_DIR/baseline.safetensors     the mean baseline per site (baseline = mean)
 *   RUN_DIR/prompts/NNNNN.json       per prompt: rewards, Jbar curve, completeness, completions
 *   RUN_DIR/prompts/NNNNN.safetensors  per prompt: IPG(i; x) per site
 *   RUN_DIR/scores.safetensors       S_i = mean over prompts, per site, and per_prompt [M, d]
 *   RUN_DIR/top.csv                  the top components of each site
 *   RUN_DIR/run.json                 configuration, fingerprint, model_dir, timings, per prompt results, completeness
 * </pre>
 */
public final class AttributionRun {

    /** What a run is, beside the model and data objects. */
    public record Spec(List<Site> sites, IpgOptions options, String signalSpec, PromptFormat format, int topRows) implements Serializable {
    }

    /**
     * This run as it travels to an executor, which brings the model, the tokenizer, the signal of
     * {@code spec.signalSpec()} and the SAE at {@code saeSite} (when not null).
     */
    public Recipe recipe() {
        return new Recipe(data, spec, eos, sae == null ? null : sae.site());
    }

    /**
     * What an executor rebuilds an attribution from, to compute its prompts ({@link #computePrompt})
     * and write nothing.
     */
    public record Recipe(Dataset data, Spec spec, Set<Integer> eos, Site saeSite) implements Serializable {
        /** The run on what the executor opened ({@code sae}: at {@link #saeSite}, or null), without a directory. */
        public AttributionRun open(Transformer model, Tokenizer tok, Signal signal, Sae sae) {
            if ((saeSite == null) != (sae == null) || sae != null && !sae.site().equals(saeSite)) {
                throw new IpgException("the attribution " + (saeSite == null ? "has no SAE" : "is over the latents of an SAE at "
                        + saeSite) + ", the executor " + (sae == null ? "has none" : "has the SAE at " + sae.site()));
            }
            return new AttributionRun(model, tok, data, signal, spec, eos, null, ProgressListener.NONE, sae);
        }
    }

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Transformer model;
    private final Tokenizer tok;
    private final Dataset data;
    private final Signal signal;
    private final Spec spec;
    private final Set<Integer> eos;
    private final Path dir;
    private final ProgressListener progress;
    private final Sae sae;
    private ObjectNode modelIdentity;

    public AttributionRun(Transformer model, Tokenizer tok, Dataset data, Signal signal, Spec spec, Set<Integer> eos, Path dir,
                          ProgressListener progress) {
        this(model, tok, data, signal, spec, eos, dir, progress, null);
    }

    /**
     * IPG-SAE when {@code sae} is non-null: at its site the components are its latents, written
     * under the name {@code SITE.hook_sae_acts_post}.
     */
    public AttributionRun(Transformer model, Tokenizer tok, Dataset data, Signal signal, Spec spec, Set<Integer> eos, Path dir,
                          ProgressListener progress, Sae sae) {
        this.sae = sae == null ? null : sae.checkIn(model.config());
        this.model = model;
        this.tok = tok;
        this.data = data;
        this.signal = signal;
        this.spec = spec;
        this.eos = Set.copyOf(eos);
        this.dir = dir;
        this.progress = progress;
        if (data.size() == 0) {
            throw new IpgException("the support set " + data.source() + " has no problems");
        }
        for (Site s : spec.sites()) {
            s.checkIn(model.config());
        }
        if (sae != null && !spec.sites().contains(sae.site())) {
            throw new IpgException(sae.source() + ": the SAE reads " + sae.site() + ", which is not among the sites attributed");
        }
    }

    private boolean latents(Site site) {
        return sae != null && sae.site().equals(site);
    }

    /** The name of a site's scores: the site, or its SAE's latents ({@code SITE.hook_sae_acts_post}). */
    private String name(Site site) {
        return latents(site) ? sae.name(SaeSite.Point.ACTS_POST) : site.toString();
    }

    private int width(Site site) {
        return latents(site) ? sae.dSae() : site.width(model.config());
    }

    /** The configuration that identifies this run's results. */
    ObjectNode config() {
        IpgOptions o = spec.options();
        ObjectNode c = JSON.createObjectNode();
        c.put("method", "integrated-policy-gradient");
        if (modelIdentity == null) {
            modelIdentity = RunConfig.model(model); // hashes the weights once per run object
        }
        c.set("model", modelIdentity.deepCopy());
        c.set("dataset", RunConfig.dataset(data));
        ArrayNode sites = c.putArray("sites");
        spec.sites().forEach(s -> sites.add(name(s)));
        if (sae != null) {
            c.set("sae", SaeFingerprint.json(sae));
        }
        c.put("signal", spec.signalSpec());
        c.set("prompt_format", spec.format().json());
        ObjectNode h = c.putObject("hyperparameters");
        h.put("steps", o.steps());
        h.put("samples", o.samples());
        h.put("temperature", o.temperature());
        h.put("top_p", o.topP());
        h.put("top_k", o.topK());
        h.put("max_new_tokens", o.maxNewTokens());
        h.put("advantage", o.advantage().name().toLowerCase(Locale.ROOT));
        h.put("baseline", o.baseline().name().toLowerCase(Locale.ROOT));
        h.put("sampling", o.sampling().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        h.put("positions", o.positions().name().toLowerCase(Locale.ROOT));
        h.put("quadrature", o.quadrature().cliName());
        h.put("seed", o.seed());
        // the estimator: which log-probability is differentiated, the path, the random streams
        h.put("policy_gradient", o.gradient().cliName());
        h.put("alpha_min", o.alphaMin());
        h.put("random_streams", o.streams());
        if (o.baseline() == IpgOptions.BaselineKind.MEAN) {
            h.put("baseline_definition", MeanBaseline.DEFINITION);
        }
        if (!o.candidates().all()) {
            ObjectNode cand = h.putObject("candidates");
            cand.put("from", o.candidates().source());
            cand.put("top", o.candidates().top());
            ObjectNode ids = cand.putObject("components");
            o.candidates().bySite().forEach((site, ids0) -> {
                ArrayNode a = ids.putArray(site.toString());
                for (int x : ids0) {
                    a.add(x);
                }
            });
        }
        ArrayNode eosIds = h.putArray("eos_token_ids");
        new TreeSet<>(eos).forEach(eosIds::add);
        return c;
    }

    /**
     * Checks what can be checked before any work, without writing anything: the limit, every prompt
     * of the first {@code limit} problems against the model's context, and that the run directory
     * (if it holds a run) holds one of this configuration and model. {@link #run} checks the same;
     * call this to fail before announcing a run.
     */
    public void check(int limit) {
        List<int[]> prompts = prompts(limit);
        ObjectNode config = config();
        config.with("dataset").put("used", prompts.size());
        Path cfg = dir.resolve("run-config.json");
        if (Files.isRegularFile(cfg)) {
            RunConfig.requireSame(dir, Json.read(cfg), config, d -> d.startsWith("dataset.used"));
        }
    }

    private List<int[]> prompts(int limit) {
        if (limit < 0) {
            throw new IpgException("--limit must be >= 0 (0 = all), got " + limit);
        }
        return data.prompts(limit, spec.format(), tok, model.config().maxPositions());
    }

    /** Runs (or resumes) the attribution and writes the outputs. Returns run.json's content. */
    public JsonNode run(int limit) {
        List<int[]> prompts = prompts(limit);
        int m = prompts.size();
        long started = System.nanoTime();
        ObjectNode config = config();
        config.with("dataset").put("used", m);
        try (RunLock lock = RunDirectory.lock(dir)) {
            return runLocked(config, prompts, m, started, null);
        }
    }

    /**
     * Runs (or resumes) the attribution like {@link #run(int)}, with the prompts still missing
     * computed by {@code remote} (null: here); everything written is written here, by the driver.
     */
    public JsonNode run(int limit, Remote remote) {
        List<int[]> prompts = prompts(limit);
        int m = prompts.size();
        long started = System.nanoTime();
        ObjectNode config = config();
        config.with("dataset").put("used", m);
        try (RunLock lock = RunDirectory.lock(dir)) {
            return runLocked(config, prompts, m, started, remote);
        }
    }

    private JsonNode runLocked(ObjectNode config, List<int[]> prompts, int m, long started, Remote remote) {
        prepareDirectory(config);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            Problem p = data.get(i);
            texts.add(spec.format().render(p.question(), tok));
        }
        Map<Site, float[]> baselines = baselines(prompts);
        RunDirectory.start(progress, "prompts", m, this::isDone);
        if (remote != null) {
            List<Integer> missing = new ArrayList<>();
            for (int i = 0; i < m; i++) {
                if (!isDone(i)) {
                    missing.add(i);
                }
            }
            float[][] bySiteNumber = new float[spec.sites().size()][];
            for (int s = 0; s < bySiteNumber.length; s++) {
                bySiteNumber[s] = baselines.get(spec.sites().get(s));
            }
            if (!missing.isEmpty()) {
                remote.compute(missing, bySiteNumber, r -> {
                    write(r);
                    progress.advance(r.note());
                });
            }
            for (int i = 0; i < m; i++) {
                if (!isDone(i)) {
                    throw new IpgException("prompt " + i + " of " + dir + " was not computed");
                }
            }
            return aggregate(config, m, (System.nanoTime() - started) / 1e9);
        }
        for (int i = 0; i < m; i++) {
            if (isDone(i)) {
                continue;
            }
            PromptResult r = computePrompt(i, prompts.get(i), texts.get(i), baselines);
            write(r);
            progress.advance(r.note());
        }
        return aggregate(config, m, (System.nanoTime() - started) / 1e9);
    }

    /**
     * One prompt's results as written into {@code RUN_DIR/prompts} (the scores, then the JSON,
     * which marks the prompt done): what an executor returns to the driver.
     *
     * @param file    {@code NNNNN.json}
     * @param names   the tensors of {@code NNNNN.safetensors}, in order
     * @param values  their values
     * @param shapes  their shapes
     * @param note    the short status shown in the progress line
     */
    public record PromptResult(PromptFile file, List<String> names, List<float[]> values, List<long[]> shapes, String note)
            implements Serializable {

        /** The prompt's position in the support set. */
        public int index() {
            return file.index();
        }
    }

    /** Computes the prompt work somewhere else (the executors of a cluster); see {@link #run(int, Remote)}. */
    @FunctionalInterface
    public interface Remote {
        /**
         * Computes the prompts {@code missing} with {@link #computePrompt(int, int, float[][])} and
         * hands each result to {@code done} on the calling thread.
         *
         * @param baselines the baseline of each site by site number (null: zero)
         */
        void compute(List<Integer> missing, float[][] baselines, Consumer<PromptResult> done);
    }

    /**
     * Computes prompt {@code i} of the first {@code limit} problems exactly as {@link #run(int)}
     * does, writing nothing: the work of an executor. {@code baselines} are the driver's, by site number.
     */
    public PromptResult computePrompt(int limit, int i, float[][] baselines) {
        if (executorPrompts == null || executorLimit != limit) {
            executorPrompts = prompts(limit);
            executorLimit = limit;
        }
        if (i < 0 || i >= executorPrompts.size()) {
            throw new IpgException("prompt " + i + " is not among the " + executorPrompts.size() + " prompts of the run");
        }
        Map<Site, float[]> bySite = new HashMap<>();
        for (int s = 0; s < spec.sites().size(); s++) {
            if (baselines != null && baselines[s] != null) {
                bySite.put(spec.sites().get(s), baselines[s]);
            }
        }
        return computePrompt(i, executorPrompts.get(i), spec.format().render(data.get(i).question(), tok), bySite);
    }

    private List<int[]> executorPrompts;
    private int executorLimit = -1;

    private PromptResult computePrompt(int i, int[] prompt, String promptText, Map<Site, float[]> baselines) {
        IpgOptions o = spec.options();
        Problem p = data.get(i);
        IpgEstimator est = new IpgEstimator(model, o, eos, comps -> {
            List<Sample> samples = new ArrayList<>();
            for (int[] c : comps) {
                samples.add(Sample.of(p.id(), promptText, c, ids -> tok.decode(ids, true), p.gold()));
            }
            return requireFinite(signal.rewards(samples), i);
        }, sae);
        Map<String, SiteResult> bySite = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        List<float[]> values = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        StringBuilder note = new StringBuilder();
        for (int s = 0; s < spec.sites().size(); s++) {
            Site site = spec.sites().get(s);
            long seed = Seeds.forPrompt(o.seed(), o.streams(), i, s);
            IpgEstimator.Result r = est.attribute(prompt, site, baselines.get(site), seed);
            requireFinite(r, i, site);
            names.add(name(site));
            values.add(r.ipg());
            shapes.add(new long[] {r.ipg().length});
            names.add(name(site) + "/points");
            values.add(pointContributions(r));
            shapes.add(new long[] {r.nodes().size(), r.ipg().length});
            bySite.put(name(site), siteResult(r));
            note.append(note.isEmpty() ? "" : "; ").append(String.format(Locale.ROOT, "%sJ(1)=%.2f J(0)=%.2f",
                    spec.sites().size() > 1 ? "L" + site.layer() + " " : "", r.jbar1(), r.jbar0()));
        }
        PromptFile file = new PromptFile(i, p.id(), p.question(), p.gold(), prompt.length, bySite);
        return new PromptResult(file, names, values, shapes, note.toString());
    }

    /** Writes a prompt's files: the scores first, the JSON last (a prompt counts as done once its JSON exists). */
    private void write(PromptResult r) {
        SafetensorsWriter w = new SafetensorsWriter();
        for (int k = 0; k < r.names().size(); k++) {
            w.add(r.names().get(k), r.values().get(k), r.shapes().get(k), DType.F32);
        }
        w.write(dir.resolve("prompts").resolve(name(r.index()) + ".safetensors"));
        RunFiles.write(dir.resolve("prompts").resolve(name(r.index()) + ".json"), r.file());
    }

    private static String name(int i) {
        return AttributionFiles.promptName(i);
    }

    private boolean isDone(int i) {
        return Files.exists(dir.resolve("prompts").resolve(name(i) + ".json"))
                && Files.exists(dir.resolve("prompts").resolve(name(i) + ".safetensors"));
    }

    private void prepareDirectory(ObjectNode config) {
        // a different number of prompts used is fine: the run extends or is a prefix
        RunDirectory.prepare(dir, "run-config.json", config, d -> d.startsWith("dataset.used"), "prompts");
    }

    /** The rewards of prompt {@code i}, refused when one is not a finite number. */
    private double[] requireFinite(double[] rewards, int i) {
        for (double r : rewards) {
            if (!Double.isFinite(r)) {
                throw new IpgException(data.where(data.get(i), i) + ": the signal '" + spec.signalSpec() + "' gave a reward of " + r
                        + "; rewards must be finite numbers");
            }
        }
        return rewards;
    }

    /** The estimate of prompt {@code i} at {@code site}, refused when an aggregate is not finite (rewards too large to average). */
    private void requireFinite(IpgEstimator.Result r, int i, Site site) {
        boolean finite = Double.isFinite(r.jbar0()) && Double.isFinite(r.jbar1()) && Double.isFinite(r.sum());
        for (float v : r.ipg()) {
            finite &= Float.isFinite(v);
        }
        if (!finite) {
            double largest = 0;
            for (IpgEstimator.Node n : r.nodes()) {
                for (double x : n.rewards()) {
                    largest = Math.max(largest, Math.abs(x));
                }
            }
            throw new IpgException(data.where(data.get(i), i) + ": the IPG estimate at " + site + " is not finite (Jbar(0) = " + r.jbar0()
                    + ", Jbar(1) = " + r.jbar1() + ", sum of scores " + r.sum() + "); the largest |reward| is " + largest
                    + ": rescale the signal '" + spec.signalSpec() + "'");
        }
    }

    /** The baseline h' of every site: null (zero) or the {@link MeanBaseline} of the support prompts. */
    private Map<Site, float[]> baselines(List<int[]> prompts) {
        if (spec.options().baseline() == IpgOptions.BaselineKind.ZERO) {
            return new java.util.HashMap<>();
        }
        return MeanBaseline.stored(dir.resolve("baseline.safetensors"), model, prompts, spec.sites(), sae, this::name,
                progress::message);
    }

    /** Each path point's contribution to IPG(i; x), [q, d] row-major. */
    private static float[] pointContributions(IpgEstimator.Result r) {
        int d = r.ipg().length;
        float[] out = new float[r.nodes().size() * d];
        for (int k = 0; k < r.nodes().size(); k++) {
            System.arraycopy(r.nodes().get(k).contribution(), 0, out, k * d, d);
        }
        return out;
    }

    private SiteResult siteResult(IpgEstimator.Result r) {
        PromptCompleteness c = new PromptCompleteness(r.alphaStart(), r.sum(), r.jbar1() - r.jbar0(), r.firstStep(), r.jbar0(),
                r.jbar1());
        boolean reweighted = spec.options().sampling() == IpgOptions.SamplingMode.REUSE_WEIGHTED;
        List<CurvePoint> curve = r.nodes().stream().map(n -> new CurvePoint(n.alpha(), n.weight(), n.jbar(), n.contributionSum(),
                n.rewards(), n.advantages(), reweighted ? n.weights() : null)).toList();
        // completions of the last path point (alpha closest to 1): evidence of what was scored
        IpgEstimator.Node last = r.nodes().getLast();
        List<Completion> comps = new ArrayList<>();
        for (int n = 0; n < last.completions().size(); n++) {
            comps.add(new Completion(tok.decode(last.completions().get(n), true), last.completions().get(n).length, last.rewards()[n]));
        }
        return new SiteResult(c, curve, r.rewards0(), r.rewards1(), new PromptTimings(r.samplingSeconds(), r.backwardSeconds()),
                r.generatedTokens(), comps);
    }

    private JsonNode aggregate(ObjectNode config, int m, double seconds) {
        List<RunAggregation.Scores> named = spec.sites().stream().map(s -> new RunAggregation.Scores(name(s), width(s))).toList();
        RunFile run = new RunAggregation(dir, named, spec.options(), spec.topRows(), m)
                .write(config, model.dir().toAbsolutePath().normalize().toString(), RunDirectory.Machine.of(model), seconds);
        run.warnings().forEach(x -> progress.message("warning: " + x));
        return RunFiles.tree(run);
    }
}
