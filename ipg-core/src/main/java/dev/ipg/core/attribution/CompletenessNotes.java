package dev.ipg.core.attribution;

import dev.ipg.core.run.CompletenessCheck;
import java.util.Locale;

/** What the completeness check means for a run's estimator, as run.json records it ({@link CompletenessCheck#why}). */
final class CompletenessNotes {

    private CompletenessNotes() {
    }

    private static CompletenessCheck.Reason why(IpgOptions o) {
        return CompletenessCheck.why(o.advantage().name(), o.gradient().cliName(), !o.samplingPolicy().untruncated(), o.steps());
    }

    /** Whether sum_i S_i should match Jbar(1) - Jbar(start) under {@code o}. */
    static boolean expected(IpgOptions o) {
        return why(o) == CompletenessCheck.Reason.EXPECTED;
    }

    /** The check's meaning in one sentence. */
    static String note(IpgOptions o) {
        String adv = o.advantage().name().toLowerCase(Locale.ROOT);
        String path = o.alphaMin() == 0 ? "Jbar(1) - Jbar(0)" : "Jbar(1) - Jbar(" + o.alphaMin() + ")";
        return switch (why(o)) {
            case ONE_POINT -> "one path point: the scores are a local gradient at alpha = 1, not a path integral; completeness does not apply";
            case ADVANTAGE -> "advantage " + adv + ": not expected to hold (each group is divided by its own standard deviation); "
                    + "sum_i S_i estimates " + path + " only with --advantage rloo";
            case TRUNCATED_GRADIENT -> "advantage rloo with the truncated policy's gradient under top-k/top-p sampling: not expected to hold "
                    + "(log pi is 0 on one-token nuclei, so its gradient misses that part of the change)";
            case EXPECTED -> "advantage rloo, " + o.gradient().cliName() + " policy gradient: sum_i S_i estimates " + path
                    + (o.samplingPolicy().untruncated() ? " in expectation" : " approximately (sampling truncates)")
                    + "; Jbar(alpha_1) - Jbar(start) is the part a right Riemann sum cannot see";
        };
    }
}
