package dev.ipg.core.attribution;

import dev.ipg.core.run.Seeds;

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
import dev.ipg.core.run.RunConfig;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.model.ActivationCache;
import dev.ipg.core.model.Batch;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.sae.SaeFingerprint;
import dev.ipg.core.sae.SaeSite;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Sample;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.tensor.DType;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

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
    public record Spec(List<Site> sites, IpgOptions options, String signalSpec, PromptFormat format, int topRows) {
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
            RunConfig.requireSame(dir, dev.ipg.core.io.Json.read(cfg), config, d -> d.startsWith("dataset.used"));
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
        AtomicFiles.createDirectories(dir, "run directory");
        try (dev.ipg.core.io.RunLock lock = dev.ipg.core.io.RunLock.acquire(dir)) {
            return runLocked(config, prompts, m, started, null);
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
        int done = 0;
        for (int i = 0; i < m; i++) {
            if (isDone(i)) {
                done++;
            }
        }
        progress.start("prompts", m, done);
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
     * One prompt's results as the two files written for it into {@code RUN_DIR/prompts} (the
     * scores, then the JSON, which marks the prompt done): what an executor returns to the driver.
     *
     * @param index   the prompt's position in the support set
     * @param json    {@code NNNNN.json}'s bytes
     * @param names   the tensors of {@code NNNNN.safetensors}, in order
     * @param values  their values
     * @param shapes  their shapes
     * @param note    the short status shown in the progress line
     */
    public record PromptResult(int index, byte[] json, List<String> names, List<float[]> values, List<long[]> shapes, String note)
            implements java.io.Serializable {
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
        void compute(List<Integer> missing, float[][] baselines, java.util.function.Consumer<PromptResult> done);
    }

    /**
     * Runs (or resumes) the attribution like {@link #run(int)}, with the prompts still missing
     * computed by {@code remote}; everything written is written here, by the driver.
     */
    public JsonNode run(int limit, Remote remote) {
        List<int[]> prompts = prompts(limit);
        int m = prompts.size();
        long started = System.nanoTime();
        ObjectNode config = config();
        config.with("dataset").put("used", m);
        AtomicFiles.createDirectories(dir, "run directory");
        try (dev.ipg.core.io.RunLock lock = dev.ipg.core.io.RunLock.acquire(dir)) {
            return runLocked(config, prompts, m, started, remote);
        }
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
        Map<Site, float[]> bySite = new java.util.HashMap<>();
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
        int index = i;
        IpgEstimator est = new IpgEstimator(model, o, eos, comps -> {
            List<Sample> samples = new ArrayList<>();
            for (int[] c : comps) {
                samples.add(Sample.of(p.id(), promptText, c, ids -> tok.decode(ids, true), p.gold()));
            }
            return requireFinite(signal.rewards(samples), index);
        }, sae);
        ObjectNode pj = JSON.createObjectNode();
        pj.put("index", i);
        pj.put("id", p.id());
        pj.put("question", p.question());
        pj.put("gold", p.gold());
        pj.put("prompt_tokens", prompt.length);
        ObjectNode bySite = pj.putObject("sites");
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
            bySite.set(name(site), promptJson(r));
            note.append(note.isEmpty() ? "" : "; ").append(String.format(Locale.ROOT, "%sJ(1)=%.2f J(0)=%.2f",
                    spec.sites().size() > 1 ? "L" + site.layer() + " " : "", r.jbar1(), r.jbar0()));
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(pj);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return new PromptResult(i, json, names, values, shapes, note.toString());
    }

    /** Writes a prompt's files: the scores first, the JSON last (a prompt counts as done once its JSON exists). */
    private void write(PromptResult r) {
        SafetensorsWriter w = new SafetensorsWriter();
        for (int k = 0; k < r.names().size(); k++) {
            w.add(r.names().get(k), r.values().get(k), r.shapes().get(k), DType.F32);
        }
        w.write(dir.resolve("prompts").resolve(name(r.index()) + ".safetensors"));
        AtomicFiles.write(dir.resolve("prompts").resolve(name(r.index()) + ".json"),
                ch -> AtomicFiles.writeFully(ch, java.nio.ByteBuffer.wrap(r.json())));
    }

    private static String name(int i) {
        return String.format(Locale.ROOT, "%05d", i);
    }

    private boolean isDone(int i) {
        return Files.exists(dir.resolve("prompts").resolve(name(i) + ".json"))
                && Files.exists(dir.resolve("prompts").resolve(name(i) + ".safetensors"));
    }

    private void prepareDirectory(ObjectNode config) {
        // a different number of prompts used is fine: the run extends or is a prefix
        dev.ipg.core.run.RunConfig.prepare(dir, "run-config.json", config, d -> d.startsWith("dataset.used"));
        AtomicFiles.createDirectories(dir.resolve("prompts"), "run directory");
        // left by a run killed while writing (we hold the lock: no other writer)
        AtomicFiles.removeStaleTemporaries(dir);
        AtomicFiles.removeStaleTemporaries(dir.resolve("prompts"));
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
        Map<Site, float[]> out = new java.util.HashMap<>();
        if (spec.options().baseline() == IpgOptions.BaselineKind.ZERO) {
            return out;
        }
        Path file = dir.resolve("baseline.safetensors");
        if (Files.exists(file)) {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                String over = f.metadata().get("ipg.prompts");
                if (over == null || Integer.parseInt(over) != prompts.size()) {
                    throw new IpgException("the mean baseline in " + file + " was computed over " + over + " prompts, this run uses "
                            + prompts.size() + "; use the same --limit or another --out");
                }
                for (Site s : spec.sites()) {
                    var mtx = f.matrix(name(s));
                    float[] v = new float[mtx.cols()];
                    mtx.copyRow(0, v, 0);
                    out.put(s, v);
                }
                return out;
            }
        }
        progress.message("computing the mean baseline over " + prompts.size() + " prompts");
        MeanBaseline mb = MeanBaseline.of(model, prompts, spec.sites(), sae);
        SafetensorsWriter w = new SafetensorsWriter();
        for (Site s : spec.sites()) {
            float[] mean = mb.bySite().get(s);
            out.put(s, mean);
            w.add(name(s), mean, new long[] {1, mean.length}, DType.F32);
        }
        w.metadata("ipg.prompts", Integer.toString(prompts.size()));
        w.metadata("ipg.positions", Long.toString(mb.positions()));
        w.write(file);
        return out;
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

    private ObjectNode promptJson(IpgEstimator.Result r) {
        ObjectNode j = JSON.createObjectNode();
        ObjectNode c = j.putObject("completeness");
        c.put("alpha_start", r.alphaStart());
        c.put("sum_ipg", r.sum());
        c.put("jbar1_minus_jbar0", r.jbar1() - r.jbar0());
        c.put("jbar_alpha1_minus_jbar0", r.firstStep());
        c.put("jbar0", r.jbar0());
        c.put("jbar1", r.jbar1());
        ArrayNode curve = j.putArray("curve");
        for (IpgEstimator.Node n : r.nodes()) {
            ObjectNode p = curve.addObject();
            p.put("alpha", n.alpha());
            p.put("weight", n.weight());
            p.put("jbar", n.jbar());
            p.put("contribution", n.contributionSum());
            ArrayNode rw = p.putArray("rewards");
            for (double x : n.rewards()) {
                rw.add(x);
            }
            ArrayNode ad = p.putArray("advantages");
            for (double x : n.advantages()) {
                ad.add(x);
            }
            if (spec.options().sampling() == IpgOptions.SamplingMode.REUSE_WEIGHTED) {
                ArrayNode iw = p.putArray("importance_weights");
                for (double x : n.weights()) {
                    iw.add(x);
                }
            }
        }
        ArrayNode r0 = j.putArray("rewards_alpha0");
        for (double x : r.rewards0()) {
            r0.add(x);
        }
        ArrayNode r1 = j.putArray("rewards_alpha1");
        for (double x : r.rewards1()) {
            r1.add(x);
        }
        ObjectNode t = j.putObject("timings");
        t.put("sampling_s", r.samplingSeconds());
        t.put("backward_s", r.backwardSeconds());
        j.put("generated_tokens", r.generatedTokens());
        // completions of the last path point (alpha closest to 1): evidence of what was scored
        ArrayNode comps = j.putArray("completions_last_point");
        IpgEstimator.Node last = r.nodes().getLast();
        for (int n = 0; n < last.completions().size(); n++) {
            ObjectNode cj = comps.addObject();
            cj.put("text", tok.decode(last.completions().get(n), true));
            cj.put("tokens", last.completions().get(n).length);
            cj.put("reward", last.rewards()[n]);
        }
        return j;
    }

    private JsonNode aggregate(ObjectNode config, int m, double seconds) {
        ObjectNode run = JSON.createObjectNode();
        run.put("ipg_version", version());
        // where the model was loaded from, for tools that need it again (ipg report); not part of the
        // configuration identity (run-config.json), which names the model by its fingerprint
        run.put("model_dir", model.dir().toAbsolutePath().normalize().toString());
        run.set("config", config);
        ArrayNode promptsOut = run.putArray("prompts");
        SafetensorsWriter scores = new SafetensorsWriter();
        ObjectNode completeness = run.putObject("completeness");
        ArrayNode warnings = run.putArray("warnings");
        StringBuilder csv = new StringBuilder("site,rank,component,score,abs_score,std_err,positive_prompts,prompts\n");
        double samplingS = 0;
        double backwardS = 0;
        long tokens = 0;
        List<JsonNode> pjs = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            try {
                pjs.add(JSON.readTree(Files.readString(dir.resolve("prompts").resolve(name(i) + ".json"), StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new IpgException(dir.resolve("prompts").resolve(name(i) + ".json") + ": cannot read: " + AtomicFiles.reason(e));
            }
        }
        for (JsonNode pj : pjs) {
            ObjectNode slim = promptsOut.addObject();
            slim.put("index", pj.get("index").asInt());
            slim.put("id", pj.get("id").asText());
            ObjectNode ss = slim.putObject("sites");
            Iterator<Map.Entry<String, JsonNode>> it = pj.get("sites").fields();
            while (it.hasNext()) {
                var e = it.next();
                ObjectNode so = ss.putObject(e.getKey());
                so.set("completeness", e.getValue().get("completeness"));
                ArrayNode curve = so.putArray("curve");
                e.getValue().get("curve").forEach(n -> {
                    ObjectNode c = curve.addObject();
                    c.put("alpha", n.get("alpha").asDouble());
                    c.put("jbar", n.get("jbar").asDouble());
                    c.put("contribution", n.path("contribution").asDouble());
                    c.set("rewards", n.get("rewards"));
                });
                samplingS += e.getValue().at("/timings/sampling_s").asDouble();
                backwardS += e.getValue().at("/timings/backward_s").asDouble();
                tokens += e.getValue().get("generated_tokens").asLong();
            }
        }
        for (Site site : spec.sites()) {
            int width = width(site);
            float[] perPrompt = new float[m * width];
            for (int i = 0; i < m; i++) {
                try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("prompts").resolve(name(i) + ".safetensors"))) {
                    f.matrix(name(site)).copyRow(0, perPrompt, i * width);
                }
            }
            float[] mean = new float[width];
            float[] se = new float[width];
            int[] positive = new int[width];
            for (int c = 0; c < width; c++) {
                double s = 0;
                double sq = 0;
                for (int i = 0; i < m; i++) {
                    double v = perPrompt[i * width + c];
                    s += v;
                    sq += v * v;
                    positive[c] += v > 0 ? 1 : 0;
                }
                mean[c] = (float) (s / m);
                se[c] = m > 1 ? (float) Math.sqrt(Math.max(0, sq / m - (s / m) * (s / m)) / (m - 1)) : Float.NaN;
            }
            String n = name(site);
            scores.add(n + "/scores", mean, new long[] {width}, DType.F32);
            scores.add(n + "/per_prompt", perPrompt, new long[] {m, width}, DType.F32);
            if (spec.sites().size() == 1) {
                scores.add("scores", mean, new long[] {width}, DType.F32);
                scores.add("per_prompt", perPrompt, new long[] {m, width}, DType.F32);
            }
            Integer[] order = new Integer[width];
            for (int c = 0; c < width; c++) {
                order[c] = c;
            }
            java.util.Arrays.sort(order, (a, b) -> Float.compare(mean[b], mean[a]));
            for (int r = 0; r < Math.min(spec.topRows(), width); r++) {
                int c = order[r];
                csv.append(String.format(Locale.ROOT, "%s,%d,%d,%.8g,%.8g,%.8g,%d,%d%n", n, r + 1, c, mean[c], Math.abs(mean[c]), se[c],
                        positive[c], m));
            }
            double sumScores = 0;
            for (float v : mean) {
                sumScores += v;
            }
            double delta = 0;
            double deltaSq = 0;
            double first = 0;
            double j0 = 0;
            double j1 = 0;
            Quadrature.Rule rule = spec.options().rule();
            int q = rule.nodes().length;
            double[] pointJbar = new double[q];
            double[] pointContribution = new double[q];
            for (JsonNode pj : pjs) {
                JsonNode sj = pj.get("sites").get(n);
                JsonNode c = sj.get("completeness");
                double dlt = c.get("jbar1_minus_jbar0").asDouble();
                delta += dlt / m;
                deltaSq += dlt * dlt / m;
                first += c.get("jbar_alpha1_minus_jbar0").asDouble() / m;
                j0 += c.get("jbar0").asDouble() / m;
                j1 += c.get("jbar1").asDouble() / m;
                for (int k = 0; k < q; k++) {
                    pointJbar[k] += sj.get("curve").get(k).get("jbar").asDouble() / m;
                    pointContribution[k] += sj.get("curve").get(k).path("contribution").asDouble() / m;
                }
            }
            double deltaSe = m > 1 ? Math.sqrt(Math.max(0, deltaSq - delta * delta) * m / (m - 1.0) / m) : Double.NaN;
            ObjectNode cs = completeness.putObject(n);
            cs.put("advantage", spec.options().advantage().name().toLowerCase(Locale.ROOT));
            cs.put("policy_gradient", spec.options().gradient().cliName());
            cs.put("alpha_start", spec.options().alphaMin());
            cs.put("sum_scores", sumScores);
            cs.put("mean_jbar1_minus_jbar0", delta);
            cs.put("std_err_jbar1_minus_jbar0", deltaSe);
            cs.put("gap", sumScores - delta);
            cs.put("mean_jbar_alpha1_minus_jbar0", first);
            cs.put("expected_to_hold", completenessExpected(spec.options()));
            cs.put("note", completenessNote(spec.options()));
            PathDiagnostics diag = PathDiagnostics.of(n, spec.options().alphaMin(), rule.nodes(), rule.weights(), pointJbar,
                    pointContribution, j0, j1, delta, deltaSe, first);
            ArrayNode pts = cs.putArray("points");
            for (PathDiagnostics.Point pt : diag.points()) {
                ObjectNode po = pts.addObject();
                po.put("alpha", pt.alpha());
                po.put("weight", pt.weight());
                po.put("mean_jbar", pt.jbar());
                po.put("contribution", pt.contribution());
                po.put("share", pt.share());
                po.put("far_from_jbar1", pt.far());
            }
            ArrayNode ws = cs.putArray("warnings");
            diag.warnings().forEach(x -> {
                ws.add(x);
                warnings.add(x);
            });
            float[] byPoint = new float[q * width];
            for (int i = 0; i < m; i++) {
                try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("prompts").resolve(name(i) + ".safetensors"))) {
                    if (f.has(n + "/points")) {
                        var mtx = f.matrix(n + "/points");
                        for (int k = 0; k < q; k++) {
                            for (int c = 0; c < width; c++) {
                                byPoint[k * width + c] += mtx.get(k, c) / m;
                            }
                        }
                    }
                }
            }
            scores.add(n + "/points", byPoint, new long[] {q, width}, DType.F32);
        }
        scores.metadata("ipg.config", config.toString());
        scores.write(dir.resolve("scores.safetensors"));
        AtomicFiles.write(dir.resolve("top.csv"), ch -> AtomicFiles.writeFully(ch,
                java.nio.ByteBuffer.wrap(csv.toString().getBytes(StandardCharsets.UTF_8))));
        ObjectNode t = run.putObject("timings");
        t.put("wall_s_this_invocation", seconds);
        t.put("sampling_s", samplingS);
        t.put("backward_s", backwardS);
        t.put("generated_tokens", tokens);
        t.put("threads", model.pool().threads());
        t.put("kernels", model.kernels().name());
        writeJson(dir.resolve("run.json"), run);
        warnings.forEach(x -> progress.message("warning: " + x.asText()));
        return run;
    }

    /**
     * Whether sum_i S_i should match Jbar(1) - Jbar(start): only with the rloo advantage (GRPO's
     * division by each group's standard deviation rescales the groups differently), and not when the
     * truncated log-probability is differentiated under a truncating sampler (its gradient vanishes
     * on one-token nuclei). With a truncating sampler and the tempered gradient it holds approximately.
     */
    static boolean completenessExpected(IpgOptions o) {
        boolean truncates = !o.samplingPolicy().untruncated();
        return o.advantage() == Advantage.RLOO && !(truncates && o.gradient() == IpgOptions.PolicyGradient.TRUNCATED)
                && o.steps() > 1;
    }

    static String completenessNote(IpgOptions o) {
        String adv = o.advantage().name().toLowerCase(Locale.ROOT);
        String path = o.alphaMin() == 0 ? "Jbar(1) - Jbar(0)" : "Jbar(1) - Jbar(" + o.alphaMin() + ")";
        if (o.steps() == 1) {
            return "one path point: the scores are a local gradient at alpha = 1, not a path integral; completeness does not apply";
        }
        if (o.advantage() != Advantage.RLOO) {
            return "advantage " + adv + ": not expected to hold (each group is divided by its own standard deviation); "
                    + "sum_i S_i estimates " + path + " only with --advantage rloo";
        }
        if (!o.samplingPolicy().untruncated() && o.gradient() == IpgOptions.PolicyGradient.TRUNCATED) {
            return "advantage rloo with the truncated policy's gradient under top-k/top-p sampling: not expected to hold "
                    + "(log pi is 0 on one-token nuclei, so its gradient misses that part of the change)";
        }
        return "advantage rloo, " + o.gradient().cliName() + " policy gradient: sum_i S_i estimates " + path
                + (o.samplingPolicy().untruncated() ? " in expectation" : " approximately (sampling truncates)")
                + "; Jbar(alpha_1) - Jbar(start) is the part a right Riemann sum cannot see";
    }

    static void writeJson(Path file, JsonNode node) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, java.nio.ByteBuffer.wrap(bytes)));
    }

    private static String version() {
        String v = AttributionRun.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
