package dev.ipg.core.report;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.report.ReportData.Comparison;
import dev.ipg.core.report.ReportData.Example;
import dev.ipg.core.report.ReportData.ProcessLevel;
import dev.ipg.core.report.ReportData.Section;
import dev.ipg.core.report.RunReader.Component;
import dev.ipg.core.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Gathers a {@link ReportData} from a run directory, an optional comparison directory and an optional model. */
public final class Report {

    /**
     * What to gather.
     *
     * @param topRows    rows of the top components table
     * @param components components scaled and tracked in the model sections (top by signed score)
     * @param probe      bounds of the model sections
     */
    public record Options(int topRows, int components, ModelProbe.Options probe) {

        public Options {
            if (topRows < 1 || components < 1) {
                throw new IpgException("the report needs at least one table row and one component, got " + topRows + " and " + components);
            }
        }

        /** 20 table rows, the top 10 components, {@link ModelProbe.Options#defaults()}. */
        public static Options defaults() {
            return new Options(20, 10, ModelProbe.Options.defaults());
        }
    }

    private Report() {
    }

    /**
     * Reads {@code runDir} (and {@code comparisonDir} unless null) and, when {@code model} and
     * {@code tok} are given, runs the model sections; otherwise those sections carry
     * {@code noModelReason}.
     */
    public static ReportData gather(Path runDir, Path comparisonDir, Transformer model, Tokenizer tok, String noModelReason,
                                    Options opt) {
        RunReader.Run run = RunReader.read(runDir);
        List<Component> selected = RunReader.selectTop(run.sites(), opt.components());
        Set<String> keys = new HashSet<>();
        selected.forEach(c -> keys.add(RunReader.key(c.site().toString(), c.index())));
        Section<Comparison> comparison = comparisonDir == null
                ? Section.absent("No method comparison was given: run ipg compare and pass its output directory with --comparison "
                        + "to show enhance/suppress accuracy per method and the gamma sweep.")
                : comparisonSection(ComparisonFile.read(comparisonDir), run.header());
        Section<ProcessLevel> process;
        Section<List<Example>> examples;
        if (model == null || tok == null) {
            String why = "Needs the model: " + (noModelReason == null ? "none was given" : noModelReason)
                    + ". Pass --model DIR to include this section.";
            process = Section.absent(why);
            examples = Section.absent(why);
        } else {
            ModelProbe probe = new ModelProbe(model, tok, run, opt.probe());
            process = probe.processLevel(selected);
            examples = probe.examples(selected);
        }
        Path protocolFile = comparisonDir == null ? null : ProtocolFile.find(comparisonDir);
        Section<ProtocolFile.View> protocol = protocolFile == null
                ? Section.absent("No localization protocol: ipg compare writes protocol.json beside comparison.json (or one directory up "
                        + "for a sweep over several sites).")
                : Section.of(ProtocolFile.read(protocolFile), null);
        return new ReportData(run.header(), run.sites(), RunReader.topRows(run.sites(), opt.topRows(), keys), run.completeness(),
                run.curves(), run.meanCurves(), run.prompts(), comparison, process, examples, protocol);
    }

    /** The comparison, with a note when it was measured on another checkpoint or at a site the run did not attribute. */
    static Section<Comparison> comparisonSection(Comparison c, ReportData.Header h) {
        List<String> notes = new ArrayList<>();
        if (c.fingerprint() != null && !c.fingerprint().equals(h.fingerprint())) {
            notes.add("This comparison was measured on a different checkpoint (fingerprint " + abbreviate(c.fingerprint())
                    + ") than the attribution run (" + abbreviate(h.fingerprint()) + ").");
        }
        if (c.site() != null && !h.sites().contains(c.site())) {
            notes.add("It selects components at " + c.site() + ", a site the attribution run did not score.");
        }
        return Section.of(c, notes.isEmpty() ? null : String.join(" ", notes));
    }

    private static String abbreviate(String fingerprint) {
        return fingerprint.length() > 12 ? fingerprint.substring(0, 12) + "..." : fingerprint;
    }
}
