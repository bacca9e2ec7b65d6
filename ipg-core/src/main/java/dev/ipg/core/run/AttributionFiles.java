package dev.ipg.core.run;

import java.io.Serializable;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The files of an attribution run directory as records, shared by the writer (the attribution
 * run) and its readers (the report, the comparison):
 * <pre>
 *   prompts/NNNNN.json   {@link PromptFile}: one prompt's results per site
 *   run.json             {@link RunFile}: configuration, slim per-prompt results, the completeness check per site, timings
 * </pre>
 * Keys are snake_case as in Python tools; {@code run-config.json} and {@code run.json}'s
 * {@code config} stay JSON trees, since a run's identity is compared key by key.
 */
public final class AttributionFiles {

    /** The name of a prompt's files (without extension) in {@code prompts/}: its index, five digits. */
    public static String promptName(int index) {
        return String.format(java.util.Locale.ROOT, "%05d", index);
    }

    private AttributionFiles() {
    }

    /**
     * {@code prompts/NNNNN.json}: what one prompt gave at every site.
     *
     * @param index        position in the dataset
     * @param id           the problem's id
     * @param question     the question
     * @param gold         the gold answer, or null
     * @param promptTokens tokens of the rendered prompt
     * @param sites        the results by site name, in the run's order of sites
     */
    public record PromptFile(int index, String id, String question, String gold, @JsonProperty("prompt_tokens") int promptTokens,
                             Map<String, SiteResult> sites) implements Serializable {
        public PromptFile {
            if (sites == null) {
                throw new IllegalArgumentException("no 'sites'");
            }
            sites = new LinkedHashMap<>(sites);
        }

        /** The result at {@code site}, or null. */
        public SiteResult at(String site) {
            return sites.get(site);
        }
    }

    /**
     * One prompt at one site.
     *
     * @param completeness         the prompt's completeness figures
     * @param curve                the path points, in order of alpha
     * @param rewardsAlpha0        rewards of the samples at the path start (empty when reused)
     * @param rewardsAlpha1        rewards of the samples at alpha = 1 (empty when reused)
     * @param timings              time spent on this prompt at this site
     * @param generatedTokens      tokens generated in all
     * @param completionsLastPoint the completions of the last path point with their rewards
     */
    public record SiteResult(PromptCompleteness completeness, List<CurvePoint> curve,
                             @JsonProperty("rewards_alpha0") double[] rewardsAlpha0,
                             @JsonProperty("rewards_alpha1") double[] rewardsAlpha1, PromptTimings timings,
                             @JsonProperty("generated_tokens") long generatedTokens,
                             @JsonProperty("completions_last_point") List<Completion> completionsLastPoint) implements Serializable {
        public SiteResult {
            if (completeness == null || curve == null) {
                throw new IllegalArgumentException(completeness == null ? "no 'completeness'" : "no 'curve'");
            }
            rewardsAlpha0 = rewardsAlpha0 == null ? new double[0] : rewardsAlpha0;
            rewardsAlpha1 = rewardsAlpha1 == null ? new double[0] : rewardsAlpha1;
            timings = timings == null ? new PromptTimings(0, 0) : timings;
            completionsLastPoint = completionsLastPoint == null ? List.of() : List.copyOf(completionsLastPoint);
            curve = List.copyOf(curve);
        }

        /** The slim form kept in run.json: completeness and the curve without weights and advantages. */
        public SiteSummary summary() {
            return new SiteSummary(completeness, curve.stream().map(CurvePoint::slim).toList());
        }

        /** Whether any two rewards sampled for this prompt at this site differ. */
        public boolean rewardsVary() {
            java.util.Set<Double> seen = new java.util.HashSet<>();
            curve.forEach(p -> {
                for (double r : p.rewards()) {
                    seen.add(r);
                }
            });
            for (double r : rewardsAlpha0) {
                seen.add(r);
            }
            for (double r : rewardsAlpha1) {
                seen.add(r);
            }
            return seen.size() > 1;
        }
    }

    /**
     * The completeness figures of one prompt at one site.
     *
     * @param alphaStart where the path starts
     * @param sumIpg     sum_i IPG(i; x)
     * @param delta      Jbar(1) - Jbar(start)
     * @param firstStep  Jbar(alpha_1) - Jbar(start), the part a right Riemann sum cannot see
     * @param jbar0      Jbar at the path start
     * @param jbar1      Jbar(1)
     */
    public record PromptCompleteness(@JsonProperty("alpha_start") double alphaStart, @JsonProperty("sum_ipg") double sumIpg,
                                     @JsonProperty("jbar1_minus_jbar0") double delta,
                                     @JsonProperty("jbar_alpha1_minus_jbar0") double firstStep, double jbar0, double jbar1) implements Serializable {
    }

    /**
     * A path point. In run.json only alpha, jbar, contribution and rewards are kept.
     *
     * @param alpha             where on the path
     * @param weight            the quadrature weight (null in run.json)
     * @param jbar              the Jbar estimate there
     * @param contribution      the point's share of sum_i IPG(i; x)
     * @param rewards           the rewards of its samples
     * @param advantages        their advantages (null in run.json)
     * @param importanceWeights the samples' importance weights under reuse-weighted sampling, else null
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record CurvePoint(double alpha, Double weight, double jbar, double contribution, double[] rewards, double[] advantages,
                             @JsonProperty("importance_weights") double[] importanceWeights) implements Serializable {
        public CurvePoint {
            rewards = rewards == null ? new double[0] : rewards;
        }

        CurvePoint slim() {
            return new CurvePoint(alpha, null, jbar, contribution, rewards, null, null);
        }
    }

    /** Time spent on one prompt at one site. */
    public record PromptTimings(@JsonProperty("sampling_s") double samplingSeconds, @JsonProperty("backward_s") double backwardSeconds) implements Serializable {
    }

    /** A scored completion: its text (special tokens skipped), length and reward. */
    public record Completion(String text, int tokens, double reward) implements Serializable {
    }

    /**
     * {@code run.json} of an attribution run.
     *
     * @param ipgVersion   the ipg that wrote it
     * @param modelDir     where the model was loaded from (for tools that need it again; not part of the identity)
     * @param config       the configuration (as in run-config.json, with {@code dataset.used})
     * @param prompts      per prompt, the slim results
     * @param completeness the completeness check per site name
     * @param warnings     all warnings of the path diagnostics
     * @param timings      what the run took
     */
    public record RunFile(@JsonProperty("ipg_version") String ipgVersion, @JsonProperty("model_dir") String modelDir, JsonNode config,
                          List<PromptSummary> prompts, Map<String, SiteCompleteness> completeness, List<String> warnings,
                          RunTimings timings) {
        public RunFile {
            if (config == null || !config.isObject()) {
                throw new IllegalArgumentException("no 'config'");
            }
            prompts = prompts == null ? List.of() : List.copyOf(prompts);
            completeness = completeness == null ? Map.of() : new LinkedHashMap<>(completeness);
            warnings = warnings == null ? List.of() : List.copyOf(warnings);
            timings = timings == null ? new RunTimings(null, 0, 0, 0, null, null) : timings;
        }
    }

    /** One prompt in run.json. */
    public record PromptSummary(int index, String id, Map<String, SiteSummary> sites) {
        public PromptSummary {
            sites = sites == null ? Map.of() : new LinkedHashMap<>(sites);
        }
    }

    /** One prompt at one site in run.json. */
    public record SiteSummary(PromptCompleteness completeness, List<CurvePoint> curve) {
    }

    /**
     * The completeness check of one site over the run's prompts.
     *
     * @param advantage      grpo or rloo
     * @param policyGradient whose log-probability was differentiated
     * @param alphaStart     where the path starts
     * @param sumScores      sum_i S_i
     * @param meanDelta      the mean over prompts of Jbar(1) - Jbar(start)
     * @param deltaStdErr    its standard error
     * @param gap            sumScores - meanDelta
     * @param meanFirstStep  the mean of Jbar(alpha_1) - Jbar(start)
     * @param expectedToHold whether the estimator makes the identity hold
     * @param note           what the check means for this estimator
     * @param points         the path diagnostics per point
     * @param warnings       the path diagnostics' warnings
     */
    public record SiteCompleteness(String advantage, @JsonProperty("policy_gradient") String policyGradient,
                                   @JsonProperty("alpha_start") double alphaStart, @JsonProperty("sum_scores") double sumScores,
                                   @JsonProperty("mean_jbar1_minus_jbar0") double meanDelta,
                                   @JsonProperty("std_err_jbar1_minus_jbar0") double deltaStdErr, double gap,
                                   @JsonProperty("mean_jbar_alpha1_minus_jbar0") double meanFirstStep,
                                   @JsonProperty("expected_to_hold") boolean expectedToHold, String note, List<PathPoint> points,
                                   List<String> warnings) {
        public SiteCompleteness {
            points = points == null ? List.of() : List.copyOf(points);
            warnings = warnings == null ? List.of() : List.copyOf(warnings);
        }
    }

    /** A path point of the diagnostics: its mean Jbar, contribution, share, and whether it is far from Jbar(1). */
    public record PathPoint(double alpha, double weight, @JsonProperty("mean_jbar") double jbar, double contribution, double share,
                            @JsonProperty("far_from_jbar1") boolean far) {
    }

    /**
     * What a run took; the wall time is this invocation's (a resumed run counts only its part).
     * Fields a run recorded before they existed are null.
     */
    public record RunTimings(@JsonProperty("wall_s_this_invocation") Double wallSeconds, @JsonProperty("sampling_s") double samplingSeconds,
                             @JsonProperty("backward_s") double backwardSeconds, @JsonProperty("generated_tokens") long generatedTokens,
                             Integer threads, String kernels) {
    }
}
