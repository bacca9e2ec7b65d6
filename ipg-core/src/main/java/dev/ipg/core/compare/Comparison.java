package dev.ipg.core.compare;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.AttributionRun;
import dev.ipg.core.attribution.Candidates;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.attribution.baselines.ActivationBaseline;
import dev.ipg.core.attribution.baselines.ControlVectorBaseline;
import dev.ipg.core.attribution.baselines.IntegratedGradients;
import dev.ipg.core.attribution.baselines.Method;
import dev.ipg.core.attribution.baselines.Offload;
import dev.ipg.core.attribution.baselines.PolicyGradientBaseline;
import dev.ipg.core.attribution.baselines.RandomBaseline;
import dev.ipg.core.attribution.baselines.RefinedRanking;
import dev.ipg.core.attribution.baselines.ReasoningNeuronBaseline;
import dev.ipg.core.attribution.baselines.Support;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.data.PromptFormat;
import dev.ipg.core.run.ComparisonFiles;
import dev.ipg.core.run.RunConfig;
import dev.ipg.core.run.RunFiles;
import dev.ipg.core.eval.Wilson;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.ModelFingerprint;
import dev.ipg.core.model.Site;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.attribution.baselines.SaeReasonScore;
import dev.ipg.core.sae.SaeFingerprint;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.Steering;
import dev.ipg.core.steer.SteeringVector;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tokenize.Tokenizer;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The paper's Table 1 for one model, made rigorous (ipg-method.md §6): for each selection
 * method, scores on the support split, then accuracy on the disjoint evaluation split with the
 * top components enhanced (gamma > 1) and suppressed (gamma = 0), beside the original model,
 * with Wilson intervals; random selection over several seeds (shown as the range of the seeds); and a gamma sweep
 * (accuracy and mean length against gamma). Every stage is a resumable run directory:
 *
 * <pre>
 *   OUT/methods/METHOD/                       scores (random: random-seedK/; completions shared by
 *                                             activation and reasoning-neuron in support-completions/)
 *   OUT/evals/original/                       the unmodified model
 *   OUT/evals/SELECTION/METHOD-gammaG/        e.g. evals/top-5pct-signed/ipg-gamma0/
 *   OUT/evals/control-vector-addS/            the control vector added with strength S
 *   OUT/comparison.json, comparison.csv, gamma_sweep.csv
 * </pre>
 *
 * Nothing about the outcome is assumed: every figure reported is read from the evaluations.
 */
public final class Comparison {

    /** How the control vector is applied. */
    public enum CvMode {
        /** Added with a strength (the paper's use, enhance only). */
        ADD,
        /** Its top components scaled like every other method's. */
        SCALE
    }

    /**
     * What to compare.
     *
     * @param site       the site
     * @param selection  the selection methods and the rule that picks their top components
     * @param conditions the gammas of enhance and suppress, and the sweep
     * @param estimators the options of the methods that score
     * @param seeding    the seeds of the methods that draw
     * @param splits     how the support and evaluation splits are used
     */
    public record Spec(Site site, Selection selection, Conditions conditions, Estimators estimators, Seeding seeding, Splits splits) {
        public Spec {
            for (Method m : conditions.sweepMethods()) {
                if (!selection.methods().contains(m)) {
                    throw new IpgException("--sweep-methods: " + m + " is not among --methods");
                }
            }
        }

        /** The same comparison at another site. */
        public Spec withSite(Site other) {
            return new Spec(other, selection, conditions, estimators, seeding, splits);
        }

        /** The same without the methods that need an SAE (ipg-sae, sae-r): for a site the SAE does not read. */
        public Spec withoutSaeMethods() {
            List<Method> ms = selection.methods().stream().filter(m -> m != Method.IPG_SAE && m != Method.SAE_R).toList();
            List<Method> sw = conditions.sweepMethods().stream().filter(ms::contains).toList();
            return new Spec(site, new Selection(ms, selection.top(), selection.rank()),
                    new Conditions(conditions.enhance(), conditions.suppress(), conditions.sweepGammas(), sw), estimators, seeding, splits);
        }
    }

    /**
     * What is selected and how.
     *
     * @param methods the selection methods
     * @param top     how many components are selected
     * @param rank    signed score (paper) or |score|
     */
    public record Selection(List<Method> methods, Top top, Rank rank) {
        public Selection {
            methods = List.copyOf(new LinkedHashSet<>(methods));
            if (methods.isEmpty()) {
                throw new IpgException("--methods names no method");
            }
        }
    }

    /**
     * The conditions each selection is evaluated under.
     *
     * @param enhance      gamma for enhance (> 1)
     * @param suppress     gamma for suppress (0 in the paper)
     * @param sweepGammas  gammas of the sweep (empty: no sweep)
     * @param sweepMethods methods swept (each must be a selection method)
     */
    public record Conditions(double enhance, double suppress, List<Double> sweepGammas, List<Method> sweepMethods) {
        public Conditions {
            sweepGammas = List.copyOf(sweepGammas);
            sweepMethods = List.copyOf(new LinkedHashSet<>(sweepMethods));
            for (double g : List.of(enhance, suppress)) {
                if (!Double.isFinite(g)) {
                    throw new IpgException("gamma and strength must be finite numbers, got " + g);
                }
            }
            for (double g : sweepGammas) {
                if (!Double.isFinite(g)) {
                    throw new IpgException("--sweep: gamma must be a finite number, got " + g);
                }
            }
        }
    }

    /**
     * The options of the methods that score.
     *
     * @param ipg            IPG hyperparameters (pg uses them with q = 1)
     * @param signalSpec     the outcome signal of IPG and pg
     * @param ig             integrated gradients options
     * @param reasoningWords words of the reasoning-neuron baseline (and of sae-r)
     * @param controlVector  how the control vector is built and applied
     */
    public record Estimators(IpgOptions ipg, String signalSpec, IntegratedGradients.Options ig, List<String> reasoningWords,
                             ControlVector controlVector) {
        public Estimators {
            reasoningWords = List.copyOf(reasoningWords);
        }
    }

    /**
     * The control vector baseline.
     *
     * @param variant  mean difference or PCA
     * @param mode     add the control vector, or scale its top components
     * @param strength strength of the added control vector
     */
    public record ControlVector(ControlVectorBaseline.Variant variant, CvMode mode, double strength) {
        public ControlVector {
            if (!Double.isFinite(strength)) {
                throw new IpgException("gamma and strength must be finite numbers, got " + strength);
            }
        }
    }

    /**
     * The seeds of the methods that draw.
     *
     * @param randomSeeds seeds of the random baseline (random-seedK uses {@code seed + K})
     * @param seed        master seed of the baselines that draw (random, control-vector letters)
     */
    public record Seeding(int randomSeeds, long seed) {
        public Seeding {
            if (randomSeeds < 1) {
                throw new IpgException("--random-seeds must be >= 1, got " + randomSeeds);
            }
        }
    }

    /**
     * How the two splits are used.
     *
     * @param format          prompt format (support and evaluation)
     * @param supportDecoding how the model's own support completions are generated (activation, reasoning-neuron)
     * @param supportLimit    support problems used (0: all)
     * @param evalDecoding    decoding of the evaluations (greedy in the paper)
     * @param evalLimit       evaluation problems used (0: all)
     */
    public record Splits(PromptFormat format, EvalRun.Decoding supportDecoding, int supportLimit, EvalRun.Decoding evalDecoding,
                         int evalLimit) {
    }

    /**
     * One method under one condition.
     *
     * @param method      the method ({@code original} for the unmodified model)
     * @param condition   original, enhance, suppress, or sweep
     * @param setting     gamma, or the strength of an added vector
     * @param additive    whether the setting is the strength of an added vector
     * @param steering    a description of the intervention
     * @param summary     the figures (for several random seeds: pooled counts, mean length and reflection)
     * @param seedAccuracies accuracy of each seed (one entry for other methods)
     */
    public record Row(String method, String condition, double setting, boolean additive, String steering, EvalRun.Summary summary,
                      List<Double> seedAccuracies) {
        public Row {
            seedAccuracies = List.copyOf(seedAccuracies);
        }

        /** "2" for gamma 2, "add 4" for a vector added with strength 4, empty for the original. */
        public String settingLabel() {
            return condition.equals("original") ? "" : (additive ? "add " : "") + num(setting);
        }

        /** Accuracy (pooled over seeds: with equal problems per seed, the mean of the seeds' accuracies). */
        public double accuracy() {
            return summary.accuracy();
        }

        /** The lower end of the row's spread: the Wilson interval's, or for several seeds the lowest seed's accuracy. */
        public double lower() {
            return seedAccuracies.size() > 1 ? seedAccuracies.stream().mapToDouble(Double::doubleValue).min().orElseThrow()
                    : summary.interval().lower();
        }

        /** The upper end: the Wilson interval's, or the highest seed's accuracy. */
        public double upper() {
            return seedAccuracies.size() > 1 ? seedAccuracies.stream().mapToDouble(Double::doubleValue).max().orElseThrow()
                    : summary.interval().upper();
        }
    }

    /**
     * The comparison: the original, each method's enhance and suppress rows, the sweep, and the
     * methods that could not score with the reason (they have no rows).
     */
    public record Result(Row original, List<Row> rows, List<Row> sweep, ObjectNode json, Map<String, String> unavailable) {

        public Result {
            unavailable = Map.copyOf(unavailable);
        }

        public Result(Row original, List<Row> rows, List<Row> sweep, ObjectNode json) {
            this(original, rows, sweep, json, Map.of());
        }

        /** A plain-text table of the comparison (what the command prints). */
        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "%-22s %-10s %8s  %-17s %8s %10s %8s%n", "method", "condition", "setting", "accuracy [95% CI]",
                    "delta", "mean tok", "reflect"));
            List<Row> all = new ArrayList<>();
            all.add(original);
            all.addAll(rows);
            for (Row r : all) {
                EvalRun.Summary s = r.summary();
                String name = r.method() + (r.seedAccuracies().size() > 1 ? " (" + r.seedAccuracies().size() + " seeds)" : "");
                String delta = r == original ? "" : String.format(Locale.ROOT, "%+.1f", 100 * (r.accuracy() - original.accuracy()));
                sb.append(String.format(Locale.ROOT, "%-22s %-10s %8s  %5.1f [%5.1f,%5.1f]%s %8s %10.1f %8.2f%n", name, r.condition(),
                        r.settingLabel(), 100 * s.accuracy(), 100 * r.lower(), 100 * r.upper(), r.seedAccuracies().size() > 1 ? "s" : " ",
                        delta, s.meanGeneratedTokens(), s.reflectionPerCompletion()));
            }
            new java.util.TreeMap<>(unavailable).forEach((m, why) -> sb.append(String.format(Locale.ROOT, "%-22s cannot score: %s%n", m, why)));
            if (all.stream().anyMatch(r -> r.seedAccuracies().size() > 1)) {
                sb.append("s: the range of the seeds' accuracies (a distribution over seeds, not pooled trials)\n");
            }
            if (!sweep.isEmpty()) {
                sb.append(String.format(Locale.ROOT, "%ngamma sweep%n%-22s %8s  %-17s %10s %8s%n", "method", "gamma", "accuracy [95% CI]",
                        "mean tok", "reflect"));
                for (Row r : sweep) {
                    EvalRun.Summary s = r.summary();
                    sb.append(String.format(Locale.ROOT, "%-22s %8s  %5.1f [%5.1f,%5.1f] %10.1f %8.2f%n", r.method(), num(r.setting()),
                            100 * s.accuracy(), 100 * s.interval().lower(), 100 * s.interval().upper(), s.meanGeneratedTokens(),
                            s.reflectionPerCompletion()));
                }
            }
            return sb.toString();
        }

        /**
         * One line per condition in which IPG was evaluated, saying from the measured accuracies
         * whether IPG beats every baseline: enhance wins with the highest accuracy, suppress with
         * the lowest (the selected components matter most); whether the 95 % intervals separate
         * the two is said too. Empty when IPG is not among the methods.
         */
        public List<String> verdict() {
            List<String> out = new ArrayList<>();
            for (String cond : List.of("enhance", "suppress")) {
                Row ipg = null;
                List<Row> others = new ArrayList<>();
                for (Row r : rows) {
                    if (r.condition().equals(cond)) {
                        if (r.method().equals("ipg")) {
                            ipg = r;
                        } else {
                            others.add(r);
                        }
                    }
                }
                if (ipg == null || others.isEmpty()) {
                    continue;
                }
                boolean up = cond.equals("enhance");
                Row best = others.getFirst();
                for (Row r : others) {
                    if (up ? r.accuracy() > best.accuracy() : r.accuracy() < best.accuracy()) {
                        best = r;
                    }
                }
                double d = 100 * (ipg.accuracy() - original.accuracy());
                double db = 100 * (best.accuracy() - original.accuracy());
                boolean wins = up ? ipg.accuracy() > best.accuracy() : ipg.accuracy() < best.accuracy();
                String head = String.format(Locale.ROOT, "%s (gamma %s): IPG %+.1f points; best baseline %s %+.1f points: ", cond,
                        ipg.settingLabel(), d, best.method(), db);
                if (wins) {
                    boolean separated = up ? ipg.lower() > best.upper() : ipg.upper() < best.lower();
                    out.add(head + "IPG beats every baseline" + (separated ? " (95 % intervals disjoint)."
                            : ", but the 95 % intervals overlap (not significant at this size; see the paired intervals of the protocol)."));
                } else {
                    List<String> ahead = new ArrayList<>();
                    for (Row r : others) {
                        if (up ? r.accuracy() >= ipg.accuracy() : r.accuracy() <= ipg.accuracy()) {
                            ahead.add(r.method());
                        }
                    }
                    out.add(head + "IPG does NOT beat " + String.join(", ", ahead) + ".");
                }
            }
            return out;
        }
    }

    private final Transformer model;
    private final Tokenizer tok;
    private final Dataset support;
    private final Dataset eval;
    private final Signal signal;
    private final Spec spec;
    private final Set<Integer> eos;
    private final Path out;
    private final ProgressListener progress;
    private final Sae sae;
    private final Map<Path, EvalRun.Summary> evals = new HashMap<>();
    private Offload offload = Offload.HERE;
    private int refine;

    public Comparison(Transformer model, Tokenizer tok, Dataset support, Dataset eval, Signal signal, Spec spec, Set<Integer> eos,
                      Path out, ProgressListener progress) {
        this(model, tok, support, eval, signal, spec, eos, out, progress, null);
    }

    /**
     * With {@code sae} (at the comparison's site), the methods ipg-sae (IPG over its latents) and
     * sae-r (ReasonScore) are available, and their selections of latents are applied through it.
     */
    public Comparison(Transformer model, Tokenizer tok, Dataset support, Dataset eval, Signal signal, Spec spec, Set<Integer> eos,
                      Path out, ProgressListener progress, Sae sae) {
        this.sae = sae;
        if (sae != null && !sae.site().equals(spec.site())) {
            throw new IpgException(sae.source() + ": the SAE reads " + sae.site() + ", the comparison is at " + spec.site());
        }
        if (sae == null && (spec.selection().methods().contains(Method.IPG_SAE) || spec.selection().methods().contains(Method.SAE_R))) {
            throw new IpgException("--methods ipg-sae and sae-r need the SAE (--sae DIR)");
        }
        this.model = model;
        this.tok = tok;
        this.support = support;
        this.eval = eval;
        this.signal = signal;
        this.spec = spec;
        this.eos = Set.copyOf(eos);
        this.out = out;
        this.progress = progress;
        spec.site().checkIn(model.config());
        Dataset.requireDisjoint(prefix(support, spec.splits().supportLimit()), prefix(eval, spec.splits().evalLimit()));
    }

    /** What is compared. */
    public Spec spec() {
        return spec;
    }

    /** The first {@code limit} problems (0: all) as a dataset of their own. */
    static Dataset prefix(Dataset d, int limit) {
        return d.first(limit);
    }

    private static String num(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** The directory of a method's scores (random: of seed k). */
    Path methodDir(Method m, int seedIndex) {
        return out.resolve("methods").resolve(m == Method.RANDOM ? "random-seed" + seedIndex : m.cliName());
    }

    private String selectionKey() {
        String t = spec.selection().top() instanceof Top.Percent p ? num(p.percent()) + "pct" : "k" + spec.selection().top();
        return "top-" + t + "-" + spec.selection().rank().cliName();
    }

    private long randomSeed(int k) {
        return spec.seeding().seed() + k;
    }

    /**
     * Computes (or finds) method {@code m}'s scores at the site on the first {@code limit}
     * problems of {@code data} into {@code dir}; {@code completions} holds the model's own support
     * completions (activation, reasoning-neuron), {@code randomSeed} the seed of a random selection.
     */
    void score(Method m, Dataset data, int limit, long randomSeed, Path dir, Path completions) {
        Support sup = new Support(model, tok, data, limit, spec.splits().format(), eos, progress, offload);
        switch (m) {
            case IPG -> {
                if (refine == 0) {
                    ipg(spec.estimators().ipg(), data, limit, dir);
                } else {
                    Path first = dir.resolveSibling(dir.getFileName() + "-stage1");
                    Path second = dir.resolveSibling(dir.getFileName() + "-stage2");
                    ipg(spec.estimators().ipg(), data, limit, first);
                    Candidates c = Candidates.parse(first + ":top=" + refine, List.of(spec.site()));
                    ipg(spec.estimators().ipg().withPath(spec.estimators().ipg().alphaMin(), c), data, limit, second);
                    RefinedRanking.write(first, second, spec.site(), c.of(spec.site()), refine, dir);
                }
            }
            case PG -> PolicyGradientBaseline.run(sup, spec.site(), spec.estimators().ipg(), signal, spec.estimators().signalSpec(), dir);
            case RANDOM -> RandomBaseline.run(model, spec.site(), randomSeed, dir);
            case ACTIVATION -> ActivationBaseline.run(sup, spec.site(), spec.splits().supportDecoding(), completions, dir);
            case REASONING_NEURON -> ReasoningNeuronBaseline.run(sup, spec.site(), spec.splits().supportDecoding(), spec.estimators().reasoningWords(),
                    completions, dir);
            case CONTROL_VECTOR -> ControlVectorBaseline.run(sup, spec.site(), spec.estimators().controlVector().variant(), spec.seeding().seed(), dir);
            case IG -> IntegratedGradients.run(sup, spec.site(), spec.estimators().ig(), dir);
            case IPG_SAE -> attribute(new AttributionRun(model, tok, data, signal, new AttributionRun.Spec(List.of(spec.site()),
                    spec.estimators().ipg(), spec.estimators().signalSpec(), spec.splits().format(), 50), eos, dir, progress, sae), limit);
            case SAE_R -> SaeReasonScore.run(sup, sae, spec.splits().supportDecoding(), spec.estimators().reasoningWords(), 1, 2, 0.7, completions, dir);
        }
    }

    /** Runs (or resumes) an attribution with its prompts computed where {@link #offload} says. */
    private void attribute(AttributionRun run, int limit) {
        run.run(limit, offload.attribution(run, limit));
    }

    /**
     * Computes the items of the runs (IPG's and pg's prompts, the evaluations' and the model's own
     * completions' blocks) with {@code o}, e.g. on a cluster; the results are the same.
     */
    public Comparison offload(Offload o) {
        this.offload = Objects.requireNonNull(o, "offload");
        return this;
    }

    private void ipg(IpgOptions o, Dataset data, int limit, Path dir) {
        attribute(new AttributionRun(model, tok, data, signal, new AttributionRun.Spec(List.of(spec.site()), o, spec.estimators().signalSpec(),
                spec.splits().format(), 50), eos, dir, progress), limit);
    }

    /**
     * Two-stage IPG ({@link RefinedRanking}): IPG's scores become the ranking of a first run
     * (OUT/methods/ipg-stage1) refined by a second in which only its top {@code k} move along the
     * path (ipg-stage2); 0 (the default) is the single run.
     */
    public Comparison refine(int k) {
        checkRefine(k, spec.selection().rank(), spec.site(), model);
        this.refine = k;
        return this;
    }

    /** Refuses a {@code --refine k} that cannot apply at {@code site}: negative, with abs ranking, or not below its width. */
    static void checkRefine(int k, Rank rank, Site site, Transformer model) {
        if (k < 0) {
            throw new IpgException("--refine must be >= 0 (0 = off), got " + k);
        }
        if (k > 0 && rank != Rank.SIGNED) {
            throw new IpgException("--refine ranks by signed score; it cannot be combined with --rank " + rank.cliName());
        }
        int w = site.width(model.config());
        if (k >= w) {
            throw new IpgException("--refine " + k + " must be below the " + w + " components of " + site);
        }
    }

    /** Runs (or resumes) everything and writes the comparison files. */
    public Result run() {
        Support sup = new Support(model, tok, support, spec.splits().supportLimit(), spec.splits().format(), eos, progress);
        // 1. scores on the support split; a baseline that cannot score is reported as such, the others go on
        Map<String, String> unavailable = new LinkedHashMap<>();
        for (Method m : spec.selection().methods()) {
            int seeds = m == Method.RANDOM ? spec.seeding().randomSeeds() : 1;
            for (int k = 0; k < seeds; k++) {
                Path dir = methodDir(m, k);
                progress.message(m == Method.RANDOM ? "random scores (seed " + randomSeed(k) + ") in " + dir
                        : "scores of " + m + " on " + sup.used() + " support problems in " + dir);
                try {
                    score(m, support, spec.splits().supportLimit(), randomSeed(k), dir, out.resolve("methods").resolve("support-completions"));
                } catch (IpgException e) {
                    if (m == Method.IPG) {
                        throw e;
                    }
                    progress.message("warning: " + m + " cannot score, the comparison goes on without it: " + e.getMessage());
                    unavailable.put(m.cliName(), e.getMessage());
                }
            }
        }
        // 2. evaluations
        EvalRun.Summary plain = evaluate(out.resolve("evals").resolve("original"), Steering.none());
        Row original = new Row("original", "original", 1, false, "none", plain, List.of(plain.accuracy()));
        List<Row> rows = new ArrayList<>();
        for (Method m : spec.selection().methods()) {
            if (unavailable.containsKey(m.cliName())) {
                continue;
            }
            if (m == Method.CONTROL_VECTOR && spec.estimators().controlVector().mode() == CvMode.ADD) {
                SteeringVector v = SteeringVector.load(methodDir(m, 0));
                Steering add = new Steering.Add(v, spec.estimators().controlVector().strength(), methodDir(m, 0).resolve(SteeringVector.NAME).toString());
                EvalRun.Summary s = evaluate(out.resolve("evals").resolve("control-vector-add" + num(spec.estimators().controlVector().strength())), add);
                rows.add(new Row(m.cliName(), "enhance", spec.estimators().controlVector().strength(), true, add.describe(), s, List.of(s.accuracy())));
                continue;
            }
            rows.add(scaled(m, "enhance", spec.conditions().enhance(), original));
            rows.add(scaled(m, "suppress", spec.conditions().suppress(), original));
        }
        List<Row> sweep = new ArrayList<>();
        for (Method m : spec.conditions().sweepMethods()) {
            if (unavailable.containsKey(m.cliName())) {
                continue;
            }
            for (double g : spec.conditions().sweepGammas()) {
                sweep.add(scaled(m, "sweep", g, original));
            }
        }
        List<String> verdict = new Result(original, rows, sweep, null, unavailable).verdict();
        ComparisonFiles.File file = new ComparisonFiles.File(RunFiles.version(), config(), row(original, original),
                rows.stream().map(r -> row(r, original)).toList(), sweep.stream().map(r -> row(r, original)).toList(), unavailable, verdict);
        ObjectNode json = (ObjectNode) RunFiles.tree(file);
        Json.write(out.resolve(ComparisonFiles.JSON), json);
        writeCsv(out.resolve("comparison.csv"), original, rows);
        writeSweepCsv(out.resolve("gamma_sweep.csv"), sweep);
        return new Result(original, rows, sweep, json, unavailable);
    }

    /** Method {@code m}'s top components scaled by {@code gamma} (gamma 1 is the original model). */
    private Row scaled(Method m, String condition, double gamma, Row original) {
        if (gamma == 1) {
            return new Row(m.cliName(), condition, gamma, false, "gamma 1 leaves the model unchanged", original.summary(), original.seedAccuracies());
        }
        int seeds = m == Method.RANDOM ? spec.seeding().randomSeeds() : 1;
        List<EvalRun.Summary> per = new ArrayList<>();
        String describe = null;
        for (int k = 0; k < seeds; k++) {
            ScoresFile sf = ScoresFile.load(methodDir(m, k), spec.site());
            if (sf.isConstant()) {
                progress.message("warning: every score in " + sf.file() + " is " + sf.scores()[0] + "; its selection is just the lowest "
                        + "component indices (is the signal constant on the support set?)");
            }
            Steering s = Steering.scale(sf, spec.selection().top(), spec.selection().rank(), gamma, sae);
            describe = describe == null ? s.describe() : describe;
            String name = (m == Method.RANDOM ? "random-seed" + k : m.cliName()) + "-gamma" + num(gamma);
            per.add(evaluate(out.resolve("evals").resolve(selectionKey()).resolve(name), s));
        }
        List<Double> accs = per.stream().map(EvalRun.Summary::accuracy).toList();
        return new Row(m.cliName(), condition, gamma, false, seeds > 1 ? "random selections of " + seeds + " seeds, gamma " + num(gamma) : describe,
                pool(per), accs);
    }

    /** Summaries of several seeds as one: counts pooled, lengths and reflection averaged over all completions. */
    static EvalRun.Summary pool(List<EvalRun.Summary> per) {
        if (per.size() == 1) {
            return per.getFirst();
        }
        int n = 0;
        int correct = 0;
        int answered = 0;
        double tokens = 0;
        double refl = 0;
        Map<String, Integer> finishes = new java.util.TreeMap<>();
        for (EvalRun.Summary s : per) {
            n += s.problems();
            correct += s.correct();
            answered += s.answered();
            tokens += s.meanGeneratedTokens() * s.problems();
            refl += s.reflectionPerCompletion() * s.problems();
            s.finishes().forEach((k, v) -> finishes.merge(k, v, Integer::sum));
        }
        return new EvalRun.Summary(n, correct, Wilson.of(correct, n), n == 0 ? 0 : tokens / n, n == 0 ? 0 : refl / n,
                tokens == 0 ? 0 : 1000 * refl / tokens, answered, finishes);
    }

    private EvalRun.Summary evaluate(Path dir, Steering steering) {
        EvalRun.Summary done = evals.get(dir);
        if (done != null) {
            return done;
        }
        progress.message("evaluating " + steering.describe() + " on " + prefix(eval, spec.splits().evalLimit()).size() + " problems in " + dir);
        var es = new EvalRun.Spec(spec.splits().format(), spec.splits().evalDecoding(), steering, Signal.Reflection.DEFAULT_WORDS);
        EvalRun run = new EvalRun(model, tok, eval, es, eos, dir, progress);
        EvalRun.Summary s = run.run(spec.splits().evalLimit(), offload.eval(run, spec.splits().evalLimit())).summary();
        evals.put(dir, s);
        return s;
    }

    /** What is compared, as comparison.json records it. */
    private ComparisonFiles.Config config() {
        return new ComparisonFiles.Config(RunConfig.model(model), split(support, spec.splits().supportLimit()), split(eval, spec.splits().evalLimit()), true,
                spec.site().toString(), sae == null ? null : SaeFingerprint.json(sae), spec.selection().top().toString(), spec.selection().rank().cliName(),
                spec.conditions().enhance(), spec.conditions().suppress(), spec.selection().methods().stream().map(Method::cliName).toList(), spec.seeding().randomSeeds(), spec.seeding().seed(),
                spec.estimators().signalSpec(), spec.estimators().controlVector().mode() == CvMode.ADD ? "add, strength " + num(spec.estimators().controlVector().strength()) : "scale top components",
                spec.splits().supportDecoding().json(), spec.splits().evalDecoding().json());
    }

    /** The first {@code limit} problems of {@code d} as recorded. */
    static ComparisonFiles.Split split(Dataset d, int limit) {
        return new ComparisonFiles.Split(d.name(), ModelFingerprint.sha256(d.source()), prefix(d, limit).size());
    }

    private static ComparisonFiles.Row row(Row r, Row original) {
        return new ComparisonFiles.Row(r.method(), r.condition(), r.additive() ? null : r.setting(), r.additive() ? r.setting() : null,
                r.steering(), r.summary().record(), r.accuracy() - original.accuracy(), r.seedAccuracies());
    }

    private static String csvRow(Row r, Row original, boolean withCondition) {
        EvalRun.Summary s = r.summary();
        return String.format(Locale.ROOT, "%s,%s%s,%.6f,%.6f,%.6f,%d,%d,%s%.3f,%.4f,%d%n", r.method(),
                withCondition ? r.condition() + "," + (r.condition().equals("original") ? "none" : r.additive() ? "add" : "scale") + "," : "",
                num(r.setting()), s.accuracy(), s.interval().lower(), s.interval().upper(),
                s.correct(), s.problems(), withCondition ? String.format(Locale.ROOT, "%.6f,", r.accuracy() - original.accuracy()) : "",
                s.meanGeneratedTokens(), s.reflectionPerCompletion(), r.seedAccuracies().size());
    }

    private static void writeCsv(Path file, Row original, List<Row> rows) {
        StringBuilder sb = new StringBuilder("method,condition,intervention,setting,accuracy,wilson_lower,wilson_upper,correct,problems,"
                + "delta_vs_original,mean_generated_tokens,reflection_words_per_completion,seeds\n");
        sb.append(csvRow(original, original, true));
        rows.forEach(r -> sb.append(csvRow(r, original, true)));
        write(file, sb.toString());
    }

    private static void writeSweepCsv(Path file, List<Row> sweep) {
        StringBuilder sb = new StringBuilder("method,gamma,accuracy,wilson_lower,wilson_upper,correct,problems,mean_generated_tokens,"
                + "reflection_words_per_completion,seeds\n");
        sweep.forEach(r -> sb.append(csvRow(r, null, false)));
        write(file, sb.toString());
    }

    private static void write(Path file, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(b)));
    }
}
