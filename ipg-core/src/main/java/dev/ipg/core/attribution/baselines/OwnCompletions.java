package dev.ipg.core.attribution.baselines;

import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.steer.Steering;
import java.nio.file.Path;

/**
 * The model's own completions of the support prompts (its "reasoning trajectories"), generated
 * by an {@link EvalRun} of the unmodified model so they are resumable, shareable between
 * baselines and come with the support-set accuracy.
 */
final class OwnCompletions {

    private OwnCompletions() {
    }

    /** Generates (or reads back) the completions in {@code dir}. */
    static EvalRun.Result of(Support s, EvalRun.Decoding decoding, Path dir) {
        s.progress().message("the model's own completions of " + s.used() + " support prompts (" + decoding.describe() + ") in " + dir);
        var spec = EvalRun.Spec.of(s.format(), decoding).withSteering(Steering.none());
        var run = new EvalRun(s.model(), s.tok(), s.data(), spec, s.eos(), dir, s.progress());
        return run.run(s.used(), s.offload().eval(run, s.used()));
    }
}
