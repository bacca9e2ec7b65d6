package dev.ipg.core.eval;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.run.RunDirectory;
import java.util.Map;
import java.util.TreeMap;

/**
 * The files of an evaluation directory as records, shared by {@link EvalRun} (the writer) and
 * its readers (the comparison, {@link EvalRun#readSummary}):
 * <pre>
 *   completions.jsonl   one {@link EvalRun.Item} per line
 *   summary.json        {@link SummaryFile}: configuration, {@link Results}, {@link Timings}
 * </pre>
 */
public final class EvalFiles {

    private EvalFiles() {
    }

    /**
     * {@code summary.json}.
     *
     * @param ipgVersion   the ipg that wrote it
     * @param config       the configuration (as in eval-config.json, with {@code dataset.used})
     * @param intervention the intervention in words
     * @param decoding     the decoding in words
     * @param results      the figures
     * @param timings      what this invocation took
     */
    public record SummaryFile(@JsonProperty("ipg_version") String ipgVersion, JsonNode config, String intervention, String decoding,
                              Results results, Timings timings) {
        public SummaryFile {
            if (results == null) {
                throw new IllegalArgumentException("no 'results'");
            }
        }
    }

    /**
     * The figures of an evaluation as recorded (see {@link EvalRun.Summary}).
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
    public record Results(int problems, int correct, double accuracy, Interval wilson95,
                          @JsonProperty("mean_generated_tokens") double meanGeneratedTokens,
                          @JsonProperty("think_blocks") @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Integer> thinkBlocks,
                          @JsonProperty("mean_thinking_tokens") Double meanThinkingTokens,
                          @JsonProperty("mean_answer_tokens") Double meanAnswerTokens,
                          @JsonProperty("reflection_words_per_completion") double reflectionPerCompletion,
                          @JsonProperty("reflection_words_per_1k_tokens") double reflectionPer1kTokens, int answered,
                          Map<String, Integer> finishes) {
        public Results {
            thinkBlocks = thinkBlocks == null ? Map.of() : new TreeMap<>(thinkBlocks);
            finishes = finishes == null ? Map.of() : new TreeMap<>(finishes);
        }

        /** The record of {@code s}. */
        static Results of(EvalRun.Summary s) {
            boolean lengths = !s.thinkBlocks().isEmpty() && Double.isFinite(s.meanThinkingTokens());
            return new Results(s.problems(), s.correct(), s.accuracy(), new Interval(s.interval().lower(), s.interval().upper()),
                    s.meanGeneratedTokens(), s.thinkBlocks(), lengths ? s.meanThinkingTokens() : null,
                    lengths ? s.meanAnswerTokens() : null, s.reflectionPerCompletion(), s.reflectionPer1kTokens(), s.answered(),
                    s.finishes());
        }

        /** The figures (the interval recomputed from the counts). */
        EvalRun.Summary summary() {
            return new EvalRun.Summary(problems, correct, Wilson.of(correct, problems), meanGeneratedTokens, reflectionPerCompletion,
                    reflectionPer1kTokens, answered, finishes, thinkBlocks, meanThinkingTokens == null ? Double.NaN : meanThinkingTokens,
                    meanAnswerTokens == null ? Double.NaN : meanAnswerTokens);
        }
    }

    /** A confidence interval. */
    public record Interval(double lower, double upper) {
    }

    /**
     * What one invocation took (a resumed evaluation counts only its part).
     *
     * @param wallSeconds       wall time
     * @param generationSeconds time spent generating
     * @param generatedTokens   tokens generated
     * @param threads           worker threads
     * @param kernels           the kernel set
     */
    public record Timings(@JsonProperty("wall_s_this_invocation") double wallSeconds,
                          @JsonProperty("generation_s_this_invocation") double generationSeconds,
                          @JsonProperty("generated_tokens_this_invocation") long generatedTokens, Integer threads, String kernels) {

        /** The timings of an invocation on {@code machine}. */
        static Timings of(double wallSeconds, double generationSeconds, long generatedTokens, RunDirectory.Machine machine) {
            return new Timings(wallSeconds, generationSeconds, generatedTokens, machine.threads(), machine.kernels());
        }
    }
}
