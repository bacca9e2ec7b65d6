package dev.ipg.core.attribution.baselines;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ipg.core.attribution.AttributionRun;
import dev.ipg.core.attribution.Candidates;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.run.Seeds;
import dev.ipg.core.model.Site;
import dev.ipg.core.signal.Signal;
import java.nio.file.Path;
import java.util.List;

/**
 * Raw policy gradient: the IPG estimator with a single path point at alpha = 1 (q = 1, right
 * Riemann rule), i.e. the ablation of the path integral. It is an {@link AttributionRun}; its
 * run.json records {@code steps 1} and {@code riemann-right}. Its random streams carry the label
 * {@code pg} ({@link Seeds#forPrompt}), so with the seed of an IPG run it draws samples independent
 * of IPG's (IPG's first path point would otherwise share them).
 */
public final class PolicyGradientBaseline {

    private PolicyGradientBaseline() {
    }

    /** The label of the raw policy gradient's random streams. */
    public static final String STREAMS = "pg";

    /**
     * {@code ipg} with q = 1 at alpha = 1 over the whole path (alpha_min 0, every component), its own
     * random streams, every other hyperparameter kept.
     */
    public static IpgOptions options(IpgOptions ipg) {
        return new IpgOptions(1, ipg.samples(), ipg.temperature(), ipg.topP(), ipg.topK(), ipg.maxNewTokens(), ipg.advantage(),
                ipg.baseline(), ipg.sampling(), ipg.positions(), Quadrature.RIEMANN_RIGHT, ipg.seed(), ipg.gradient(), 0,
                Candidates.ALL, STREAMS);
    }

    /** Runs (or resumes) the raw policy gradient attribution at {@code site}. */
    public static JsonNode run(Support s, Site site, IpgOptions ipg, Signal signal, String signalSpec, Path dir) {
        var spec = new AttributionRun.Spec(List.of(site), options(ipg), signalSpec, s.format(), 50);
        var run = new AttributionRun(s.model(), s.tok(), s.data(), signal, spec, s.eos(), dir, s.progress());
        return run.run(s.used(), s.offload().attribution(run, s.used()));
    }
}
