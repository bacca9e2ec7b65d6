package dev.ipg.core.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.run.Seeds;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.generate.Generator;
import dev.ipg.core.generate.SamplingParams;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.nn.Policy;
import dev.ipg.core.report.ReportData.ComponentFrequency;
import dev.ipg.core.report.ReportData.Example;
import dev.ipg.core.report.ReportData.ProcessLevel;
import dev.ipg.core.report.ReportData.PromptInfo;
import dev.ipg.core.report.ReportData.Section;
import dev.ipg.core.report.ReportData.TokenTrajectory;
import dev.ipg.core.report.RunReader.Component;
import dev.ipg.core.signal.Sample;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.signal.Signals;
import dev.ipg.core.tokenize.StreamDecoder;
import dev.ipg.core.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The report sections that run the model, kept small: a bounded number of teacher-forced passes
 * and generations.
 *
 * <ul>
 *   <li>{@link #processLevel}: the activations of the top components along completions scored by
 *       the run, binned by normalized reasoning progress ({@link ReasoningProgress}).
 *   <li>{@link #examples}: for a few prompts, one completion from the original model and one from
 *       the model with the top components scaled by gamma (same sampling parameters and seed), and
 *       each token's log-probability under both models (plain softmax, teacher-forced).
 * </ul>
 */
public final class ModelProbe {

    /**
     * Bounds and parameters.
     *
     * @param trajectories  completions analysed for the process-level section
     * @param examples      prompts shown before and after the intervention
     * @param gamma         the scale applied to the top components (0 suppresses, > 1 enhances)
     * @param bins          progress bins
     * @param quantile      a component fires where |h| exceeds this quantile of its |h|
     * @param maxNewTokens  generation budget of the examples (0: the run's)
     */
    public record Options(int trajectories, int examples, double gamma, int bins, double quantile, int maxNewTokens) {

        public Options {
            if (trajectories < 0 || examples < 0 || bins < 1 || !(quantile > 0 && quantile < 1) || maxNewTokens < 0 || !(gamma >= 0)) {
                throw new IpgException("bad report options: trajectories " + trajectories + ", examples " + examples + ", bins " + bins
                        + ", quantile " + quantile + ", gamma " + gamma + ", max new tokens " + maxNewTokens);
            }
        }

        /** Defaults: 24 trajectories, 3 examples, gamma 0, 8 bins, 0.9 quantile, the run's budget. */
        public static Options defaults() {
            return new Options(24, 3, 0, 8, 0.9, 0);
        }
    }

    private final Transformer model;
    private final Tokenizer tok;
    private final RunReader.Run run;
    private final Options opt;
    private final PromptFormat format;
    private final ReverseMode reverse;

    public ModelProbe(Transformer model, Tokenizer tok, RunReader.Run run, Options opt) {
        this.model = model;
        this.tok = tok;
        this.run = run;
        this.opt = opt;
        this.format = promptFormat(run.config());
        this.reverse = new ReverseMode(model);
        RunReader.requireModel(run, model);
        for (var s : run.sites()) {
            Site site = Site.parse(s.site()).checkIn(model.config());
            if (site.width(model.config()) != s.width()) {
                throw new IpgException("the model has " + site.width(model.config()) + " components at " + site + ", the run's scores "
                        + s.width() + ": is it the model the run was made with?");
            }
        }
    }

    static PromptFormat promptFormat(JsonNode config) {
        JsonNode f = config.path("prompt_format");
        boolean chat = f.path("chat").asBoolean(false);
        String template = f.hasNonNull("template") ? f.get("template").asText() : "{question}";
        String system = f.hasNonNull("system") ? f.get("system").asText() : null;
        Boolean thinking = f.hasNonNull("enable_thinking") ? f.get("enable_thinking").asBoolean() : null;
        return new PromptFormat(chat ? "{question}" : template, chat, system, thinking);
    }

    /** Hooks that scale {@code components} by gamma at their sites. */
    public static Hooks scaleHooks(List<Component> components, double gamma, Transformer model) {
        Map<Site, float[]> bySite = new LinkedHashMap<>();
        for (Component c : components) {
            float[] g = bySite.computeIfAbsent(c.site(), s -> {
                float[] ones = new float[s.width(model.config())];
                java.util.Arrays.fill(ones, 1f);
                return ones;
            });
            g[c.index()] = (float) gamma;
        }
        Hooks h = Hooks.none();
        bySite.forEach((s, g) -> h.intervene(s, new Intervention.Scale(g)));
        return h;
    }

    /** Each token's text: their concatenation is the decoded sequence (a character split over tokens goes to its last one). */
    static String[] pieces(Tokenizer tok, int[] ids, boolean skipSpecial) {
        StreamDecoder d = tok.newStreamDecoder(skipSpecial);
        String[] out = new String[ids.length];
        for (int k = 0; k < ids.length; k++) {
            out[k] = d.push(ids[k]);
        }
        if (ids.length > 0) {
            out[ids.length - 1] += d.flush();
        }
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] all = new int[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** Activation frequency of {@code top} across normalized reasoning progress. */
    public Section<ProcessLevel> processLevel(List<Component> top) {
        if (top.isEmpty() || opt.trajectories() == 0) {
            return Section.absent("no components or no trajectories to analyse");
        }
        String firstSite = run.sites().getFirst().site();
        // round-robin over prompts: the first completion of every prompt, then the second, ...
        List<int[]> prompts = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        int most = run.prompts().stream().mapToInt(p -> completionsAt(p, firstSite).size()).max().orElse(0);
        for (int n = 0; n < most && texts.size() < opt.trajectories(); n++) {
            for (PromptInfo p : run.prompts()) {
                var cs = completionsAt(p, firstSite);
                if (n < cs.size() && !cs.get(n).isEmpty() && texts.size() < opt.trajectories()) {
                    prompts.add(format.encode(p.question(), tok));
                    texts.add(cs.get(n));
                }
            }
        }
        if (texts.isEmpty()) {
            return Section.absent("the run recorded no non-empty completions to analyse");
        }
        List<List<float[]>> acts = new ArrayList<>(); // [component][trajectory] activation per generated token
        for (int c = 0; c < top.size(); c++) {
            acts.add(new ArrayList<>());
        }
        List<int[]> bins = new ArrayList<>();
        long[] perBin = new long[opt.bins()];
        double steps = 0;
        int context = model.config().maxPositions();
        for (int t = 0; t < texts.size(); t++) {
            int[] prompt = prompts.get(t);
            int[] gen = tok.encode(texts.get(t), false);
            if (prompt.length + gen.length > context) {
                gen = java.util.Arrays.copyOf(gen, Math.max(0, context - prompt.length));
            }
            if (gen.length == 0) {
                continue;
            }
            int[] all = concat(prompt, gen);
            float[][] cols = new float[top.size()][all.length];
            Hooks hooks = Hooks.none();
            for (Site s : new HashSet<>(top.stream().map(Component::site).toList())) {
                hooks.read(s, (site, act, width, batch) -> {
                    for (int r = 0; r < batch.rows(); r++) {
                        for (int c = 0; c < top.size(); c++) {
                            if (top.get(c).site().equals(site)) {
                                cols[c][batch.pos()[r]] = act[r * width + top.get(c).index()];
                            }
                        }
                    }
                });
            }
            reverse.logProbs(List.of(new Trajectory(all, prompt.length)), hooks, Policy.softmax());
            String[] pieces = pieces(tok, gen, true);
            double[] progress = ReasoningProgress.progress(pieces);
            steps += ReasoningProgress.stepCount(pieces);
            int[] b = new int[gen.length];
            for (int k = 0; k < gen.length; k++) {
                b[k] = ReasoningProgress.bin(progress[k], opt.bins());
                perBin[b[k]]++;
            }
            bins.add(b);
            for (int c = 0; c < top.size(); c++) {
                acts.get(c).add(java.util.Arrays.copyOfRange(cols[c], prompt.length, all.length));
            }
        }
        List<ComponentFrequency> rows = new ArrayList<>();
        for (int c = 0; c < top.size(); c++) {
            double thr = ReasoningProgress.absQuantile(acts.get(c), opt.quantile());
            rows.add(new ComponentFrequency(top.get(c).site().toString(), top.get(c).index(), top.get(c).score(), thr,
                    ReasoningProgress.frequency(acts.get(c), bins, opt.bins(), thr)));
        }
        var value = new ProcessLevel(opt.bins(), opt.quantile(), bins.size(), perBin, bins.isEmpty() ? 0 : steps / bins.size(), rows);
        String note = String.format(Locale.ROOT, "%d completions scored by the run (sampled at the last path point of %s), "
                        + "re-tokenized and teacher-forced through the original model. A component fires at a token when |h| exceeds "
                        + "the %.0f%% quantile of its |h| over all these tokens, so its average frequency is about %.0f%%; "
                        + "steps are separated by blank lines (%.1f steps per completion on average).", bins.size(), firstSite,
                100 * opt.quantile(), 100 * (1 - opt.quantile()), value.stepsPerTrajectory());
        return Section.of(value, note);
    }

    private static List<String> completionsAt(PromptInfo p, String site) {
        return p.completions().stream().filter(s -> s.site().equals(site)).findFirst()
                .map(s -> s.items().stream().map(ReportData.Completion::text).toList()).orElse(List.of());
    }

    /** Trajectories of the original and the intervened model for the first few prompts, token by token. */
    public Section<List<Example>> examples(List<Component> top) {
        return examples(top, opt.gamma(), String.format(Locale.ROOT, "the top %d component%s by signed score scaled by gamma = %s",
                top.size(), top.size() == 1 ? "" : "s", RunReader.fmt(opt.gamma())));
    }

    /**
     * Trajectories of the original model and of the model with {@code top} scaled by {@code gamma},
     * token by token; {@code what} describes that intervention on the page.
     */
    public Section<List<Example>> examples(List<Component> top, double gamma, String what) {
        if (top.isEmpty() || opt.examples() == 0) {
            return Section.absent("no components or no examples requested");
        }
        JsonNode hp = run.config().path("hyperparameters");
        int budget = opt.maxNewTokens() > 0 ? opt.maxNewTokens() : hp.path("max_new_tokens").asInt(256);
        Set<Integer> eos = new HashSet<>();
        hp.path("eos_token_ids").forEach(e -> eos.add(e.asInt()));
        double temperature = hp.path("temperature").asDouble(1);
        long seed = hp.path("seed").asLong(0);
        Hooks steer = scaleHooks(top, gamma, model);
        List<Example> out = new ArrayList<>();
        String signalNote = null;
        Signal signal = null;
        try {
            signal = Signals.parse(run.header().signal(), model.pool());
        } catch (IpgException ex) {
            signalNote = "the run's signal is not available here, so no rewards are shown: " + ex.getMessage();
        }
        try {
            for (int e = 0; e < Math.min(opt.examples(), run.prompts().size()); e++) {
                PromptInfo p = run.prompts().get(e);
                String promptText = format.render(p.question(), tok);
                int[] prompt = format.encode(p.question(), tok);
                var sampling = new SamplingParams(temperature, hp.path("top_k").asInt(0), hp.path("top_p").asDouble(1),
                        Seeds.derive(seed, 7_000_000 + e));
                var gopt = new Generator.Options(sampling, budget, eos, List.of(), null);
                int[] before = new Generator(model).generate(List.of(prompt), gopt, Hooks.none(), null).getFirst().tokens();
                int[] after = new Generator(model).generate(List.of(prompt), gopt, scaleHooks(top, gamma, model), null)
                        .getFirst().tokens();
                List<Trajectory> ts = new ArrayList<>();
                ts.add(new Trajectory(concat(prompt, before), prompt.length));
                ts.add(new Trajectory(concat(prompt, after), prompt.length));
                List<float[]> lpOrig = reverse.logProbs(ts, Hooks.none(), Policy.softmax());
                List<float[]> lpSteer = reverse.logProbs(ts, steer, Policy.softmax());
                List<TokenTrajectory> tt = new ArrayList<>();
                int[][] gens = {before, after};
                String[] labels = {"original model", "intervened model"};
                for (int i = 0; i < 2; i++) {
                    String text = tok.decode(gens[i], true);
                    Sample sample = Sample.of(p.id(), promptText, gens[i], ids -> tok.decode(ids, true), p.gold());
                    Boolean correct = null;
                    if (p.gold() != null && !p.gold().isBlank()) {
                        correct = new Signal.Correct().reward(sample) == 1;
                    }
                    Double reward = null;
                    if (signal != null) {
                        try {
                            reward = signal.rewards(List.of(sample))[0];
                        } catch (IpgException ex) {
                            signalNote = "the run's signal could not score these completions: " + ex.getMessage();
                        }
                    }
                    tt.add(new TokenTrajectory(labels[i], correct, reward, gens[i], pieces(tok, gens[i], false), lpOrig.get(i),
                            lpSteer.get(i)));
                }
                out.add(new Example(p.index(), p.id(), p.question(), p.gold(), what, tt));
            }
        } catch (IpgException ex) {
            if (out.isEmpty()) {
                return Section.absent("could not run the examples: " + ex.getMessage());
            }
            signalNote = ex.getMessage();
        } finally {
            if (signal != null) {
                signal.close();
            }
        }
        String note = String.format(Locale.ROOT, "Each prompt is sampled twice with the run's sampling parameters and the same seed "
                + "(temperature %s, top-p %s, at most %d new tokens): once from the original model and once with %s at every "
                + "position. Token colour: log p(token) under the intervened model minus under the original model, both "
                + "teacher-forced with the plain softmax.", RunReader.fmt(temperature), RunReader.fmt(hp.path("top_p").asDouble(1)),
                budget, what);
        return Section.of(out, signalNote == null ? note : note + " Note: " + signalNote);
    }
}
