package dev.ipg.core.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.run.ProgressListener;
import dev.ipg.core.attribution.baselines.IntegratedGradients;
import dev.ipg.core.attribution.baselines.Method;
import dev.ipg.core.attribution.baselines.Offload;
import dev.ipg.core.attribution.baselines.Support;
import dev.ipg.core.data.Dataset;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.run.ProtocolFiles;
import dev.ipg.core.run.RunConfig;
import dev.ipg.core.run.RunFiles;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.Json;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Intervention;
import dev.ipg.core.model.Site;
import dev.ipg.core.sae.Sae;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.signal.Signal;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.Steering;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tokenize.Tokenizer;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The localization protocol: does a method's ranking find the components the model's behaviour
 * depends on? For every site of a layer sweep, on top of that site's {@link Comparison}:
 *
 * <ol>
 *   <li><b>curves over k</b>: accuracy on the evaluation split with each method's top k
 *       components suppressed (and enhanced), k = 1, 2, 4, ... up to half the site's width; each
 *       curve's normalised area ({@link CurveArea}: the mean accuracy change in points over a
 *       log2 k axis); every method against IPG at each k and for the area as a paired bootstrap
 *       interval over the evaluation problems ({@link PairedBootstrap}), and McNemar's exact test
 *       per k. Random selection is a distribution over its seeds: its per-problem outcome is the
 *       mean over seeds (the expected outcome of a random selection), and its spread across
 *       seeds (min, max) is shown beside it; seeds are never pooled as independent trials.</li>
 *   <li><b>ground truth by direct ablation</b> on a dev split that is neither support nor
 *       evaluation: each component alone (or, at a site wider than a limit, each of the union of
 *       the methods' top candidates) is scaled by the suppress gamma and the drop in the
 *       teacher-forced log-probability of the gold solution is measured (mean over dev problems,
 *       in nats); each method's precision@k ({@link PrecisionAtK}) and Spearman correlation
 *       ({@link Spearman}) against it.</li>
 *   <li><b>stability</b>: every method is scored again on each half of the support split; the
 *       Dice coefficient ({@link Dice}) of the two halves' top-k sets.</li>
 *   <li><b>the verdict</b> per site, from the paired intervals: IPG wins against a method where
 *       the interval of the area difference excludes zero in IPG's favour, loses where it
 *       excludes zero the other way, and ties otherwise.</li>
 * </ol>
 *
 * <pre>
 *   OUT/SITE/...            the site's comparison (OUT itself when there is one site), with
 *                           evals/top-kK-RANK/METHOD-gammaG/ for every curve point,
 *                           ground-truth.json and stability/half-a|half-b/METHOD/
 *   OUT/protocol.json       every site; OUT/curves.csv, ground_truth.csv, stability.csv
 * </pre>
 */
public final class Protocol {

    /** The JSON file name. */
    public static final String JSON = ProtocolFiles.JSON;

    /**
     * What the protocol adds to the comparison.
     *
     * @param sites          the sites of the sweep (at least one)
     * @param ks             curve sizes (empty: 1, 2, 4, ... up to half of each site's width)
     * @param enhanceCurve   whether the enhance condition gets a curve too
     * @param bootstrap      bootstrap resamples
     * @param bootstrapSeed  seed of the resampling
     * @param stability      whether each method is scored again on the two support halves
     * @param groundTruthAll sites at most this wide have every component ablated; wider ones the union of every informed
     *                       (not random) method's top 2k candidates
     * @param devLimit       dev problems used (0: all)
     */
    public record Spec(List<Site> sites, List<Integer> ks, boolean enhanceCurve, int bootstrap, long bootstrapSeed, boolean stability,
                       int groundTruthAll, int devLimit) {
        public Spec {
            sites = List.copyOf(new LinkedHashSet<>(sites));
            ks = List.copyOf(new TreeSet<>(ks));
            if (sites.isEmpty()) {
                throw new IpgException("--site names no site");
            }
            for (int k : ks) {
                if (k < 1) {
                    throw new IpgException("--curve-k: sizes must be >= 1, got " + k);
                }
            }
            if (bootstrap < 100) {
                throw new IpgException("--bootstrap must be >= 100, got " + bootstrap);
            }
        }

        /** The curve sizes at a site of {@code width} components. */
        public int[] sizes(int width) {
            List<Integer> out = new ArrayList<>();
            if (ks.isEmpty()) {
                for (int k = 1; k <= Math.max(1, width / 2); k *= 2) {
                    out.add(k);
                }
            } else {
                for (int k : ks) {
                    if (k <= width) {
                        out.add(k);
                    }
                }
            }
            if (out.isEmpty()) {
                throw new IpgException("--curve-k: no size fits a site of " + width + " components");
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    /**
     * One method's curve under one condition.
     *
     * @param method   the method
     * @param seeds    selections averaged (random: its seeds; others 1)
     * @param delta    accuracy change vs the original at each k, in points (random: mean over seeds)
     * @param seedMin  random: the lowest seed's change at each k (others: = delta)
     * @param seedMax  random: the highest
     * @param area     the normalised area of {@code delta}
     * @param areaMin  random: the lowest seed's area
     * @param areaMax  random: the highest
     * @param vsIpg    method - IPG at each k, points, paired over problems (null for IPG)
     * @param mcnemar  McNemar's p against IPG at each k (NaN for IPG and random)
     * @param areaVsIpg method - IPG area, paired over problems (null for IPG)
     */
    public record Curve(String method, int seeds, double[] delta, double[] seedMin, double[] seedMax, double area, double areaMin,
                        double areaMax, PairedBootstrap.Interval[] vsIpg, double[] mcnemar, PairedBootstrap.Interval areaVsIpg) {
    }

    /** The curves of one condition: gamma 0 (suppress) or the enhance gamma. */
    public record Condition(String name, double gamma, List<Curve> curves) {
    }

    /**
     * How well a method's ranking matches the ground truth.
     *
     * @param method    the method
     * @param precision precision@k at the headline k (random: mean over seeds)
     * @param spearman  rank correlation over the candidates (random: mean over seeds)
     * @param min       random: lowest seed's precision (others: = precision)
     * @param max       random: highest
     */
    public record Match(String method, double precision, double spearman, double min, double max) {
    }

    /**
     * The ground truth of a site.
     *
     * @param problems   dev problems
     * @param all        whether every component was ablated (else the union of candidates)
     * @param candidates the ablated components
     * @param drops      mean drop of the gold solution's log-probability when each is ablated alone (nats)
     * @param k          the headline k of precision@k
     * @param truthTop   the k costliest candidates, costliest first
     * @param matches    one per method
     */
    public record GroundTruth(int problems, boolean all, int[] candidates, double[] drops, int k, int[] truthTop, List<Match> matches) {
    }

    /**
     * Dice of a method's top-k sets from the two support halves at each curve k.
     *
     * @param method   the method
     * @param dice     at each curve k (null when the method cannot score on a support half)
     * @param headline at the headline k
     */
    public record Stability(String method, double[] dice, double headline) {
    }

    /**
     * One site's protocol; {@code plantedTruth} and {@code plantedScores} are null unless a
     * planted ground truth was given for this site ({@link #plantedTruth(PlantedTruth)}).
     */
    public record SiteResult(Site site, int width, int[] ks, int headlineK, double original, int evalProblems, Comparison.Result table,
                             List<Condition> conditions, GroundTruth groundTruth, String groundTruthNote, List<Stability> stability,
                             int halfSize, List<String> verdict, PlantedTruth plantedTruth, List<PlantedTruth.Score> plantedScores) {
    }

    /** Every site. */
    public record Result(List<SiteResult> sites, ObjectNode json) {

        /** The plain-text account of every site (what the command prints). */
        public String text() {
            StringBuilder sb = new StringBuilder();
            for (SiteResult s : sites) {
                Protocol.text(sb, s);
            }
            sb.append(String.format(Locale.ROOT, "%nverdict per site%n"));
            for (SiteResult s : sites) {
                for (String v : s.verdict()) {
                    sb.append("  ").append(v).append('\n');
                }
            }
            return sb.toString();
        }

        /** Every site's verdict lines. */
        public List<String> verdict() {
            List<String> out = new ArrayList<>();
            sites.forEach(s -> out.addAll(s.verdict()));
            return out;
        }
    }

    private final Sae sae;
    private final Transformer model;
    private final Tokenizer tok;
    private final Dataset support;
    private final Dataset eval;
    private final Dataset dev;
    private final Signal signal;
    private final Comparison.Spec base;
    private final Spec spec;
    private final Set<Integer> eos;
    private final Path out;
    private final ProgressListener progress;
    private PlantedTruth planted;
    private Offload offload = Offload.HERE;
    private int refine;

    /**
     * A protocol over {@code spec.sites()}; {@code dev} may be null (no ground truth), and no split
     * may share a problem with another or with any of {@code exclude} (e.g. the model's training
     * data).
     */
    public Protocol(Transformer model, Tokenizer tok, Dataset support, Dataset eval, Dataset dev, List<Dataset> exclude, Signal signal,
                    Comparison.Spec base, Spec spec, Set<Integer> eos, Path out, ProgressListener progress) {
        this(model, tok, support, eval, dev, exclude, signal, base, spec, eos, out, progress, null);
    }

    /**
     * With {@code sae} (attached at one of the sites compared), the methods ipg-sae and sae-r are
     * evaluated in the comparison's table at that site (the other sites leave them out), and their
     * curves scale their top k latents through the SAE, paired with IPG's on the same problems; the
     * ground truth and the stability check, which rank the site's own components, leave them out.
     */
    public Protocol(Transformer model, Tokenizer tok, Dataset support, Dataset eval, Dataset dev, List<Dataset> exclude, Signal signal,
                    Comparison.Spec base, Spec spec, Set<Integer> eos, Path out, ProgressListener progress, Sae sae) {
        this.sae = sae;
        this.model = model;
        this.tok = tok;
        this.support = support;
        this.eval = eval;
        this.dev = dev == null ? null : Comparison.prefix(dev, spec.devLimit());
        this.signal = signal;
        this.base = base;
        this.spec = spec;
        this.eos = Set.copyOf(eos);
        this.out = out;
        this.progress = progress;
        for (Site s : spec.sites()) {
            s.checkIn(model.config());
        }
        Dataset sup = Comparison.prefix(support, base.splits().supportLimit());
        Dataset ev = Comparison.prefix(eval, base.splits().evalLimit());
        Dataset.requireDisjoint(sup, ev);
        if (this.dev != null) {
            if (this.dev.size() == 0) {
                throw new IpgException("the dev split " + dev.name() + " has no problems");
            }
            Dataset.requireDisjoint(this.dev, sup);
            Dataset.requireDisjoint(this.dev, ev);
        }
        for (Dataset x : exclude) {
            for (Dataset d : this.dev == null ? List.of(sup, ev) : List.of(sup, ev, this.dev)) {
                Dataset.requireDisjoint(d, x);
            }
        }
    }

    /**
     * Computes the items of every run (IPG's and pg's prompts, the evaluations' and the model's
     * own completions' blocks) with {@code o}, e.g. on a cluster; the results are the same.
     */
    public Protocol offload(Offload o) {
        this.offload = Objects.requireNonNull(o, "offload");
        return this;
    }

    /**
     * Adds a planted ground truth (a testbed's {@code planted.json}): at its site every ranked
     * method's precision and recall against the planted set are reported, at k = its size and at
     * each curve k, beside the ablation ground truth. Its site must be one of the sweep's.
     */
    public Protocol plantedTruth(PlantedTruth truth) {
        if (truth != null) {
            if (!spec.sites().contains(truth.site())) {
                throw new IpgException(truth.source() + ": the planted site " + truth.site() + " is not among the compared sites "
                        + spec.sites());
            }
            truth.checkWidth(truth.site().width(model.config()));
        }
        this.planted = truth;
        return this;
    }

    /** Two-stage IPG at every site ({@link Comparison#refine(int)}); 0 (the default): off. */
    public Protocol refine(int k) {
        for (Site s : spec.sites()) {
            Comparison.checkRefine(k, base.selection().rank(), s, model);
        }
        this.refine = k;
        return this;
    }

    /** The directory of a site: OUT itself when the sweep has one site. */
    Path siteDir(Site s) {
        return spec.sites().size() == 1 ? out : out.resolve(s.toString());
    }

    /** Runs (or resumes) every site and writes the protocol files. */
    public Result run() {
        List<SiteResult> sites = new ArrayList<>();
        for (Site s : spec.sites()) {
            sites.add(site(s));
        }
        var config = new ProtocolFiles.Config(RunConfig.model(model), Comparison.split(support, base.splits().supportLimit()),
                Comparison.split(eval, base.splits().evalLimit()), dev == null ? null : Comparison.split(dev, 0),
                base.selection().rank().cliName(), base.selection().top().toString(), base.conditions().suppress(),
                base.conditions().enhance(), base.seeding().randomSeeds(), spec.bootstrap(), spec.bootstrapSeed(),
                "trapezoid over log2 k divided by log2(k_max) - log2(k_min): the mean accuracy change in points across the curve",
                "mean drop of the teacher-forced log-probability of the gold solution (nats) when a component alone is"
                        + " scaled by the suppress gamma, on the dev split", base.splits().evalDecoding().json());
        // one file for the sweep: the report finds it from a site's directory
        var file = new ProtocolFiles.File(RunFiles.version(), config, sites.stream().map(Protocol::siteEntry).toList(),
                sites.stream().flatMap(s -> s.verdict().stream()).toList());
        ObjectNode j = (ObjectNode) RunFiles.tree(file);
        Json.write(out.resolve(JSON), j);
        write(out.resolve("curves.csv"), curvesCsv(sites));
        write(out.resolve("ground_truth.csv"), groundTruthCsv(sites));
        write(out.resolve("stability.csv"), stabilityCsv(sites));
        return new Result(sites, j);
    }

    // ------------------------------------------------------------------ one site

    private SiteResult site(Site site) {
        Path dir = siteDir(site);
        Sae here = sae != null && sae.site().equals(site) ? sae : null;
        Comparison.Spec cs = here != null ? base.withSite(site) : base.withSite(site).withoutSaeMethods();
        Comparison cmp = new Comparison(model, tok, support, eval, signal, cs, eos, dir, progress, here).offload(offload).refine(refine);
        progress.message("site " + site + ": comparison in " + dir);
        Comparison.Result table = cmp.run();
        int width = site.width(model.config());
        int[] ks = spec.sizes(width);
        int headline = base.selection().top().size(width);
        // methods with a ranking: every scored one but an added control vector
        List<Method> ranked = new ArrayList<>();
        for (Method m : base.selection().methods()) {
            if (!table.unavailable().containsKey(m.cliName()) && !(m == Method.CONTROL_VECTOR && base.estimators().controlVector().mode() == Comparison.CvMode.ADD)
                    && m != Method.IPG_SAE && m != Method.SAE_R) {
                ranked.add(m);
            }
        }
        // the curves also run the SAE methods' top k latents (through the SAE), paired with IPG on the same problems
        List<Method> curved = new ArrayList<>(ranked);
        for (Method m : List.of(Method.IPG_SAE, Method.SAE_R)) {
            if (here != null && base.selection().methods().contains(m) && !table.unavailable().containsKey(m.cliName())) {
                curved.add(m);
            }
        }
        boolean[] orig = outcomes(dir.resolve("evals").resolve("original"), Steering.none());
        double original = mean(orig);
        List<Condition> conditions = new ArrayList<>();
        conditions.add(condition(cmp, dir, curved, ks, "suppress", base.conditions().suppress(), orig, here));
        if (spec.enhanceCurve() && base.conditions().enhance() != 1) {
            conditions.add(condition(cmp, dir, curved, ks, "enhance", base.conditions().enhance(), orig, here));
        }
        GroundTruth gt = null;
        String gtNote;
        if (dev == null) {
            gtNote = "no dev split given (--dev): no ground truth";
        } else {
            gt = groundTruth(cmp, dir, site, width, ranked, headline);
            gtNote = null;
        }
        List<Stability> stab = new ArrayList<>();
        int half = Comparison.prefix(support, base.splits().supportLimit()).size() / 2;
        if (spec.stability()) {
            if (half < 1) {
                throw new IpgException("stability needs at least 2 support problems");
            }
            stab = stability(cmp, dir, ranked, ks, headline, half);
        }
        List<String> verdict = verdict(site, conditions, gt, stab, headline, table);
        PlantedTruth pt = planted != null && planted.site().equals(site) ? planted : null;
        List<PlantedTruth.Score> ps = null;
        if (pt != null) {
            ps = plantedScores(cmp, site, ranked, ks, pt);
            verdict = new ArrayList<>(verdict);
            verdict.add(plantedVerdict(site, pt, ps));
        }
        return new SiteResult(site, width, ks, headline, original, orig.length, table, conditions, gt, gtNote, stab, half, verdict,
                pt, ps);
    }

    /** Every ranked method's match with the planted set (random: over its seeds). */
    private List<PlantedTruth.Score> plantedScores(Comparison cmp, Site site, List<Method> ranked, int[] ks, PlantedTruth pt) {
        List<PlantedTruth.Score> out = new ArrayList<>();
        for (Method m : ranked) {
            int seeds = m == Method.RANDOM ? base.seeding().randomSeeds() : 1;
            List<double[]> keys = new ArrayList<>();
            for (int s = 0; s < seeds; s++) {
                float[] sc = ScoresFile.load(cmp.methodDir(m, s), site).scores();
                double[] key = new double[sc.length];
                for (int i = 0; i < sc.length; i++) {
                    key[i] = base.selection().rank() == Rank.ABS ? Math.abs(sc[i]) : sc[i];
                }
                keys.add(key);
            }
            out.add(pt.score(m.cliName(), keys, ks));
        }
        return out;
    }

    /** The verdict line of the planted ground truth: IPG's precision at |planted| and average precision against the best other. */
    static String plantedVerdict(Site site, PlantedTruth pt, List<PlantedTruth.Score> ps) {
        PlantedTruth.Score ipg = ps.stream().filter(x -> x.method().equals("ipg")).findFirst().orElse(null);
        PlantedTruth.Score best = null;
        for (PlantedTruth.Score x : ps) {
            if (!x.method().equals("ipg") && (best == null || x.averagePrecision() > best.averagePrecision())) {
                best = x;
            }
        }
        if (ipg == null) {
            return site + " planted ground truth: IPG not compared";
        }
        String rel = best == null ? "" : ipg.averagePrecision() > best.averagePrecision() ? "; best of all methods"
                : ipg.averagePrecision() == best.averagePrecision() ? "; tied with " + best.method() : "; below " + best.method();
        return String.format(Locale.ROOT, "%s planted ground truth (%d components): IPG precision = recall @%d %.2f, average precision %.3f%s%s",
                site, pt.indices().length, pt.indices().length, ipg.precision(), ipg.averagePrecision(), rel,
                best == null ? "" : String.format(Locale.ROOT, " (%s %.2f, AP %.3f)", best.method(), best.precision(), best.averagePrecision()));
    }

    private Condition condition(Comparison cmp, Path dir, List<Method> ranked, int[] ks, String name, double gamma, boolean[] orig, Sae here) {
        int n = orig.length;
        double[] w = CurveArea.weights(ks);
        // per method: per-problem outcome at each k (random: mean over seeds), and per-seed accuracies
        List<double[][]> outcome = new ArrayList<>();
        List<boolean[][]> binary = new ArrayList<>();
        List<double[][]> seedAcc = new ArrayList<>();
        for (Method m : ranked) {
            int seeds = m == Method.RANDOM ? base.seeding().randomSeeds() : 1;
            double[][] o = new double[ks.length][n];
            boolean[][] b = new boolean[ks.length][];
            double[][] sa = new double[seeds][ks.length];
            for (int ki = 0; ki < ks.length; ki++) {
                for (int s = 0; s < seeds; s++) {
                    ScoresFile sf = ScoresFile.load(cmp.methodDir(m, s), cmp.spec().site());
                    Steering st = Steering.scale(sf, new Top.Count(ks[ki]), base.selection().rank(), gamma, here);
                    String run = (m == Method.RANDOM ? "random-seed" + s : m.cliName()) + "-gamma" + num(gamma);
                    boolean[] r = outcomes(dir.resolve("evals").resolve("top-k" + ks[ki] + "-" + base.selection().rank().cliName()).resolve(run), st);
                    for (int p = 0; p < n; p++) {
                        o[ki][p] += (r[p] ? 1.0 : 0.0) / seeds;
                    }
                    sa[s][ki] = mean(r);
                    b[ki] = r;
                }
            }
            outcome.add(o);
            binary.add(seeds == 1 ? b : null);
            seedAcc.add(sa);
        }
        double origAcc = mean(orig);
        int ipg = ranked.indexOf(Method.IPG);
        double[] ipgArea = ipg < 0 ? null : problemArea(outcome.get(ipg), orig, w);
        List<Curve> curves = new ArrayList<>();
        for (int mi = 0; mi < ranked.size(); mi++) {
            Method m = ranked.get(mi);
            double[][] o = outcome.get(mi);
            double[][] sa = seedAcc.get(mi);
            double[] delta = new double[ks.length];
            double[] lo = new double[ks.length];
            double[] hi = new double[ks.length];
            for (int ki = 0; ki < ks.length; ki++) {
                delta[ki] = 100 * (mean(o[ki]) - origAcc);
                lo[ki] = Double.POSITIVE_INFINITY;
                hi[ki] = Double.NEGATIVE_INFINITY;
                for (double[] seed : sa) {
                    lo[ki] = Math.min(lo[ki], 100 * (seed[ki] - origAcc));
                    hi[ki] = Math.max(hi[ki], 100 * (seed[ki] - origAcc));
                }
            }
            double areaMin = Double.POSITIVE_INFINITY;
            double areaMax = Double.NEGATIVE_INFINITY;
            for (double[] seed : sa) {
                double[] d = new double[ks.length];
                for (int ki = 0; ki < ks.length; ki++) {
                    d[ki] = 100 * (seed[ki] - origAcc);
                }
                double a = CurveArea.of(ks, d);
                areaMin = Math.min(areaMin, a);
                areaMax = Math.max(areaMax, a);
            }
            PairedBootstrap.Interval[] vs = null;
            double[] mc = new double[ks.length];
            Arrays.fill(mc, Double.NaN);
            PairedBootstrap.Interval areaVs = null;
            if (ipg >= 0 && mi != ipg) {
                vs = new PairedBootstrap.Interval[ks.length];
                for (int ki = 0; ki < ks.length; ki++) {
                    double[] d = new double[n];
                    for (int p = 0; p < n; p++) {
                        d[p] = 100 * (o[ki][p] - outcome.get(ipg)[ki][p]);
                    }
                    vs[ki] = PairedBootstrap.of(d, spec.bootstrap(), spec.bootstrapSeed(), 0.95);
                    if (binary.get(mi) != null && binary.get(ipg) != null) {
                        mc[ki] = McNemar.of(binary.get(mi)[ki], binary.get(ipg)[ki]).p();
                    }
                }
                double[] a = problemArea(o, orig, w);
                double[] d = new double[n];
                for (int p = 0; p < n; p++) {
                    d[p] = a[p] - ipgArea[p];
                }
                areaVs = PairedBootstrap.of(d, spec.bootstrap(), spec.bootstrapSeed(), 0.95);
            }
            curves.add(new Curve(m.cliName(), sa.length, delta, lo, hi, CurveArea.of(ks, delta), areaMin, areaMax, vs, mc, areaVs));
        }
        return new Condition(name, gamma, curves);
    }

    /** Each problem's area: the weighted sum over k of its outcome change vs the original, in points. */
    private static double[] problemArea(double[][] o, boolean[] orig, double[] w) {
        double[] a = new double[orig.length];
        for (int ki = 0; ki < w.length; ki++) {
            for (int p = 0; p < orig.length; p++) {
                a[p] += 100 * w[ki] * (o[ki][p] - (orig[p] ? 1 : 0));
            }
        }
        return a;
    }

    // ------------------------------------------------------------------ ground truth

    private GroundTruth groundTruth(Comparison cmp, Path dir, Site site, int width, List<Method> ranked, int k) {
        // candidates: every component, or the union of each informed method's top 2k
        boolean all = width <= spec.groundTruthAll();
        TreeSet<Integer> cand = new TreeSet<>();
        if (all) {
            for (int i = 0; i < width; i++) {
                cand.add(i);
            }
        } else {
            for (Method m : ranked) {
                if (m != Method.RANDOM) { // random's picks would only add arbitrary candidates, at a cost per candidate
                    for (int i : ScoresFile.load(cmp.methodDir(m, 0), site).select(new Top.Count(2 * k), base.selection().rank()).components()) {
                        cand.add(i);
                    }
                }
            }
        }
        int[] candidates = cand.stream().mapToInt(Integer::intValue).toArray();
        double[] drops = ablationDrops(dir.resolve("ground-truth.json"), site, width, candidates);
        int kk = Math.min(k, candidates.length);
        int[] topLocal = PrecisionAtK.top(drops, kk);
        int[] truthTop = new int[kk];
        for (int i = 0; i < kk; i++) {
            truthTop[i] = candidates[topLocal[i]];
        }
        List<Match> matches = new ArrayList<>();
        for (Method m : ranked) {
            int seeds = m == Method.RANDOM ? base.seeding().randomSeeds() : 1;
            double p = 0;
            double rho = 0;
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (int s = 0; s < seeds; s++) {
                float[] sc = ScoresFile.load(cmp.methodDir(m, s), site).scores();
                double[] key = new double[candidates.length];
                for (int i = 0; i < candidates.length; i++) {
                    float x = sc[candidates[i]];
                    key[i] = base.selection().rank() == Rank.ABS ? Math.abs(x) : x;
                }
                double pi = PrecisionAtK.of(key, drops, kk);
                p += pi / seeds;
                rho += Spearman.of(key, drops) / seeds;
                lo = Math.min(lo, pi);
                hi = Math.max(hi, pi);
            }
            matches.add(new Match(m.cliName(), p, rho, lo, hi));
        }
        return new GroundTruth(dev.size(), all, candidates, drops, kk, truthTop, matches);
    }

    /**
     * For each candidate, the mean over dev problems of log p(gold | original) - log p(gold |
     * candidate scaled by the suppress gamma), the gold solution teacher-forced after the prompt.
     * Read back from {@code file} when it holds the same configuration.
     */
    private double[] ablationDrops(Path file, Site site, int width, int[] candidates) {
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.set("model", RunConfig.model(model));
        config.set("dev", RunFiles.tree(Comparison.split(dev, 0)));
        config.put("site", site.toString());
        config.put("gamma", base.conditions().suppress());
        config.set("prompt_format", base.splits().format().json());
        ArrayNode ca = config.putArray("candidates");
        for (int c : candidates) {
            ca.add(c);
        }
        if (Files.exists(file)) {
            JsonNode done = Json.read(file);
            if (done.path("config").equals(config) && done.path("drops").size() == candidates.length) {
                double[] d = new double[candidates.length];
                for (int i = 0; i < d.length; i++) {
                    d[i] = done.get("drops").get(i).asDouble();
                }
                return d;
            }
        }
        Support s = new Support(model, tok, dev, 0, base.splits().format(), eos, progress);
        List<Trajectory> seqs = new ArrayList<>();
        for (int i = 0; i < dev.size(); i++) {
            seqs.add(IntegratedGradients.sequence(s, i));
        }
        ReverseMode rm = new ReverseMode(model);
        double[] plain = goldLogProbs(rm, seqs, Hooks.none());
        double[] drops = new double[candidates.length];
        progress.message("ground truth at " + site + ": " + candidates.length + " components ablated one at a time on " + dev.size()
                + " dev problems");
        progress.start("ground truth " + site, candidates.length, 0);
        for (int c = 0; c < candidates.length; c++) {
            float[] g = new float[width];
            Arrays.fill(g, 1f);
            g[candidates[c]] = (float) base.conditions().suppress();
            double[] lp = goldLogProbs(rm, seqs, Hooks.none().intervene(site, new Intervention.Scale(g)));
            double d = 0;
            for (int p = 0; p < lp.length; p++) {
                d += (plain[p] - lp[p]) / lp.length;
            }
            drops[c] = d;
            progress.advance("component " + candidates[c]);
        }
        ObjectNode j = JsonNodeFactory.instance.objectNode();
        j.set("config", config);
        ArrayNode da = j.putArray("drops");
        for (double d : drops) {
            da.add(d);
        }
        Json.write(file, j);
        return drops;
    }

    /** The summed log-probability of each sequence's scored (gold) tokens, in batches of 16. */
    private static double[] goldLogProbs(ReverseMode rm, List<Trajectory> seqs, Hooks hooks) {
        double[] out = new double[seqs.size()];
        for (int from = 0; from < seqs.size(); from += 16) {
            List<Trajectory> chunk = seqs.subList(from, Math.min(seqs.size(), from + 16));
            List<float[]> lp = rm.logProbs(chunk, hooks);
            for (int i = 0; i < chunk.size(); i++) {
                double sum = 0;
                for (float x : lp.get(i)) {
                    sum += x;
                }
                out[from + i] = sum;
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ stability

    private List<Stability> stability(Comparison cmp, Path dir, List<Method> ranked, int[] ks, int headline, int half) {
        Dataset used = Comparison.prefix(support, base.splits().supportLimit());
        Dataset a = slice(used, 0, half);
        Dataset b = slice(used, half, 2 * half);
        List<Stability> out = new ArrayList<>();
        for (Method m : ranked) {
            if (m == Method.RANDOM) {
                continue; // a random selection does not depend on the support set
            }
            Path da = dir.resolve("stability").resolve("half-a").resolve(m.cliName());
            Path db = dir.resolve("stability").resolve("half-b").resolve(m.cliName());
            progress.message("stability: " + m + " on support halves of " + half + " problems in " + da.getParent().getParent());
            try {
                cmp.score(m, a, 0, 0, da, dir.resolve("stability").resolve("half-a").resolve("support-completions"));
                cmp.score(m, b, 0, 0, db, dir.resolve("stability").resolve("half-b").resolve("support-completions"));
            } catch (IpgException e) {
                if (m == Method.IPG) {
                    throw e;
                }
                progress.message("warning: " + m + " cannot score on a support half, no stability for it: " + e.getMessage());
                out.add(new Stability(m.cliName(), null, Double.NaN));
                continue;
            }
            ScoresFile sa = ScoresFile.load(da, cmp.spec().site());
            ScoresFile sb = ScoresFile.load(db, cmp.spec().site());
            double[] dice = new double[ks.length];
            for (int i = 0; i < ks.length; i++) {
                dice[i] = Dice.of(sa.select(new Top.Count(ks[i]), base.selection().rank()).components(),
                        sb.select(new Top.Count(ks[i]), base.selection().rank()).components());
            }
            double h = Dice.of(sa.select(new Top.Count(headline), base.selection().rank()).components(),
                    sb.select(new Top.Count(headline), base.selection().rank()).components());
            out.add(new Stability(m.cliName(), dice, h));
        }
        return out;
    }

    private static Dataset slice(Dataset d, int from, int to) {
        return new Dataset(d.name() + " (problems " + from + ".." + (to - 1) + ")", d.source(), d.shape(), d.mapping(),
                d.problems().subList(from, to));
    }

    // ------------------------------------------------------------------ verdict

    /**
     * IPG against each method per condition from the paired interval of the area difference
     * (suppress: a lower area is better; enhance: a higher one), then the ground truth and the
     * stability as measured (no interval: they are stated, not tested).
     */
    static List<String> verdict(Site site, List<Condition> conditions, GroundTruth gt, List<Stability> stab, int k,
                                Comparison.Result table) {
        List<String> out = new ArrayList<>();
        for (Condition c : conditions) {
            Curve ipg = c.curves().stream().filter(x -> x.method().equals("ipg")).findFirst().orElse(null);
            if (ipg == null) {
                out.add(site + " " + c.name() + ": IPG not compared");
                continue;
            }
            boolean lowerIsBetter = c.name().equals("suppress");
            List<String> wins = new ArrayList<>();
            List<String> ties = new ArrayList<>();
            List<String> losses = new ArrayList<>();
            for (Curve m : c.curves()) {
                if (m == ipg) {
                    continue;
                }
                PairedBootstrap.Interval d = m.areaVsIpg(); // method - IPG
                String label = String.format(Locale.ROOT, "%s %+.1f [%+.1f, %+.1f]", m.method(), d.mean(), d.lower(), d.upper());
                boolean ipgBetter = lowerIsBetter ? d.above() : d.below();
                boolean ipgWorse = lowerIsBetter ? d.below() : d.above();
                (ipgBetter ? wins : ipgWorse ? losses : ties).add(label);
            }
            out.add(String.format(Locale.ROOT, "%s %s (gamma %s) curve area: IPG %+.1f points; (method - IPG [95 %% interval]) IPG wins vs: %s; ties: %s; loses vs: %s",
                    site, c.name(), num(c.gamma()), ipg.area(), list(wins), list(ties), list(losses)));
        }
        if (gt != null) {
            Match ipg = gt.matches().stream().filter(x -> x.method().equals("ipg")).findFirst().orElse(null);
            Match best = null;
            for (Match m : gt.matches()) {
                if (!m.method().equals("ipg") && (best == null || m.precision() > best.precision())) {
                    best = m;
                }
            }
            if (ipg != null) {
                String rel = best == null ? "" : ipg.precision() > best.precision() ? "best of all methods"
                        : ipg.precision() == best.precision() ? "tied with " + best.method() : "below " + best.method();
                out.add(String.format(Locale.ROOT, "%s ground truth (dev): IPG precision@%d %.2f, Spearman %+.2f; %s%s", site, gt.k(),
                        ipg.precision(), ipg.spearman(), rel, best == null ? "" : String.format(Locale.ROOT, " (%s %.2f, Spearman %+.2f)",
                                best.method(), best.precision(), best.spearman())));
            }
        }
        Stability si = stab.stream().filter(x -> x.method().equals("ipg")).findFirst().orElse(null);
        if (si != null) {
            Stability best = null;
            for (Stability s : stab) {
                if (s != si && s.dice() != null && (best == null || s.headline() > best.headline())) {
                    best = s;
                }
            }
            out.add(String.format(Locale.ROOT, "%s stability: IPG Dice@%d %.2f between support halves%s", site, k, si.headline(),
                    best == null ? "" : String.format(Locale.ROOT, " (most stable other: %s %.2f)", best.method(), best.headline())));
        }
        if (!table.unavailable().isEmpty()) {
            out.add(site + " not compared (cannot score): " + String.join(", ", new TreeSet<>(table.unavailable().keySet())));
        }
        return out;
    }

    private static String list(List<String> l) {
        return l.isEmpty() ? "none" : String.join(", ", l);
    }

    // ------------------------------------------------------------------ evaluations

    private boolean[] outcomes(Path dir, Steering steering) {
        var es = new EvalRun.Spec(base.splits().format(), base.splits().evalDecoding(), steering, Signal.Reflection.DEFAULT_WORDS);
        EvalRun run = new EvalRun(model, tok, eval, es, eos, dir, progress);
        List<EvalRun.Item> items = new ArrayList<>(run.run(base.splits().evalLimit(), offload.eval(run, base.splits().evalLimit())).items());
        items.sort((x, y) -> Integer.compare(x.index(), y.index()));
        boolean[] r = new boolean[items.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = items.get(i).correct();
        }
        return r;
    }

    private static double mean(boolean[] b) {
        int c = 0;
        for (boolean x : b) {
            c += x ? 1 : 0;
        }
        return b.length == 0 ? 0 : (double) c / b.length;
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return v.length == 0 ? 0 : s / v.length;
    }

    static String num(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    // ------------------------------------------------------------------ output

    private static void text(StringBuilder sb, SiteResult s) {
        sb.append(String.format(Locale.ROOT, "%n== %s (%d components; original accuracy %.1f %% on %d problems) ==%n", s.site(), s.width(),
                100 * s.original(), s.evalProblems()));
        for (Condition c : s.conditions()) {
            sb.append(String.format(Locale.ROOT, "%s (gamma %s): accuracy change in points with each method's top k scaled; "
                    + "second line: method - IPG, paired 95 %% bootstrap interval (McNemar p)%n", c.name(), num(c.gamma())));
            sb.append(String.format(Locale.ROOT, "%-24s", "method"));
            for (int k : s.ks()) {
                sb.append(String.format(Locale.ROOT, " %15s", "k=" + k));
            }
            sb.append(String.format(Locale.ROOT, " %17s%n", "area"));
            for (Curve cv : c.curves()) {
                String name = cv.method() + (cv.seeds() > 1 ? " (" + cv.seeds() + " seeds)" : "");
                sb.append(String.format(Locale.ROOT, "%-24s", name));
                for (int i = 0; i < s.ks().length; i++) {
                    sb.append(String.format(Locale.ROOT, " %15s", cv.seeds() > 1
                            ? String.format(Locale.ROOT, "%+.1f (%+.0f..%+.0f)", cv.delta()[i], cv.seedMin()[i], cv.seedMax()[i])
                            : String.format(Locale.ROOT, "%+.1f", cv.delta()[i])));
                }
                sb.append(String.format(Locale.ROOT, " %17s%n", cv.seeds() > 1
                        ? String.format(Locale.ROOT, "%+.1f (%+.0f..%+.0f)", cv.area(), cv.areaMin(), cv.areaMax())
                        : String.format(Locale.ROOT, "%+.1f", cv.area())));
                if (cv.vsIpg() != null) {
                    sb.append(String.format(Locale.ROOT, "%-24s", "  - ipg"));
                    for (int i = 0; i < s.ks().length; i++) {
                        PairedBootstrap.Interval d = cv.vsIpg()[i];
                        sb.append(String.format(Locale.ROOT, " %15s", String.format(Locale.ROOT, "[%+.0f,%+.0f]%s", d.lower(), d.upper(),
                                Double.isNaN(cv.mcnemar()[i]) ? "" : String.format(Locale.ROOT, " %.2g", cv.mcnemar()[i]))));
                    }
                    PairedBootstrap.Interval a = cv.areaVsIpg();
                    sb.append(String.format(Locale.ROOT, " %17s%n", String.format(Locale.ROOT, "%+.1f [%+.1f,%+.1f]", a.mean(), a.lower(),
                            a.upper())));
                }
            }
        }
        if (s.groundTruth() == null) {
            sb.append("ground truth: ").append(s.groundTruthNote()).append('\n');
        } else {
            GroundTruth g = s.groundTruth();
            sb.append(String.format(Locale.ROOT, "ground truth on %d dev problems (drop of the gold solution's log-probability when one "
                            + "component is ablated; %s): costliest %d %s%n", g.problems(), g.all() ? "all " + g.candidates().length
                            + " components" : g.candidates().length + " candidates, the union of every method's top " + 2 * g.k(), g.k(),
                    Arrays.toString(g.truthTop())));
            sb.append(String.format(Locale.ROOT, "%-24s %14s %9s%n", "method", "precision@" + g.k(), "Spearman"));
            for (Match m : g.matches()) {
                sb.append(String.format(Locale.ROOT, "%-24s %14s %9s%n", m.method(), m.min() != m.max()
                        ? String.format(Locale.ROOT, "%.2f (%.2f..%.2f)", m.precision(), m.min(), m.max())
                        : String.format(Locale.ROOT, "%.2f", m.precision()), Double.isNaN(m.spearman()) ? "n/a"
                        : String.format(Locale.ROOT, "%+.2f", m.spearman())));
            }
        }
        if (s.plantedTruth() != null) {
            PlantedTruth.text(sb, s.plantedTruth(), s.plantedScores(), s.width());
        }
        if (!s.stability().isEmpty()) {
            sb.append(String.format(Locale.ROOT, "stability: Dice of the top-k sets from two disjoint support halves of %d problems "
                    + "(random: chance level k/width)%n%-24s", s.halfSize(), "method"));
            for (int k : s.ks()) {
                sb.append(String.format(Locale.ROOT, " %6s", "k=" + k));
            }
            sb.append(String.format(Locale.ROOT, " %8s%n", "k=" + s.headlineK()));
            for (Stability st : s.stability()) {
                if (st.dice() == null) {
                    sb.append(String.format(Locale.ROOT, "%-24s cannot score on a support half%n", st.method()));
                    continue;
                }
                sb.append(String.format(Locale.ROOT, "%-24s", st.method()));
                for (double d : st.dice()) {
                    sb.append(String.format(Locale.ROOT, " %6.2f", d));
                }
                sb.append(String.format(Locale.ROOT, " %8.2f%n", st.headline()));
            }
        }
        s.table().unavailable().forEach((m, why) -> sb.append(String.format(Locale.ROOT, "%s cannot score: %s%n", m, why)));
    }

    private static ProtocolFiles.SiteEntry siteEntry(SiteResult s) {
        List<ProtocolFiles.CurveSet> curves = new ArrayList<>();
        for (Condition c : s.conditions()) {
            List<ProtocolFiles.Curve> lines = new ArrayList<>();
            for (Curve cv : c.curves()) {
                boolean seeds = cv.seeds() > 1;
                List<ProtocolFiles.Difference> minus = null;
                if (cv.vsIpg() != null) {
                    minus = new ArrayList<>();
                    for (int i = 0; i < cv.vsIpg().length; i++) {
                        minus.add(difference(cv.vsIpg()[i], Double.isNaN(cv.mcnemar()[i]) ? null : cv.mcnemar()[i]));
                    }
                }
                lines.add(new ProtocolFiles.Curve(cv.method(), cv.seeds(), cv.delta(), seeds ? cv.seedMin() : null, seeds ? cv.seedMax() : null,
                        seeds ? cv.areaMin() : null, seeds ? cv.areaMax() : null, cv.area(), minus,
                        cv.vsIpg() == null ? null : difference(cv.areaVsIpg(), null)));
            }
            curves.add(new ProtocolFiles.CurveSet(c.name(), c.gamma(), lines));
        }
        ProtocolFiles.GroundTruth truth = null;
        if (s.groundTruth() != null) {
            GroundTruth g = s.groundTruth();
            truth = new ProtocolFiles.GroundTruth(g.problems(), g.all(),
                    "mean drop in nats of the gold solution's teacher-forced log-probability, component alone ablated", g.candidates(),
                    g.drops(), g.k(), g.truthTop(), g.matches().stream().map(m -> new ProtocolFiles.Match(m.method(), m.precision(),
                            Double.isNaN(m.spearman()) ? null : m.spearman(), m.min(), m.max())).toList()); // a constant ranking has no spearman
        }
        var stability = new ProtocolFiles.Stability(s.halfSize(), s.stability().stream().filter(x -> x.dice() != null) // cannot score on a half
                .map(x -> new ProtocolFiles.StabilityLine(x.method(), x.dice(), x.headline())).toList());
        return new ProtocolFiles.SiteEntry(s.site().toString(), s.width(), s.ks(), s.headlineK(), s.original(), s.evalProblems(),
                s.table().unavailable(), s.plantedTruth() == null ? null : PlantedTruth.json(s.plantedTruth(), s.plantedScores()), curves,
                truth, truth == null ? s.groundTruthNote() : null, stability, s.verdict());
    }

    private static ProtocolFiles.Difference difference(PairedBootstrap.Interval i, Double mcnemar) {
        return new ProtocolFiles.Difference(i.mean(), i.lower(), i.upper(), mcnemar);
    }

    private static String curvesCsv(List<SiteResult> sites) {
        StringBuilder sb = new StringBuilder("site,condition,gamma,method,seeds,k,delta_points,seed_min_points,seed_max_points,"
                + "minus_ipg,minus_ipg_lower,minus_ipg_upper,mcnemar_p\n");
        for (SiteResult s : sites) {
            for (Condition c : s.conditions()) {
                for (Curve cv : c.curves()) {
                    for (int i = 0; i <= s.ks().length; i++) {
                        boolean area = i == s.ks().length;
                        PairedBootstrap.Interval d = cv.vsIpg() == null ? null : area ? cv.areaVsIpg() : cv.vsIpg()[i];
                        sb.append(String.format(Locale.ROOT, "%s,%s,%s,%s,%d,%s,%.4f,%.4f,%.4f,%s,%s,%s,%s%n", s.site(), c.name(),
                                num(c.gamma()), cv.method(), cv.seeds(), area ? "area" : Integer.toString(s.ks()[i]),
                                area ? cv.area() : cv.delta()[i], area ? cv.areaMin() : cv.seedMin()[i], area ? cv.areaMax() : cv.seedMax()[i],
                                d == null ? "" : g(d.mean()), d == null ? "" : g(d.lower()), d == null ? "" : g(d.upper()),
                                area || Double.isNaN(cv.mcnemar()[i]) ? "" : g(cv.mcnemar()[i])));
                    }
                }
            }
        }
        return sb.toString();
    }

    private static String groundTruthCsv(List<SiteResult> sites) {
        StringBuilder sb = new StringBuilder("site,component,logprob_drop\n");
        for (SiteResult s : sites) {
            GroundTruth g = s.groundTruth();
            if (g != null) {
                for (int i = 0; i < g.candidates().length; i++) {
                    sb.append(s.site()).append(',').append(g.candidates()[i]).append(',').append(g(g.drops()[i])).append('\n');
                }
            }
        }
        return sb.toString();
    }

    private static String stabilityCsv(List<SiteResult> sites) {
        StringBuilder sb = new StringBuilder("site,method,k,dice\n");
        for (SiteResult s : sites) {
            for (Stability st : s.stability()) {
                for (int i = 0; st.dice() != null && i < s.ks().length; i++) {
                    sb.append(String.format(Locale.ROOT, "%s,%s,%d,%.4f%n", s.site(), st.method(), s.ks()[i], st.dice()[i]));
                }
            }
        }
        return sb.toString();
    }

    private static String g(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }

    private static void write(Path file, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(b)));
    }
}
