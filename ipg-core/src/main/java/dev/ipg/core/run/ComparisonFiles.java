package dev.ipg.core.run;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The file {@code ipg compare} writes as records, shared by the writer (the comparison) and its
 * reader (the report):
 * <pre>
 *   OUT/comparison.json   {@link File}
 *   {
 *     "ipg_version": "...",
 *     "config": {
 *       "model":   {"architecture": "Qwen3ForCausalLM", "fingerprint": "9f2c...", "content": ...},
 *       "support": {"file": "train.jsonl", "sha256": "...", "used": 200},
 *       "eval":    {"file": "test.jsonl",  "sha256": "...", "used": 500},
 *       "disjoint": true, "site": "blocks.20.hook_resid_post", "top": "5%", "rank": "signed",
 *       ... (gammas, methods, seeds, signal, control vector mode, support decoding)
 *       "eval_decoding": {"greedy": true, "max_new_tokens": 512}       (sampled: temperature, top_p, top_k, seed)
 *     },
 *     "original":    ROW,                    condition "original"
 *     "rows":        [ROW, ...],             condition "enhance" or "suppress", methods in order
 *     "gamma_sweep": [ROW, ...],             condition "sweep" (empty without a sweep)
 *     "unavailable": {"pg": "why", ...}      the methods that could not score
 *     "verdict":     ["enhance (gamma 2): IPG ...", ...]   whether IPG beats every baseline (absent in older files)
 *   }
 *   ROW = {"method": "ipg", "condition": "enhance", "gamma": 2.0 (or "strength": 4.0 for an added vector),
 *          "intervention": "...", "problems": 500, "correct": 412, "accuracy": 0.824,
 *          "wilson95": {"lower": 0.788, "upper": 0.855}, "mean_generated_tokens": 301.2, ... (the {@link EvalResults}),
 *          "delta_vs_original": 0.03, "seed_accuracies": [0.824]}
 * </pre>
 * The model, the SAE and the decodings are kept as the JSON trees their owners record in run
 * configurations.
 */
public final class ComparisonFiles {

    /** The JSON file name. */
    public static final String JSON = "comparison.json";

    private ComparisonFiles() {
    }

    /**
     * {@code comparison.json}.
     *
     * @param ipgVersion  the ipg that wrote it
     * @param config      what was compared
     * @param original    the unmodified model (condition {@code original})
     * @param rows        condition enhance or suppress, methods in order
     * @param gammaSweep  condition sweep (empty without a sweep)
     * @param unavailable the methods that could not score, with the reason (absent in older files)
     * @param verdict     whether IPG beats every baseline, one line per condition (absent in older files)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record File(@JsonProperty("ipg_version") String ipgVersion, Config config, Row original, List<Row> rows,
                       @JsonProperty("gamma_sweep") List<Row> gammaSweep, Map<String, String> unavailable, List<String> verdict) {
        public File {
            gammaSweep = gammaSweep == null ? List.of() : List.copyOf(gammaSweep);
            unavailable = unavailable == null ? null : new LinkedHashMap<>(unavailable);
            verdict = verdict == null ? null : List.copyOf(verdict);
        }
    }

    /**
     * What was compared.
     *
     * @param model           the model as run configurations record it (architecture, fingerprint, content)
     * @param support         the support split
     * @param eval            the evaluation split
     * @param disjoint        whether the two were checked disjoint
     * @param site            where components are selected
     * @param sae             the SAE whose latents ipg-sae and sae-r select (absent without one)
     * @param top             how many components ({@code 5%} or a count)
     * @param rank            signed or abs
     * @param enhanceGamma    gamma of the enhance rows
     * @param suppressGamma   gamma of the suppress rows
     * @param methods         the selection methods
     * @param randomSeeds     seeds of the random selection
     * @param seed            the master seed of the baselines that draw
     * @param signal          the outcome signal of IPG and pg
     * @param controlVector   how the control vector was applied, in words
     * @param supportDecoding decoding of the model's own support completions, as evaluations record it
     * @param evalDecoding    decoding of the evaluations, as evaluations record it
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Config(JsonNode model, Split support, Split eval, boolean disjoint, String site, JsonNode sae, String top, String rank,
                         @JsonProperty("enhance_gamma") double enhanceGamma, @JsonProperty("suppress_gamma") double suppressGamma,
                         List<String> methods, @JsonProperty("random_seeds") int randomSeeds, long seed, String signal,
                         @JsonProperty("control_vector") String controlVector, @JsonProperty("support_decoding") JsonNode supportDecoding,
                         @JsonProperty("eval_decoding") JsonNode evalDecoding) {
        public Config {
            methods = methods == null ? List.of() : List.copyOf(methods);
        }

        /** The model's architecture, or null. */
        public String architecture() {
            return model == null ? null : model.path("architecture").asText(null);
        }

        /** The model's fingerprint, or null. */
        public String fingerprint() {
            return model == null ? null : model.path("fingerprint").asText(null);
        }
    }

    /**
     * A dataset split as used.
     *
     * @param file   its file name
     * @param sha256 the file's hash
     * @param used   problems used
     */
    public record Split(String file, String sha256, int used) {
    }

    /**
     * One method under one condition. Exactly one of {@code gamma} and {@code strength} is set
     * (the original has gamma 1, or neither in a file that omits it).
     *
     * @param method          the method ({@code original} for the unmodified model)
     * @param condition       original, enhance, suppress or sweep
     * @param gamma           the scale of the selected components
     * @param strength        the strength of an added vector
     * @param intervention    the intervention in words
     * @param results         the figures (for several random seeds: counts pooled over the seeds)
     * @param deltaVsOriginal accuracy minus the original's
     * @param seedAccuracies  accuracy of each seed (one entry for other methods; absent in older files)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Row(String method, String condition, Double gamma, Double strength, String intervention,
                      @JsonUnwrapped EvalResults results, @JsonProperty("delta_vs_original") Double deltaVsOriginal,
                      @JsonProperty("seed_accuracies") List<Double> seedAccuracies) {
        public Row {
            if (method == null) {
                throw new IllegalArgumentException("a row has no 'method'");
            }
            if (condition == null) {
                throw new IllegalArgumentException(method + " has no 'condition'");
            }
            boolean original = condition.equals("original");
            String what = original ? "original" : method + " " + condition;
            String missing = results == null ? "integer 'problems'" : results.missing();
            if (missing != null) {
                throw new IllegalArgumentException(what + " has no " + missing);
            }
            if (results.correct() < 0 || results.correct() > results.problems()) {
                throw new IllegalArgumentException(what + " has " + results.correct() + " correct of " + results.problems() + " problems");
            }
            if (!original && (gamma == null) == (strength == null)) {
                throw new IllegalArgumentException(what + " needs exactly one of 'gamma' and 'strength'");
            }
            if (!original && deltaVsOriginal == null) {
                throw new IllegalArgumentException(what + " has no number 'delta_vs_original'");
            }
            seedAccuracies = seedAccuracies == null || seedAccuracies.isEmpty() ? List.of(results.accuracy()) : List.copyOf(seedAccuracies);
        }

        /** Whether this is the unmodified model. */
        @JsonIgnore
        public boolean isOriginal() {
            return "original".equals(condition);
        }
    }
}
