package dev.ipg.core.eval;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.run.EvalResults;
import dev.ipg.core.run.RunDirectory;

/**
 * The files of an evaluation directory as records, shared by {@link EvalRun} (the writer) and
 * its readers (the comparison, {@link EvalRun#readSummary}):
 * <pre>
 *   completions.jsonl   one {@link EvalRun.Item} per line
 *   summary.json        {@link SummaryFile}: configuration, {@link EvalResults}, {@link Timings}
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
                              EvalResults results, Timings timings) {
        public SummaryFile {
            if (results == null) {
                throw new IllegalArgumentException("no 'results'");
            }
            if (results.missing() != null) {
                throw new IllegalArgumentException("'results' has no " + results.missing());
            }
        }
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
