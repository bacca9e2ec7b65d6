package dev.ipg.cli;

import dev.ipg.core.IpgException;
import dev.ipg.core.steer.Top;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * How many top components a command selects: {@code --top-percent P} or {@code --top-count K}
 * (the same words as the {@code top-percent=} and {@code top-count=} of an intervention spec).
 * {@code --top} and {@code --top-k} no longer select components anywhere ({@code --top-k} is the
 * sampling top-k of the commands that sample); the retired {@code --top} is refused with the new
 * names.
 */
final class SelectionOptions {

    @Option(names = "--top-percent", paramLabel = "P",
            description = "Select the top P percent of the site's components (e.g. 5 or 2.5; at least one component when P > 0).")
    String topPercent;

    @Option(names = "--top-count", paramLabel = "K", description = "Select the top K components.")
    String topCount;

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--top", hidden = true, paramLabel = "X")
    void retiredTop(String value) {
        throw retired(spec, "--top", "--top-percent P (a percentage) or --top-count K (a number of components)");
    }

    /** Whether either option was given. */
    boolean given() {
        return topPercent != null || topCount != null;
    }

    /** The selection size; exactly one of the two options must have been given. */
    Top top() {
        if ((topPercent == null) == (topCount == null)) {
            throw new IpgException("give one of --top-percent P or --top-count K");
        }
        try {
            return topPercent != null ? Top.percent(topPercent) : Top.count(topCount);
        } catch (IpgException e) {
            throw new IpgException("--" + e.getMessage());
        }
    }

    /** The refusal of a retired option, naming its replacement (exit code 2, like any usage error). */
    static CommandLine.ParameterException retired(CommandSpec spec, String old, String replacement) {
        return new CommandLine.ParameterException(spec.commandLine(), old + " is retired: use " + replacement);
    }
}
