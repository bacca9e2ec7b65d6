package dev.ipg.core.report;

import java.util.List;
import java.util.Map;

/**
 * Everything the attribution report shows, as plain data: serialized as {@code report-data.json}
 * (snake_case keys) and embedded in the HTML page, where the charts are drawn from it.
 *
 * @param header       what was run and how
 * @param sites        the scores of every attributed site
 * @param top          the top components over all sites, by |score|
 * @param completeness the completeness check of every site
 * @param curves       Jbar(alpha) of every prompt at every site
 * @param meanCurves   Jbar(alpha) averaged over prompts, per site
 * @param prompts      the support prompts with the completions scored at the last path point
 * @param comparison   method comparison and gamma sweep ({@code ipg compare}), or a note why absent
 * @param process      where in the reasoning the top components act, or a note why absent
 * @param examples     trajectories before and after the intervention, or a note why absent
 * @param protocol     the localization protocol of {@code ipg compare} (curves, ground truth, stability), or a note why absent
 */
public record ReportData(Header header, List<SiteScores> sites, List<TopRow> top, List<Completeness> completeness,
                         List<Curve> curves, List<Curve> meanCurves, List<PromptInfo> prompts, Section<Comparison> comparison,
                         Section<ProcessLevel> process, Section<List<Example>> examples, Section<ProtocolFile.View> protocol) {

    /** Without a protocol. */
    public ReportData(Header header, List<SiteScores> sites, List<TopRow> top, List<Completeness> completeness, List<Curve> curves,
                      List<Curve> meanCurves, List<PromptInfo> prompts, Section<Comparison> comparison, Section<ProcessLevel> process,
                      Section<List<Example>> examples) {
        this(header, sites, top, completeness, curves, meanCurves, prompts, comparison, process, examples,
                Section.absent("No localization protocol was given (ipg compare writes protocol.json)."));
    }

    /** A section that may be missing; {@code note} says why (or qualifies what is shown). */
    public record Section<T>(T value, String note) {

        public static <T> Section<T> of(T value, String note) {
            return new Section<>(value, note);
        }

        public static <T> Section<T> absent(String why) {
            return new Section<>(null, why);
        }
    }

    /**
     * What was run.
     *
     * @param modelName        the model directory's name (or the architecture when unknown)
     * @param modelDir         the model directory recorded in run.json, or null
     * @param architecture     e.g. Qwen3ForCausalLM
     * @param fingerprint      sha-256 fingerprint of the checkpoint
     * @param method           e.g. integrated-policy-gradient
     * @param sites            the attributed sites
     * @param signal           the outcome signal spec
     * @param datasetFile      support set file name
     * @param datasetProblems  problems in that file
     * @param supportSize      prompts used (M)
     * @param hyperparameters  every hyperparameter and the prompt format, in the run's order
     * @param wallSeconds      wall time of the invocation that finished the run (resumed runs took longer)
     * @param samplingSeconds  time spent sampling, summed over prompts and sites
     * @param backwardSeconds  time spent in reverse mode, summed over prompts and sites
     * @param generatedTokens  tokens generated in all
     * @param threads          worker threads
     * @param kernels          kernel implementation
     * @param ipgVersion       version that wrote the run
     * @param runDir           the run directory's name
     * @param generatedAt      when the report was built (UTC, ISO-8601)
     */
    public record Header(String modelName, String modelDir, String architecture, String fingerprint, String method,
                         List<String> sites, String signal, String datasetFile, int datasetProblems, int supportSize,
                         Map<String, String> hyperparameters, Double wallSeconds, double samplingSeconds, double backwardSeconds,
                         long generatedTokens, Integer threads, String kernels, String ipgVersion, String runDir, String generatedAt) {
    }

    /**
     * The scores of one site: S_i and its spread over the M prompts.
     *
     * @param site            e.g. blocks.3.mlp.hook_post
     * @param layer           the block
     * @param width           d, components
     * @param prompts         M
     * @param scores          S_i (d)
     * @param stdErr          standard error of S_i over prompts (d; NaN for M = 1)
     * @param positivePrompts prompts with IPG(i; x) > 0 (d)
     */
    public record SiteScores(String site, int layer, int width, int prompts, float[] scores, float[] stdErr, int[] positivePrompts) {
    }

    /**
     * One row of the top components table.
     *
     * @param rank            1 = largest |score| over all sites
     * @param site            where the component is
     * @param component       its index at the site
     * @param score           S_i
     * @param lower           lower end of the 95% interval of the mean over prompts (Student t; NaN for M = 1)
     * @param upper           upper end
     * @param positivePrompts prompts where its IPG is positive
     * @param prompts         M
     * @param sign            -1, 0 or 1
     * @param selected        among the components scaled and tracked in the model sections
     */
    public record TopRow(int rank, String site, int component, double score, double lower, double upper, int positivePrompts,
                         int prompts, int sign, boolean selected) {
    }

    /**
     * The completeness check of one site: sum_i S_i against the mean of Jbar(1) - Jbar(0).
     *
     * @param site        the site
     * @param sumScores   sum_i S_i
     * @param meanDelta   mean over prompts of Jbar(1) - Jbar(0)
     * @param gap         sumScores - meanDelta
     * @param gapStdErr   standard error of the gap over prompts (NaN for M = 1)
     * @param firstStep   mean of Jbar(alpha_1) - Jbar(0), the part a right Riemann sum cannot see
     * @param verdict     the plain-language classification
     * @param explanation one or two sentences for a reader
     * @param estimator   the advantage and differentiated policy, e.g. "rloo, tempered gradient"
     * @param warnings    the run's warnings about where along the path the scores come from
     */
    public record Completeness(String site, double sumScores, double meanDelta, double gap, double gapStdErr, double firstStep,
                               Verdict verdict, String explanation, String estimator, List<String> warnings) {
    }

    /** How the completeness check came out. */
    public enum Verdict {
        /** The gap is within Monte-Carlo noise. */
        HOLDS,
        /** Nothing changed along the path: every reward was the same, every score is zero. */
        TRIVIAL,
        /** The estimator (grpo, the truncated gradient, one point) is not expected to satisfy it, whatever the gap. */
        NOT_EXPECTED,
        /** The gap is real and mostly the first path step. */
        FIRST_STEP,
        /** The gap is real. */
        GAP,
        /** Too few prompts to tell noise from a gap. */
        UNDETERMINED
    }

    /**
     * Jbar(alpha) along the path for one prompt (or the mean, prompt = -1), starting at alpha = 0.
     *
     * @param site   the site
     * @param prompt the prompt index, or -1 for the mean over prompts
     * @param id     the problem id, or "mean"
     * @param alpha  path points, 0 first
     * @param jbar   Jbar at each point
     */
    public record Curve(String site, int prompt, String id, double[] alpha, double[] jbar) {
    }

    /**
     * A support prompt.
     *
     * @param index       position in the support set
     * @param id          problem id
     * @param question    the question text
     * @param gold        the gold answer, or null
     * @param completions per site, the completions sampled at the last path point
     */
    public record PromptInfo(int index, String id, String question, String gold, List<SiteCompletions> completions) {
    }

    /**
     * Completions sampled at one site's last path point.
     *
     * @param site   the site
     * @param alpha  the path point they were sampled at
     * @param jbar0  Jbar(0)
     * @param jbar1  Jbar(1)
     * @param items  the completions
     */
    public record SiteCompletions(String site, double alpha, double jbar0, double jbar1, List<Completion> items) {
    }

    /** One sampled completion and its reward. */
    public record Completion(String text, int tokens, double reward) {
    }

    /**
     * The method comparison of {@code ipg compare}: accuracy with intervals under enhance and
     * suppress per selection method, the original model, and a gamma sweep.
     *
     * @param source           the directory read
     * @param evalDataset      evaluation set file name
     * @param evalProblems     evaluation problems used
     * @param supportDataset   support set file name (where the methods' scores come from)
     * @param supportProblems  support problems used
     * @param architecture     the model's architecture
     * @param fingerprint      sha-256 fingerprint of the checkpoint ("in-memory" for a model without files)
     * @param site             the site whose components were selected
     * @param selection        e.g. "top 5% by signed score"
     * @param decoding         decoding of the evaluations, e.g. "greedy, 512 tokens"
     * @param original         the unmodified model
     * @param methods          one row per selection method, in the comparison's order
     * @param gammaSweep       accuracy and mean length against gamma (empty: no sweep)
     */
    public record Comparison(String source, String evalDataset, int evalProblems, String supportDataset, int supportProblems,
                             String architecture, String fingerprint, String site, String selection, String decoding, Arm original,
                             List<MethodResult> methods, List<SweepPoint> gammaSweep, List<String> verdict) {
    }

    /**
     * One evaluated configuration.
     *
     * @param gamma          the scale applied to the selected components (null for the original and an added vector)
     * @param strength       the strength of an added vector (null unless one was added)
     * @param accuracy       fraction correct (pooled over seeds)
     * @param lower          lower end of its 95% Wilson interval
     * @param upper          upper end
     * @param correct        problems answered correctly (summed over seeds)
     * @param n              problems evaluated (summed over seeds)
     * @param meanTokens     mean generated length
     * @param delta          accuracy minus the original's
     * @param seedAccuracies accuracy of each seed (one entry unless random selections were averaged)
     * @param intervention   what was done to the model, as the evaluation describes it
     */
    public record Arm(Double gamma, Double strength, double accuracy, double lower, double upper, int correct, int n, double meanTokens,
                      double delta, List<Double> seedAccuracies, String intervention) {
    }

    /** A selection method under enhance and suppress (either may be null: an added vector has no suppress). */
    public record MethodResult(String method, Arm enhance, Arm suppress) {
    }

    /** One point of a gamma sweep: method {@code method}'s selection scaled by {@code arm.gamma()}. */
    public record SweepPoint(String method, double gamma, Arm arm) {
    }

    /**
     * Activation frequency of the top components across normalized reasoning progress.
     *
     * @param bins          number of progress bins
     * @param quantile      a component fires at a token when |h| exceeds this quantile of its |h| over all analysed tokens
     * @param trajectories  trajectories analysed
     * @param tokensPerBin  generated tokens that fell in each bin
     * @param stepsPerTrajectory mean number of reasoning steps (blank-line separated) per trajectory
     * @param components    one row per tracked component
     */
    public record ProcessLevel(int bins, double quantile, int trajectories, long[] tokensPerBin, double stepsPerTrajectory,
                               List<ComponentFrequency> components) {
    }

    /**
     * One component's activation frequency per progress bin.
     *
     * @param site      where it is
     * @param component its index
     * @param score     S_i
     * @param threshold the |h| above which it counts as firing
     * @param frequency fraction of the bin's tokens at which it fires (NaN for an empty bin)
     */
    public record ComponentFrequency(String site, int component, double score, double threshold, double[] frequency) {
    }

    /**
     * One prompt's trajectories from the original and the intervened model, with per-token
     * log-probabilities under both.
     *
     * @param prompt       prompt index
     * @param id           problem id
     * @param question     the question
     * @param gold         the gold answer, or null
     * @param intervention what was done, e.g. "scale 10 components by gamma = 0"
     * @param trajectories the original model's trajectory, then the intervened model's
     */
    public record Example(int prompt, String id, String question, String gold, String intervention,
                          List<TokenTrajectory> trajectories) {
    }

    /**
     * A generated trajectory, token by token.
     *
     * @param label          which model generated it
     * @param correct        whether its extracted answer matches the gold one (null: no gold)
     * @param reward         the run's signal on it (null when it could not be computed)
     * @param ids            the generated token ids
     * @param tokens         each token's text (their concatenation is the completion)
     * @param logpOriginal   log p(token) under the original model
     * @param logpIntervened log p(token) under the intervened model
     */
    public record TokenTrajectory(String label, Boolean correct, Double reward, int[] ids, String[] tokens, float[] logpOriginal,
                                  float[] logpIntervened) {
    }
}
