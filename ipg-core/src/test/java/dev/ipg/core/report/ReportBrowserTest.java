package dev.ipg.core.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ipg.core.compare.Comparison;
import dev.ipg.core.eval.EvalRun;
import dev.ipg.core.model.Transformer;
import dev.ipg.core.tensor.KernelsProvider;
import dev.ipg.core.tensor.Parallel;
import dev.ipg.core.tokenize.Tokenizer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The report in a real browser: Debian's headless Chromium driven by Selenium opens the HTML
 * file from disk (file://, no network) and the test checks what a reader would see.
 */
class ReportBrowserTest {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    static Path tmp;

    static Path html;
    static ChromeDriver driver;
    static ComparisonFixture comparison;

    @BeforeAll
    static void setUp() throws IOException {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("the browser test needs Debian's headless Chromium: " + CHROMIUM + " and " + CHROMEDRIVER
                    + " (apt-get install chromium chromium-driver)");
        }
        ReportFixture fx = ReportFixture.shared();
        comparison = ComparisonFixture.shared();
        Path cmp = comparison.out;
        ReportData data;
        try (Parallel pool = Parallel.of(2); Transformer m = Transformer.load(fx.model, KernelsProvider.lookup(), pool);
             Tokenizer tok = Tokenizer.load(fx.model)) {
            data = Report.gather(fx.run, cmp, m, tok, null,
                    new Report.Options(20, 6, new ModelProbe.Options(6, 2, 0, 8, 0.9, 8)));
        }
        html = HtmlReport.write(data, tmp.resolve("out").resolve("report.html")).getFirst();
        // kept for inspection beside the screenshot
        Files.createDirectories(Path.of("target"));
        Files.copy(html, Path.of("target/report-test.html"), StandardCopyOption.REPLACE_EXISTING);

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--user-data-dir=" + Files.createDirectories(tmp.resolve("chromium-profile")),
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-extensions", "--window-size=1280,1000");
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        driver.get(html.toUri().toString());
        new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> Boolean.TRUE.equals(
                ((JavascriptExecutor) d).executeScript("return !!(window.__ipgReport && window.__ipgReport.ready);")));
    }

    @AfterAll
    static void tearDown() {
        if (driver != null) {
            driver.quit();
        }
    }

    static Object js(String script) {
        return ((JavascriptExecutor) driver).executeScript(script);
    }

    /** Coloured (non-transparent) pixels of the canvases in each chart container, by its data-chart name. */
    static final String PAINTED = """
            var out = {};
            document.querySelectorAll('.chart').forEach(function (c) {
              var n = 0;
              c.querySelectorAll('canvas').forEach(function (cv) {
                if (cv.width === 0 || cv.height === 0) { return; }
                var px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
                for (var i = 3; i < px.length; i += 4) { if (px[i] !== 0) { n++; } }
              });
              n += c.querySelectorAll('svg path, svg rect').length;
              out[c.getAttribute('data-chart')] = n;
            });
            return out;
            """;

    @Test
    @SuppressWarnings("unchecked")
    void everyChartHasDrawnSomething() {
        Map<String, Object>[] painted = new Map[1];
        new WebDriverWait(driver, Duration.ofSeconds(20)).until(d -> {
            painted[0] = (Map<String, Object>) js(PAINTED);
            return painted[0].values().stream().allMatch(v -> ((Number) v).longValue() > 2000);
        });
        assertEquals(new TreeSet<>(Set.of("heatmap", "scores", "curves", "comparison", "sweep", "process")),
                new TreeSet<>(painted[0].keySet()), "chart containers on the page");
        assertEquals(6L, ((Number) js("return window.__ipgReport.charts;")).longValue());
    }

    @Test
    void injectedMarkupIsShownAsTextAndNeverRuns() {
        assertEquals(Boolean.TRUE, js("return window.__pwned === undefined && window.__pwnedImg === undefined "
                + "&& window.__pwnedQuestion === undefined;"), "markup from a completion or a question ran");
        assertEquals(0L, ((Number) js("return document.querySelectorAll('img').length;")).longValue(), "no image was created");
        assertEquals(3L, ((Number) js("return document.querySelectorAll('script').length;")).longValue(),
                "only the data block, the chart library and the page script");
        String prompts = (String) js("return document.getElementById('prompt-list').textContent;");
        assertTrue(prompts.contains(ReportFixture.COMPLETION_MARKUP), "the completion's markup shows as text");
        assertTrue(prompts.contains(ReportFixture.QUESTION_MARKUP), "the question's markup shows as text");
        String examples = (String) js("return document.getElementById('example-list').textContent;");
        assertTrue(examples.contains(ReportFixture.QUESTION_MARKUP));
        String title = driver.getTitle();
        assertTrue(title.startsWith("IPG report"), title);
    }

    @Test
    void sectionsShowTheirData() {
        long rows = ((Number) js("return document.querySelectorAll('#top-table tbody tr').length;")).longValue();
        assertEquals(20, rows);
        long examples = ((Number) js("return document.querySelectorAll('#example-list .example').length;")).longValue();
        assertEquals(2, examples);
        long tokens = ((Number) js("return document.querySelectorAll('#example-list .tok').length;")).longValue();
        assertTrue(tokens > 0 && tokens <= 2 * 2 * 8, tokens + " tokens shown");
        long prompts = ((Number) js("return document.querySelectorAll('#prompt-list details').length;")).longValue();
        assertEquals(3, prompts);
        assertEquals(0L, ((Number) js("return document.querySelectorAll('p.missing').length;")).longValue(),
                "every section has its data");
    }

    static String pct(double v) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    /** The cells a reader sees for a row of the comparison: figures as measured by the evaluations. */
    static List<String> cells(Comparison.Row r, Comparison.Row original) {
        EvalRun.Summary s = r.summary();
        boolean isOriginal = r == original;
        String method = r.method() + (r.seedAccuracies().size() > 1 ? " (" + r.seedAccuracies().size() + " seeds: "
                + String.join(", ", r.seedAccuracies().stream().map(ReportBrowserTest::pct).toList()) + ")" : "");
        String setting = isOriginal ? "" : r.additive() ? "add, strength " + plain(r.setting()) : "\u03b3 = " + plain(r.setting());
        return List.of(method, r.condition(), setting, pct(s.accuracy()), "[" + pct(s.interval().lower()) + ", " + pct(s.interval().upper()) + "]",
                isOriginal ? "" : String.format(Locale.ROOT, "%+.1f pp", 100 * (s.accuracy() - original.accuracy())),
                s.correct() + " / " + s.problems(), String.format(Locale.ROOT, "%.1f", s.meanGeneratedTokens()));
    }

    static String plain(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    @SuppressWarnings("unchecked")
    static List<List<String>> table(String id) {
        return (List<List<String>>) js("return Array.from(document.querySelectorAll('#" + id + " tbody tr')).map(function (tr) {"
                + " return Array.from(tr.children).map(function (td) { return td.textContent; }); });");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theComparisonSectionShowsWhatIpgCompareMeasured() {
        Comparison.Result r = comparison.result;
        List<List<String>> expected = new ArrayList<>();
        expected.add(cells(r.original(), r.original()));
        r.rows().forEach(row -> expected.add(cells(row, r.original())));
        assertEquals(expected, table("comparison-table"));
        // the sweep: gamma instead of condition and setting
        List<List<String>> sweep = new ArrayList<>();
        for (Comparison.Row row : r.sweep()) {
            List<String> c = cells(row, r.original());
            sweep.add(List.of(c.get(0), plain(row.setting()), c.get(3), c.get(4), c.get(5), c.get(6), c.get(7)));
        }
        assertEquals(sweep, table("sweep-table"));
        // the charts hold the same figures, in the table's order
        List<Number> bars = (List<Number>) js("return echarts.getInstanceByDom(document.getElementById('chart-comparison'))"
                + ".getOption().series[0].data.map(function (d) { return d.value; });");
        List<Double> accuracies = new ArrayList<>();
        accuracies.add(r.original().accuracy());
        r.rows().forEach(row -> accuracies.add(row.accuracy()));
        assertEquals(accuracies, bars.stream().map(Number::doubleValue).toList());
        List<String> labels = (List<String>) js("return echarts.getInstanceByDom(document.getElementById('chart-comparison'))"
                + ".getOption().xAxis[0].data;");
        assertEquals(List.of("original", "ipg\nenhance \u03b3=2", "ipg\nsuppress \u03b3=0", "random (2 seeds)\nenhance \u03b3=2",
                "random (2 seeds)\nsuppress \u03b3=0", "control-vector\nenhance add 1"), labels);
        List<List<Number>> curve = (List<List<Number>>) js("return echarts.getInstanceByDom(document.getElementById('chart-sweep'))"
                + ".getOption().series[0].data;");
        assertEquals(r.sweep().stream().map(x -> List.of(x.setting(), x.accuracy())).toList(),
                curve.stream().map(p -> List.of(p.get(0).doubleValue(), p.get(1).doubleValue())).toList());
        // the comparison was measured on another random model than the attribution run: the page says so
        String note = (String) js("return document.getElementById('comparison-note').textContent;");
        assertTrue(note.contains("different checkpoint"), note);
        String lead = (String) js("return document.querySelector('#comparison p.lead').textContent;");
        assertTrue(lead.contains("Accuracy on " + ComparisonFixture.EVAL_PROBLEMS + " problems of eval.jsonl (greedy, "
                + ComparisonFixture.EVAL_TOKENS + " tokens)"), lead);
        assertTrue(lead.contains("at blocks.0.mlp.hook_post (top 25% by signed score)"), lead);
        // the verdict lines of ipg compare, word for word
        List<String> verdict = (List<String>) js("return Array.from(document.querySelectorAll('#comparison-verdict li'))"
                + ".map(function (li) { return li.textContent; });");
        assertEquals(r.verdict(), verdict);
        assertEquals(2, verdict.size(), verdict.toString());
    }

    @Test
    void noConsoleErrorsAndAFullPageScreenshot() throws IOException {
        List<String> severe = new ArrayList<>();
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
            if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
                severe.add(e.getMessage());
            }
        }
        assertEquals(List.of(), severe, "console errors");
        long height = ((Number) js("return Math.ceil(document.documentElement.scrollHeight);")).longValue();
        driver.manage().window().setSize(new Dimension(1280, (int) Math.min(height + 40, 16000)));
        js("window.dispatchEvent(new Event('resize'));");
        File shot = driver.getScreenshotAs(OutputType.FILE);
        Path target = Path.of("target/report-screenshot.png");
        Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
        assertTrue(Files.size(target) > 50_000, "screenshot of " + Files.size(target) + " bytes");
        assertNotNull(html);
    }

    /** Full-page screenshot at {@code width} px, kept in target/ for a reader to look at. */
    static Path screenshot(int width) throws IOException {
        driver.manage().window().setSize(new Dimension(width, 1000));
        js("window.dispatchEvent(new Event('resize'));");
        long height = ((Number) js("return Math.ceil(document.documentElement.scrollHeight);")).longValue();
        driver.manage().window().setSize(new Dimension(width, (int) Math.min(height + 40, 16000)));
        js("window.dispatchEvent(new Event('resize'));");
        Path target = Path.of("target/report-" + width + ".png");
        Files.copy(driver.getScreenshotAs(OutputType.FILE).toPath(), target, StandardCopyOption.REPLACE_EXISTING);
        assertTrue(Files.size(target) > 50_000, "screenshot of " + Files.size(target) + " bytes");
        // and each figure on its own, as a reader would crop it
        for (String id : List.of("chart-comparison", "chart-sweep", "chart-scores", "chart-process", "example-list")) {
            var e = driver.findElement(org.openqa.selenium.By.id(id));
            Files.copy(e.getScreenshotAs(OutputType.FILE).toPath(), Path.of("target/report-" + width + "-" + id + ".png"),
                    StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    static final String CMP = "echarts.getInstanceByDom(document.getElementById('chart-comparison'))";

    @Test
    @SuppressWarnings("unchecked")
    void chartsReadAsFiguresAt900And1400Pixels() throws IOException {
        for (int width : new int[] {900, 1400}) {
            screenshot(width);
            // labels wrap only at spaces and after hyphens: every word of a label stays whole on one line
            List<String> broken = (List<String>) js("var c = " + CMP + "; var ax = c.getOption().xAxis[0];"
                    + "var bad = []; ax.data.forEach(function (l) { var f = ax.axisLabel.formatter(l); var lines = f.split('\\n');"
                    + " l.split(/\\s+|(?<=-)/).forEach(function (w) { if (w && !lines.some(function (x) { return x.indexOf(w) >= 0; })) { bad.push(w + ' in ' + f); } });"
                    + " if (f.replace(/\\s+/g, '') !== l.replace(/\\s+/g, '')) { bad.push('text changed: ' + f); } }); return bad;");
            assertEquals(List.of(), broken, "labels broken mid-word at " + width + " px");
            // no two neighbouring labels overlap: each label's widest line fits its column
            List<String> wide = (List<String>) js("var c = " + CMP + "; var ax = c.getOption().xAxis[0]; var col = (c.getWidth() - 100) / ax.data.length;"
                    + "if (ax.axisLabel.rotate) { return []; }"
                    + "var ctx = document.createElement('canvas').getContext('2d'); ctx.font = ax.axisLabel.fontSize + 'px ' + ax.axisLabel.fontFamily;"
                    + "var bad = []; ax.data.forEach(function (l) { ax.axisLabel.formatter(l).split('\\n').forEach(function (x) {"
                    + " if (ctx.measureText(x).width > col) { bad.push(x + ' (' + Math.round(ctx.measureText(x).width) + ' px of ' + Math.round(col) + ')'); } }); });"
                    + "return bad;");
            assertEquals(List.of(), wide, "label lines wider than their column at " + width + " px");
        }
        // every chart has a PNG and an SVG export, and the SVG is a drawing of the chart
        for (String name : List.of("heatmap", "scores", "curves", "comparison", "sweep", "process")) {
            Map<String, Object> feature = (Map<String, Object>) js("return echarts.getInstanceByDom(document.querySelector('[data-chart=\"" + name
                    + "\"]')).getOption().toolbox[0].feature;");
            assertTrue(feature.containsKey("saveAsImage") && feature.containsKey("mySvg"), name + ": " + feature.keySet());
            String svg = (String) js("return window.__ipgReport.svg('" + name + "');");
            assertTrue(svg.startsWith("<svg") && svg.contains("</svg>") && svg.length() > 2000, name + " SVG: " + svg.length() + " chars");
        }
        // the comparison's colours are explained
        List<String> legend = (List<String>) js("return " + CMP + ".getOption().legend[0].data.map(function (d) { return d.name || d; });");
        assertEquals(List.of("original", "enhance (\u03b3 > 1 or vector added)", "suppress (\u03b3 < 1)"), legend);
        List<String> colours = (List<String>) js("return " + CMP + ".getOption().series.filter(function (s) { return s.type === 'scatter'; })"
                + ".map(function (s) { return s.itemStyle.color; });");
        assertEquals(List.of("#7b8794", "#2f5fd0", "#c8372d"), colours, "legend colours are the bars' colours");
        // accuracy axes start near the data, and a truncated one says so and shows a break
        Map<String, Object> r = (Map<String, Object>) js("return window.__ipgReport.accuracyRange([0.62, 0.7, 0.81]);");
        assertEquals(0.6, ((Number) r.get("min")).doubleValue(), 1e-9);
        assertEquals(0.85, ((Number) r.get("max")).doubleValue(), 1e-9);
        Map<String, Object> low = (Map<String, Object>) js("return window.__ipgReport.accuracyRange([0.02, 0.3]);");
        assertEquals(0.0, ((Number) low.get("min")).doubleValue(), 0, "near zero the axis starts at zero");
        Map<String, Object> y = (Map<String, Object>) js("var o = " + CMP + ".getOption(); return {min: o.yAxis[0].min, max: o.yAxis[0].max, "
                + "name: o.yAxis[0].name, breaks: (o.graphic && o.graphic[0] && o.graphic[0].elements || []).length};");
        double lowest = comparison.result.rows().stream().mapToDouble(x -> x.summary().interval().lower()).min().orElseThrow();
        lowest = Math.min(lowest, comparison.result.original().summary().interval().lower());
        double min = ((Number) y.get("min")).doubleValue();
        assertTrue(min <= lowest && (min == 0 || lowest - min < 0.2), "axis from " + min + ", lowest interval end " + lowest);
        assertEquals(min > 0, ((String) y.get("name")).contains("axis from"), y.toString());
        assertEquals(min > 0, ((Number) y.get("breaks")).intValue() > 0, y.toString());
        // the sweep's length axis spans at least a token and 10 % of the mean
        Map<String, Object> t = (Map<String, Object>) js("var a = echarts.getInstanceByDom(document.getElementById('chart-sweep')).getOption().yAxis[1];"
                + "return {min: a.min, max: a.max};");
        double mean = comparison.result.sweep().stream().mapToDouble(x -> x.summary().meanGeneratedTokens()).average().orElseThrow();
        double span = ((Number) t.get("max")).doubleValue() - ((Number) t.get("min")).doubleValue();
        assertTrue(span >= 1 && span >= 0.1 * mean, "length axis " + t + " around a mean of " + mean);
        Map<String, Object> flat = (Map<String, Object>) js("return window.__ipgReport.tokenRange([301.2, 301.25]);");
        assertTrue(((Number) flat.get("max")).doubleValue() - ((Number) flat.get("min")).doubleValue() >= 30, flat.toString());
    }

    @Test
    void tokenColoursAreScaledToTheDeltasShown() throws IOException {
        var tree = HtmlReport.JSON.readTree(Files.readString(html.resolveSibling("report-data.json")));
        List<Double> deltas = new ArrayList<>();
        for (var ex : tree.path("examples").path("value")) {
            for (var tr : ex.path("trajectories")) {
                for (int k = 0; k < tr.path("tokens").size(); k++) {
                    deltas.add(Math.abs(tr.path("logp_intervened").get(k).asDouble() - tr.path("logp_original").get(k).asDouble()));
                }
            }
        }
        assertTrue(!deltas.isEmpty(), "the examples have tokens");
        deltas.sort(null);
        double want = Math.max(1e-3, deltas.get(Math.min(deltas.size() - 1, (int) Math.floor(0.95 * deltas.size()))));
        double scale = Double.parseDouble((String) js("return document.getElementById('token-legend').getAttribute('data-scale');"));
        assertEquals(want, scale, 1e-6 * Math.max(1, want));
        String legend = (String) js("return document.getElementById('token-legend').textContent;");
        assertTrue(legend.contains("95th percentile"), legend);
    }
}
