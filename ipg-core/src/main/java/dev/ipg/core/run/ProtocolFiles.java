package dev.ipg.core.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The localization protocol's file as records, shared by the writer ({@code compare.Protocol})
 * and its reader (the report's {@code ProtocolFile}):
 * <pre>
 *   OUT/protocol.json   {@link File}: one file for every site of the sweep
 *   {"config": {..., "random_seeds": 10, "bootstrap": 2000, "area": "...", "ground_truth": "..."},
 *    "sites": [{"site": "blocks.2.hook_resid_post", "width": 128, "ks": [1, 2, 4], "headline_k": 6,
 *               "original_accuracy": 0.93, "eval_problems": 100, "unavailable": {"reasoning-neuron": "why"},
 *               "planted_ground_truth": {...}                                    (a testbed with planted components only)
 *               "curves": [{"condition": "suppress", "gamma": 0,
 *                           "methods": [{"method": "pg", "seeds": 1, "delta_points": [...], "area": -20.7,
 *                                        "seed_min_points": [...], "seed_max_points": [...]       (random only)
 *                                        "minus_ipg": [{"mean", "lower", "upper", "mcnemar_p"}, ...],
 *                                        "area_minus_ipg": {"mean", "lower", "upper"}}, ...]}],
 *               "ground_truth": {"dev_problems": 64, "all_components": true, "candidates": [...], "drops": [...],
 *                                "k": 6, "costliest": [...], "methods": [{"method", "precision_at_k", "spearman",
 *                                "precision_min", "precision_max"}]}            (or "ground_truth_note")
 *               "stability": {"half_size": 16, "methods": [{"method", "dice": [...], "dice_at_headline_k"}]},
 *               "verdict": ["..."]}],
 *    "verdict": ["..."]}
 * </pre>
 * The model, the decoding and the planted ground truth are kept as the JSON trees their owners
 * record.
 */
public final class ProtocolFiles {

    /** The JSON file name. */
    public static final String JSON = "protocol.json";

    private ProtocolFiles() {
    }

    /**
     * {@code protocol.json}.
     *
     * @param ipgVersion the ipg that wrote it
     * @param config     what the protocol measured
     * @param sites      each site's results
     * @param verdict    the verdict lines of every site
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record File(@JsonProperty("ipg_version") String ipgVersion, Config config, List<SiteEntry> sites, List<String> verdict) {
        public File {
            verdict = verdict == null ? List.of() : List.copyOf(verdict);
        }
    }

    /**
     * What the protocol measured.
     *
     * @param model         the model as run configurations record it
     * @param support       the support split
     * @param eval          the evaluation split
     * @param dev           the dev split of the ablation ground truth (absent without one)
     * @param rank          signed or abs
     * @param top           the comparison's selection size
     * @param suppressGamma gamma of the suppress curves
     * @param enhanceGamma  gamma of the enhance curves
     * @param randomSeeds   seeds of the random selection
     * @param bootstrap     bootstrap resamples of the paired intervals
     * @param bootstrapSeed their seed
     * @param area          what a curve's area is, in words
     * @param groundTruth   what the ablation ground truth measures, in words
     * @param evalDecoding  decoding of the evaluations, as evaluations record it
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Config(JsonNode model, ComparisonFiles.Split support, ComparisonFiles.Split eval, ComparisonFiles.Split dev, String rank,
                         String top, @JsonProperty("suppress_gamma") double suppressGamma, @JsonProperty("enhance_gamma") double enhanceGamma,
                         @JsonProperty("random_seeds") int randomSeeds, int bootstrap, @JsonProperty("bootstrap_seed") long bootstrapSeed,
                         String area, @JsonProperty("ground_truth") String groundTruth,
                         @JsonProperty("eval_decoding") JsonNode evalDecoding) {
    }

    /**
     * One site.
     *
     * @param site               the site
     * @param width              its number of components
     * @param ks                 the selection sizes of the curves
     * @param headlineK          the selection size of the comparison table
     * @param originalAccuracy   the unmodified model's accuracy
     * @param evalProblems       evaluation problems
     * @param unavailable        the methods that could not score, with the reason
     * @param plantedGroundTruth the planted components and each method against them (a testbed only)
     * @param curves             accuracy change against k, per condition
     * @param groundTruth        the ablation ground truth (null: see {@code groundTruthNote})
     * @param groundTruthNote    why there is no ablation ground truth
     * @param stability          top sets on disjoint support halves
     * @param verdict            the site's verdict lines
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SiteEntry(String site, int width, int[] ks, @JsonProperty("headline_k") int headlineK,
                            @JsonProperty("original_accuracy") double originalAccuracy, @JsonProperty("eval_problems") int evalProblems,
                            Map<String, String> unavailable, @JsonProperty("planted_ground_truth") JsonNode plantedGroundTruth,
                            List<CurveSet> curves, @JsonProperty("ground_truth") GroundTruth groundTruth,
                            @JsonProperty("ground_truth_note") String groundTruthNote, Stability stability, List<String> verdict) {
        public SiteEntry {
            if (site == null || ks == null || curves == null) {
                throw new IllegalArgumentException("a site has no 'site', 'ks' or 'curves'");
            }
            unavailable = unavailable == null ? Map.of() : new LinkedHashMap<>(unavailable);
            curves = List.copyOf(curves);
            stability = stability == null ? new Stability(0, List.of()) : stability;
            verdict = verdict == null ? List.of() : List.copyOf(verdict);
        }
    }

    /** The curves of one condition (gamma applied to each method's top k). */
    public record CurveSet(String condition, double gamma, List<Curve> methods) {
        public CurveSet {
            methods = methods == null ? List.of() : List.copyOf(methods);
        }
    }

    /**
     * One method's curve. The seed ranges are set for a method of several selections (random),
     * the differences to IPG for every method but IPG.
     *
     * @param method       the method
     * @param seeds        its selections
     * @param deltaPoints  accuracy change in points at each k
     * @param seedMinPoints the lowest seed's change at each k
     * @param seedMaxPoints the highest seed's
     * @param areaSeedMin  the area of the lowest seed's curve
     * @param areaSeedMax  the area of the highest seed's
     * @param area         the curve's area
     * @param minusIpg     this method minus IPG at each k (paired bootstrap, McNemar)
     * @param areaMinusIpg this method's area minus IPG's
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Curve(String method, int seeds, @JsonProperty("delta_points") double[] deltaPoints,
                        @JsonProperty("seed_min_points") double[] seedMinPoints, @JsonProperty("seed_max_points") double[] seedMaxPoints,
                        @JsonProperty("area_seed_min") Double areaSeedMin, @JsonProperty("area_seed_max") Double areaSeedMax, double area,
                        @JsonProperty("minus_ipg") List<Difference> minusIpg, @JsonProperty("area_minus_ipg") Difference areaMinusIpg) {
        public Curve {
            seeds = seeds == 0 ? 1 : seeds;
            deltaPoints = deltaPoints == null ? new double[0] : deltaPoints;
        }
    }

    /**
     * A paired difference with its interval; {@code mcnemarP} is McNemar's exact p (absent for an area or when undefined).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Difference(double mean, double lower, double upper, @JsonProperty("mcnemar_p") Double mcnemarP) {
    }

    /**
     * The ablation ground truth on the dev split.
     *
     * @param devProblems   dev problems
     * @param allComponents whether every component was ablated (else the candidates only)
     * @param measure       what a drop is, in words
     * @param candidates    the components ablated
     * @param drops         each candidate's drop
     * @param k             how many of the costliest count
     * @param costliest     the k costliest components
     * @param methods       each method against them
     */
    public record GroundTruth(@JsonProperty("dev_problems") int devProblems, @JsonProperty("all_components") boolean allComponents,
                              String measure, int[] candidates, double[] drops, int k, int[] costliest, List<Match> methods) {
        public GroundTruth {
            candidates = candidates == null ? new int[0] : candidates;
            costliest = costliest == null ? new int[0] : costliest;
            methods = methods == null ? List.of() : List.copyOf(methods);
        }
    }

    /** One method against the ground truth; {@code spearman} is null for a constant ranking (written as null). */
    public record Match(String method, @JsonProperty("precision_at_k") double precisionAtK,
                        @JsonInclude(JsonInclude.Include.ALWAYS) Double spearman, @JsonProperty("precision_min") double precisionMin,
                        @JsonProperty("precision_max") double precisionMax) {
    }

    /** Dice between the top sets of disjoint support halves. */
    public record Stability(@JsonProperty("half_size") int halfSize, List<StabilityLine> methods) {
        public Stability {
            methods = methods == null ? List.of() : List.copyOf(methods);
        }
    }

    /** One method's Dice at each k and at the headline k. */
    public record StabilityLine(String method, double[] dice, @JsonProperty("dice_at_headline_k") double diceAtHeadlineK) {
    }
}
