package dev.ipg.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.model.Site;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.Selection;
import dev.ipg.core.steer.Top;
import java.nio.file.Path;

/**
 * The result of an Integrated Policy Gradient run: the scores of one site and the run record.
 *
 * @param dir    the run directory ({@code scores.safetensors}, {@code top.csv}, {@code run.json})
 * @param scores the site's scores, one per component
 * @param run    the content of {@code run.json} (configuration, per-prompt rewards, completeness check)
 */
public record Attribution(Path dir, ScoresFile scores, JsonNode run) {

    /**
     * IPG options: the paper's defaults ({@link IpgOptions#paper()}) with a smaller budget.
     *
     * @param steps        q, points on the path from the baseline to the activation
     * @param samples      N, trajectories per point (at least 2)
     * @param maxNewTokens generation budget per trajectory
     * @param seed         master seed
     * @return the options
     */
    public static IpgOptions options(int steps, int samples, int maxNewTokens, long seed) {
        IpgOptions p = IpgOptions.paper();
        return new IpgOptions(steps, samples, p.temperature(), p.topP(), p.topK(), maxNewTokens, p.advantage(), p.baseline(),
                p.sampling(), p.positions(), p.quadrature(), seed);
    }

    /** @return the site attributed */
    public Site site() {
        return scores.site();
    }

    /** @return the sum of the scores (one side of the completeness check) */
    public double sumOfScores() {
        return run.path("completeness").path(site().toString()).path("sum_scores").asDouble();
    }

    /** @return the mean of Jbar(1) - Jbar(0) over the prompts (the other side) */
    public double rewardChange() {
        return run.path("completeness").path(site().toString()).path("mean_jbar1_minus_jbar0").asDouble();
    }

    /**
     * The top components by signed score.
     *
     * @param top how many: {@code new Top.Percent(5)} or {@code new Top.Count(20)}
     * @return the selection, best first
     */
    public Selection top(Top top) {
        return scores.select(top, Rank.SIGNED);
    }
}
