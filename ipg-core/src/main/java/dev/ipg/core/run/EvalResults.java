package dev.ipg.core.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures of an evaluation as recorded: the {@code results} of an evaluation's
 * {@code summary.json}, and the figures of each row of {@code comparison.json}
 * ({@link ComparisonFiles.Row}). The evaluation computes them ({@code eval.EvalRun.Summary});
 * the comparison and the report read them from here.
 *
 * <p>The counts, the accuracy, its interval and the mean length are what every reader needs: a
 * file without one of them is refused ({@link #missing()} names it).
 *
 * @param problems                problems evaluated
 * @param correct                 answered correctly
 * @param accuracy                correct / problems
 * @param wilson95                the 95 % Wilson interval
 * @param meanGeneratedTokens     mean tokens generated per problem
 * @param thinkBlocks             completions per think-block state (absent when none was recorded)
 * @param meanThinkingTokens      mean tokens inside the think block (absent when not measured)
 * @param meanAnswerTokens        mean tokens after it (absent when not measured)
 * @param reflectionPerCompletion mean reflection words per completion
 * @param reflectionPer1kTokens   reflection words per 1000 generated tokens
 * @param answered                completions in which an answer was found
 * @param finishes                completions per stop reason
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EvalResults(Integer problems, Integer correct, Double accuracy, Interval wilson95,
                          @JsonProperty("mean_generated_tokens") Double meanGeneratedTokens,
                          @JsonProperty("think_blocks") @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Integer> thinkBlocks,
                          @JsonProperty("mean_thinking_tokens") Double meanThinkingTokens,
                          @JsonProperty("mean_answer_tokens") Double meanAnswerTokens,
                          @JsonProperty("reflection_words_per_completion") double reflectionPerCompletion,
                          @JsonProperty("reflection_words_per_1k_tokens") double reflectionPer1kTokens, int answered,
                          Map<String, Integer> finishes) {
    public EvalResults {
        thinkBlocks = thinkBlocks == null ? Map.of() : new TreeMap<>(thinkBlocks);
        finishes = finishes == null ? Map.of() : new TreeMap<>(finishes);
    }

    /** A confidence interval. */
    public record Interval(Double lower, Double upper) {
    }

    /**
     * The first figure every reader needs that is absent, as "integer 'correct'" or "number
     * 'wilson95.lower'"; null when all are there.
     */
    public String missing() {
        if (problems == null) {
            return "integer 'problems'";
        }
        if (correct == null) {
            return "integer 'correct'";
        }
        if (accuracy == null) {
            return "number 'accuracy'";
        }
        if (wilson95 == null || wilson95.lower() == null) {
            return "number 'wilson95.lower'";
        }
        if (wilson95.upper() == null) {
            return "number 'wilson95.upper'";
        }
        return meanGeneratedTokens == null ? "number 'mean_generated_tokens'" : null;
    }
}
