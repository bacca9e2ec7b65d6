package dev.ipg.core.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.model.Transformer;
import dev.ipg.core.steer.Rank;
import dev.ipg.core.steer.ScoresFile;
import dev.ipg.core.steer.Top;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The model sections of a report with a comparison show the intervention the comparison
 * evaluated: its IPG selection (rule and scores) and its suppress gamma, not the report's own
 * defaults; on another checkpoint the report keeps its defaults and says why.
 */
class ReportInterventionTest {

    @Test
    void beforeAfterAndTrackedMarksUseTheComparisonsSelectionAndGamma() throws Exception {
        ComparisonFixture cf = ComparisonFixture.shared();
        var ipgRun = cf.out.resolve("methods").resolve("ipg");
        ReportData data;
        // defaults deliberately unlike the comparison's: 3 components and gamma 5
        var opt = new Report.Options(40, 3, new ModelProbe.Options(2, 1, 5, 4, 0.9, 3));
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(cf.model, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(cf.model)) {
            data = Report.gather(ipgRun, cf.out, m, tok, null, opt);
        }
        // the comparison's rule: top 25% by signed score of its own IPG scores at blocks.0.mlp.hook_post, suppressed with gamma 0
        ScoresFile scores = ScoresFile.load(ipgRun, ComparisonFixture.SITE);
        int[] expected = scores.select(new Top.Percent(25), Rank.SIGNED).components();
        assertEquals(8, expected.length, "25% of 32 MLP neurons");
        Set<Integer> want = Arrays.stream(expected).boxed().collect(Collectors.toCollection(TreeSet::new));

        List<Integer> tracked = data.process().value().components().stream().map(ReportData.ComponentFrequency::component).toList();
        assertEquals(Arrays.stream(expected).boxed().toList(), tracked, "process-level rows are the comparison's components, best first");
        Set<Integer> marked = data.top().stream().filter(ReportData.TopRow::selected).map(ReportData.TopRow::component)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(want, marked, "the top table marks exactly the comparison's components");

        ReportData.Example ex = data.examples().value().getFirst();
        assertTrue(ex.intervention().contains("top 25% by signed score at blocks.0.mlp.hook_post: 8 components"), ex.intervention());
        assertTrue(ex.intervention().contains("gamma = 0"), ex.intervention());
        assertTrue(data.examples().note().contains("gamma = 0, as in its suppress row"), data.examples().note());
        // the suppress row the comparison measured used the same gamma
        var suppress = data.comparison().value().methods().stream().filter(r -> r.method().equals("ipg")).findFirst().orElseThrow().suppress();
        assertEquals(0.0, suppress.gamma(), 0);

        String html = HtmlReport.render(data, HtmlReport.json(data));
        assertTrue(html.contains("scaled and tracked in the sections below: the comparison&#39;s IPG selection")
                || html.contains("scaled and tracked in the sections below: the comparison's IPG selection"), "top table lead names the selection");
    }

    @Test
    void onAnotherCheckpointTheReportKeepsItsOwnSelectionAndSaysSo() throws Exception {
        ReportFixture fx = ReportFixture.shared();
        ComparisonFixture cf = ComparisonFixture.shared();
        ReportData data;
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(fx.model, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(fx.model)) {
            data = Report.gather(fx.run, cf.out, m, tok, null, new Report.Options(20, 4, new ModelProbe.Options(2, 1, 0, 4, 0.9, 3)));
        }
        assertEquals(4, data.process().value().components().size());
        String what = data.examples().value().getFirst().intervention();
        assertTrue(what.startsWith("the top 4 components by signed score scaled by gamma = 0"), what);
        assertTrue(what.contains("not the comparison's selection: it was measured on another checkpoint"), what);
    }
}
