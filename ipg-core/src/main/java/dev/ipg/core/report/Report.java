package dev.ipg.core.report;

import dev.ipg.core.IpgException;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.report.ReportData.Comparison;
import dev.ipg.core.report.ReportData.Example;
import dev.ipg.core.report.ReportData.ProcessLevel;
import dev.ipg.core.report.ReportData.Section;
import dev.ipg.core.report.RunReader.Component;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.Selection;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tokenize.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Gathers a {@link ReportData} from a run directory, an optional comparison directory and an optional model. */
public final class Report {

    /**
     * What to gather.
     *
     * @param topRows    rows of the top components table
     * @param components components scaled and tracked in the model sections (top by signed score) when no comparison
     *                   measured on the run's checkpoint gives its IPG selection
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
        Section<Comparison> comparison = comparisonDir == null
                ? Section.absent("No method comparison was given: run ipg compare and pass its output directory with --comparison "
                        + "to show enhance/suppress accuracy per method and the gamma sweep.")
                : comparisonSection(ComparisonFile.read(comparisonDir), run.header());
        Tracked tracked = tracked(run, comparisonDir, comparison, opt);
        List<Component> selected = tracked.components();
        Set<String> keys = new HashSet<>();
        selected.forEach(c -> keys.add(RunReader.key(c.site().toString(), c.index())));
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
            examples = probe.examples(selected, tracked.gamma(), tracked.what());
        }
        Path protocolFile = comparisonDir == null ? null : ProtocolFile.find(comparisonDir);
        Section<ProtocolFile.View> protocol = protocolFile == null
                ? Section.absent("No localization protocol: ipg compare writes protocol.json beside comparison.json (or one directory up "
                        + "for a sweep over several sites).")
                : Section.of(ProtocolFile.read(protocolFile), null);
        return new ReportData(run.header(), run.sites(), RunReader.topRows(run.sites(), opt.topRows(), keys), run.completeness(),
                run.curves(), run.meanCurves(), run.prompts(), comparison, process, examples, protocol);
    }

    /**
     * The components the model sections scale and track, and how.
     *
     * @param components the components, best first
     * @param gamma      the scale of the before/after section
     * @param what       the intervention in words, as the page states it
     */
    record Tracked(List<Component> components, double gamma, String what) {
    }

    /**
     * With a comparison measured on the run's checkpoint that evaluated IPG: the IPG selection it
     * evaluated (its rule on its own IPG scores) and its suppress gamma, so that the before/after
     * section shows what the comparison's suppress row measured. Otherwise the run's top
     * {@code opt.components()} by signed score and the probe's gamma.
     */
    static Tracked tracked(RunReader.Run run, Path comparisonDir, Section<Comparison> comparison, Options opt) {
        ComparisonFile.IpgIntervention iv = comparisonDir == null ? null : ComparisonFile.ipgIntervention(comparisonDir);
        Comparison c = comparison.value();
        boolean sameModel = c != null && c.fingerprint() != null && c.fingerprint().equals(run.header().fingerprint());
        if (iv != null && sameModel) {
            ScoresFile scores = ScoresFile.load(iv.scores(), iv.site());
            Selection sel = scores.select(iv.top(), iv.rank());
            List<Component> comps = new ArrayList<>();
            for (int i : sel.components()) {
                comps.add(new Component(iv.site(), i, scores.scores()[i]));
            }
            String what = String.format(Locale.ROOT, "the comparison's IPG selection (top %s by %s score at %s: %d component%s) scaled by "
                    + "gamma = %s, as in its suppress row", Top.format(iv.top()), iv.rank().cliName(), iv.site(), comps.size(),
                    comps.size() == 1 ? "" : "s", RunReader.fmt(iv.suppress()));
            return new Tracked(List.copyOf(comps), iv.suppress(), what);
        }
        List<Component> top = RunReader.selectTop(run.sites(), opt.components());
        String what = String.format(Locale.ROOT, "the top %d component%s by signed score scaled by gamma = %s", top.size(),
                top.size() == 1 ? "" : "s", RunReader.fmt(opt.probe().gamma()));
        if (comparisonDir != null) {
            what += iv == null ? " (the comparison evaluated no IPG selection to show instead)"
                    : " (not the comparison's selection: it was measured on another checkpoint)";
        }
        return new Tracked(top, opt.probe().gamma(), what);
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
