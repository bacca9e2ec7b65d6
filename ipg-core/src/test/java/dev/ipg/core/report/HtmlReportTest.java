package dev.ipg.core.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The written files, without a browser: a report without model or comparison, escaping, the data beside the page. */
class HtmlReportTest {

    @TempDir
    static Path tmp;

    static ReportData data;
    static List<Path> files;
    static String html;

    @BeforeAll
    static void setUp() throws IOException {
        ReportFixture fx = ReportFixture.shared();
        data = Report.gather(fx.run, null, null, null, "skipped for the test", Report.Options.defaults());
        files = HtmlReport.write(data, tmp.resolve("nested/dir/my-report.html"));
        html = Files.readString(files.getFirst());
    }

    @Test
    void sectionsWithoutTheirInputsSaySoInsteadOfShowingData() {
        assertNull(data.comparison().value());
        assertNull(data.process().value());
        assertNull(data.examples().value());
        assertTrue(html.contains("No method comparison was given"), "comparison note");
        assertTrue(html.contains("Needs the model: skipped for the test"), "model note");
        assertFalse(html.contains("id=\"chart-comparison\""));
        assertFalse(html.contains("id=\"chart-process\""));
    }

    @Test
    void theCompletenessBadgeNamesTheEstimator() {
        // the fixture runs rloo with the default (tempered) gradient
        assertTrue(html.contains("This run: <span id=\"estimator\">rloo, tempered gradient</span>"), "estimator in the lead");
        for (ReportData.Completeness c : data.completeness()) {
            assertEquals("rloo, tempered gradient", c.estimator());
            assertTrue(html.contains("(rloo, tempered gradient)</span>"), "estimator in the badge of " + c.site());
        }
        assertTrue(html.contains("Under the GRPO advantage"), "the lead says GRPO is not expected to hold");
    }

    @Test
    void modelAndDatasetTextNeverAppearsAsMarkup() {
        // the chart library itself holds markup in strings (its save-as-image page); look at the rest
        String library = Html.inlineScript(HtmlReport.resource("/META-INF/resources/webjars/echarts/" + HtmlReport.ECHARTS_VERSION
                + "/dist/echarts.min.js"));
        assertEquals(1, count(html, library));
        String page = html.replace(library, "");
        assertFalse(page.contains("<script>window.__pwned"), "completion markup in the page source");
        assertFalse(page.contains("<img"), "an img tag in the page source");
        assertFalse(page.contains("<b>bold"), "question markup in the page source");
        Matcher m = Pattern.compile("<script").matcher(page);
        int scripts = 0;
        while (m.find()) {
            scripts++;
        }
        assertEquals(3, scripts, "the data block, the chart library and the page script");
        assertEquals(1, count(page, "</body>"));
    }

    @Test
    void theEmbeddedDataIsTheJsonWrittenBesideThePage() throws IOException {
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"report-data\">(.*?)</script>", Pattern.DOTALL).matcher(html);
        assertTrue(m.find());
        ObjectMapper om = new ObjectMapper();
        JsonNode embedded = om.readTree(m.group(1));
        Path json = tmp.resolve("nested/dir/my-report-data.json");
        assertEquals(om.readTree(Files.readString(json)), embedded);
        assertEquals(ReportFixture.QUESTION_MARKUP, embedded.at("/prompts/0/question").asText());
        assertEquals(2, embedded.get("sites").size());
        assertEquals(32, embedded.at("/sites/0/scores").size());
        assertTrue(embedded.at("/header/hyperparameters/steps").isTextual());
    }

    @Test
    void csvFilesHoldTheSameNumbers() throws IOException {
        Path dir = tmp.resolve("nested/dir");
        List<String> top = Files.readAllLines(dir.resolve("my-report-top.csv"));
        assertEquals(1 + 20, top.size());
        String[] first = top.get(1).split(",");
        assertEquals(data.top().getFirst().site(), first[1]);
        assertEquals(data.top().getFirst().component(), Integer.parseInt(first[2]));
        assertEquals(data.top().getFirst().score(), Double.parseDouble(first[3]), 1e-7);
        assertEquals(1 + 64, Files.readAllLines(dir.resolve("my-report-scores.csv")).size());
        // 2 sites x (3 prompts + mean) x 3 path points
        assertEquals(1 + 2 * 4 * 3, Files.readAllLines(dir.resolve("my-report-curves.csv")).size());
        assertEquals(1 + 2, Files.readAllLines(dir.resolve("my-report-completeness.csv")).size());
        assertEquals(1, Files.readAllLines(dir.resolve("my-report-process.csv")).size(), "header only without the model");
        assertEquals(8, files.size());
    }

    @Test
    void theChartLibraryIsInlinedWithItsLicenseNamed() {
        assertTrue(html.contains("Apache ECharts " + HtmlReport.ECHARTS_VERSION));
        assertTrue(html.contains("Apache License"));
        assertTrue(html.length() > 900_000, "echarts.min.js is about 1 MB");
        assertFalse(html.contains("src=\"http"), "nothing loaded from the network");
        assertTrue(html.contains("connect-src 'none'"));
    }

    @Test
    void notANumberIsWrittenAsNullSoEveryJsonReaderAcceptsIt() throws Exception {
        var scores = new ReportData.SiteScores("blocks.0.mlp.hook_post", 0, 2, 1, new float[] {0.5f, Float.NaN},
                new float[] {Float.NaN, Float.NaN}, new int[] {1, 0});
        String json = HtmlReport.JSON.writeValueAsString(scores);
        assertEquals("{\"site\":\"blocks.0.mlp.hook_post\",\"layer\":0,\"width\":2,\"prompts\":1,\"scores\":[0.5,null],"
                + "\"std_err\":[null,null],\"positive_prompts\":[1,0]}", json);
        var arm = new ReportData.Arm(null, 2.0, 0.25, Double.NaN, Double.POSITIVE_INFINITY, 1, 4, Double.NaN, 0, List.of(0.25), "add");
        assertEquals("{\"gamma\":null,\"strength\":2.0,\"accuracy\":0.25,\"lower\":null,\"upper\":null,\"correct\":1,\"n\":4,"
                + "\"mean_tokens\":null,\"delta\":0.0,\"seed_accuracies\":[0.25],\"intervention\":\"add\"}", HtmlReport.JSON.writeValueAsString(arm));
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) {
            n++;
        }
        return n;
    }
}
