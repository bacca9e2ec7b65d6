package dev.ipg.core.report;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.report.ReportData.Arm;
import dev.ipg.core.report.ReportData.Comparison;
import dev.ipg.core.report.ReportData.Completeness;
import dev.ipg.core.report.ReportData.ComponentFrequency;
import dev.ipg.core.report.ReportData.Curve;
import dev.ipg.core.report.ReportData.Example;
import dev.ipg.core.report.ReportData.Header;
import dev.ipg.core.report.ReportData.SiteScores;
import dev.ipg.core.report.ReportData.TokenTrajectory;
import dev.ipg.core.report.ReportData.TopRow;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a {@link ReportData} as one self-contained HTML page (Apache ECharts, the page's script
 * and style inlined; no network access when viewed) and the same data as JSON and CSV beside it.
 *
 * <p>Text from the model or the dataset reaches the page only as escaped HTML ({@link Html#escape})
 * or inside the JSON data block ({@link Html#jsonForScript}), from which the page's script puts it
 * into the DOM with {@code textContent}. A Content-Security-Policy allows only the page's own
 * scripts (by hash) and no connections.
 */
public final class HtmlReport {

    /** The ECharts version inlined (the {@code org.webjars.npm:echarts} dependency). */
    public static final String ECHARTS_VERSION = "5.3.1";
    private static final String ECHARTS = "/META-INF/resources/webjars/echarts/" + ECHARTS_VERSION + "/dist/echarts.min.js";

    /** The JSON form of report data: snake_case keys, NaN and infinities as null. */
    public static final ObjectMapper JSON = mapper();

    private HtmlReport() {
    }

    private static ObjectMapper mapper() {
        SimpleModule m = new SimpleModule("report-numbers");
        m.addSerializer(Double.class, new JsonSerializer<>() {
            @Override
            public void serialize(Double v, JsonGenerator g, SerializerProvider p) throws IOException {
                number(g, v);
            }
        });
        m.addSerializer(double.class, new JsonSerializer<>() {
            @Override
            public void serialize(Double v, JsonGenerator g, SerializerProvider p) throws IOException {
                number(g, v);
            }
        });
        m.addSerializer(Float.class, new JsonSerializer<>() {
            @Override
            public void serialize(Float v, JsonGenerator g, SerializerProvider p) throws IOException {
                if (v.isNaN() || v.isInfinite()) {
                    g.writeNull();
                } else {
                    g.writeNumber(v);
                }
            }
        });
        m.addSerializer(double[].class, new JsonSerializer<>() {
            @Override
            public void serialize(double[] v, JsonGenerator g, SerializerProvider p) throws IOException {
                g.writeStartArray();
                for (double x : v) {
                    number(g, x);
                }
                g.writeEndArray();
            }
        });
        m.addSerializer(float[].class, new JsonSerializer<>() {
            @Override
            public void serialize(float[] v, JsonGenerator g, SerializerProvider p) throws IOException {
                g.writeStartArray();
                for (float x : v) {
                    if (Float.isNaN(x) || Float.isInfinite(x)) {
                        g.writeNull();
                    } else {
                        g.writeNumber(x);
                    }
                }
                g.writeEndArray();
            }
        });
        return JsonMapper.builder().propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).addModule(m)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS).build();
    }

    private static void number(JsonGenerator g, Double v) throws IOException {
        if (v == null || v.isNaN() || v.isInfinite()) {
            g.writeNull();
        } else {
            g.writeNumber(v);
        }
    }

    /** The data as JSON text. */
    public static String json(ReportData data) {
        try {
            return JSON.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes {@code html} and, beside it, {@code BASE-data.json}, {@code BASE-top.csv},
     * {@code BASE-scores.csv}, {@code BASE-curves.csv}, {@code BASE-completeness.csv},
     * {@code BASE-process.csv} and {@code BASE-tokens.csv} (BASE: the HTML file's name without
     * its extension). Returns the files written, the HTML first.
     */
    public static List<Path> write(ReportData data, Path html) {
        Path dir = html.toAbsolutePath().getParent();
        String name = html.getFileName().toString();
        String base = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IpgException("cannot create " + dir + ": " + e.getMessage());
        }
        List<Path> out = new ArrayList<>();
        String json = json(data);
        write(html, render(data, json), out);
        write(dir.resolve(base + "-data.json"), json, out);
        write(dir.resolve(base + "-top.csv"), topCsv(data), out);
        write(dir.resolve(base + "-scores.csv"), scoresCsv(data), out);
        write(dir.resolve(base + "-curves.csv"), curvesCsv(data), out);
        write(dir.resolve(base + "-completeness.csv"), completenessCsv(data), out);
        write(dir.resolve(base + "-process.csv"), processCsv(data), out);
        write(dir.resolve(base + "-tokens.csv"), tokensCsv(data), out);
        return out;
    }

    private static void write(Path file, String text, List<Path> out) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
        out.add(file);
    }

    static String resource(String name) {
        String path = name.startsWith("/") ? name : "/dev/ipg/core/report/" + name;
        try (InputStream in = HtmlReport.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("resource " + path + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(String script) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(script.getBytes(StandardCharsets.UTF_8));
            return "'sha256-" + Base64.getEncoder().encodeToString(d) + "'";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The HTML page for {@code data}, whose JSON form is {@code json}. */
    public static String render(ReportData data, String json) {
        String echarts = Html.inlineScript(resource(ECHARTS));
        String app = Html.inlineScript(resource("report.js"));
        String css = resource("report.css");
        Header h = data.header();
        String csp = "default-src 'none'; script-src " + sha256(echarts) + " " + sha256(app)
                + "; style-src 'unsafe-inline'; img-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'";
        StringBuilder b = new StringBuilder(echarts.length() + json.length() + 64_000);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"").append(csp).append("\">\n") // our own text: no double quotes
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>IPG report: ").append(Html.escape(h.modelName())).append(" / ").append(Html.escape(h.runDir()))
                .append("</title>\n")
                .append("<!-- Charts: Apache ECharts ").append(ECHARTS_VERSION)
                .append(" (https://echarts.apache.org), Copyright The Apache Software Foundation, licensed under the Apache License, "
                        + "Version 2.0; inlined below from the npm package as republished by WebJars. -->\n")
                .append("<style>\n").append(css).append("</style>\n</head>\n<body>\n");
        b.append("<header class=\"top\"><div class=\"wrap\"><h1>Integrated Policy Gradient attribution</h1>")
                .append("<p class=\"sub\">").append(Html.escape(h.modelName())).append(" &middot; ")
                .append(Html.escape(h.sites().size() <= 3 ? String.join(", ", h.sites())
                        : h.sites().size() + " sites, " + h.sites().getFirst() + " … " + h.sites().getLast()))
                .append(" &middot; signal <code>").append(Html.escape(h.signal()))
                .append("</code> &middot; run <code>").append(Html.escape(h.runDir())).append("</code></p></div></header>\n");
        b.append("<nav class=\"toc\"><div class=\"wrap\">")
                .append("<a href=\"#summary\">Summary</a><a href=\"#top\">Top components</a><a href=\"#scores\">Scores</a>")
                .append("<a href=\"#curves\">J&#772;(&alpha;)</a><a href=\"#comparison\">Comparison</a><a href=\"#protocol\">Protocol</a><a href=\"#process\">Process</a>")
                .append("<a href=\"#examples\">Trajectories</a><a href=\"#prompts\">Prompts</a></div></nav>\n");
        b.append("<main class=\"wrap\">\n");
        summary(b, data);
        topTable(b, data);
        b.append("<section id=\"scores\"><h2>Score distribution</h2>")
                .append("<p class=\"lead\">S<sub>i</sub> of every component (mean over the support prompts). Scroll or drag to zoom; "
                        + "hover for values.</p>")
                .append(data.sites().size() > 1
                        ? "<div class=\"chart tall\" id=\"chart-heatmap\" data-chart=\"heatmap\"></div>"
                        + "<p class=\"lead\">One site at a time: <select id=\"score-site\" aria-label=\"site\"></select></p>"
                        : "")
                .append("<div class=\"chart\" id=\"chart-scores\" data-chart=\"scores\"></div></section>\n");
        b.append("<section id=\"curves\"><h2>Expected reward along the path, J&#772;(&alpha;)</h2>")
                .append("<p class=\"lead\">J&#772;(&alpha;) is the mean reward of completions sampled with the site's activations scaled "
                        + "by &alpha; (&alpha; = 0: the baseline, &alpha; = 1: the unmodified model). Thin lines: one per prompt; thick "
                        + "line: their mean.")
                .append(data.sites().size() > 1 ? " Site: <select id=\"curve-site\" aria-label=\"site\"></select>" : "")
                .append("</p><div class=\"chart\" id=\"chart-curves\" data-chart=\"curves\"></div></section>\n");
        comparison(b, data);
        ProtocolSection.render(b, data.protocol());
        b.append("<section id=\"process\"><h2>Where in the reasoning the top components act</h2>");
        if (data.process().value() == null) {
            b.append("<p class=\"missing\">").append(Html.escape(data.process().note())).append("</p>");
        } else {
            b.append("<p class=\"lead\">Activation frequency of each selected component across normalized reasoning progress "
                            + "(").append(data.process().value().bins()).append(" bins). ")
                    .append(Html.escape(data.process().note())).append("</p>")
                    .append("<div class=\"chart tall\" id=\"chart-process\" data-chart=\"process\"></div>");
        }
        b.append("</section>\n");
        b.append("<section id=\"examples\"><h2>Trajectories before and after the intervention</h2>");
        if (data.examples().value() == null) {
            b.append("<p class=\"missing\">").append(Html.escape(data.examples().note())).append("</p>");
        } else {
            b.append("<p class=\"lead\">").append(Html.escape(data.examples().note())).append("</p>")
                    .append("<div class=\"legend\" id=\"token-legend\"></div><div id=\"example-list\"></div>");
        }
        b.append("</section>\n");
        b.append("<section id=\"prompts\"><h2>Support prompts</h2><p class=\"lead\">The completions each prompt was scored on at the "
                + "last path point (first site), with their rewards.</p><div id=\"prompt-list\"></div></section>\n");
        b.append("</main>\n<footer><div class=\"wrap\">Generated by ipg ").append(Html.escape(h.ipgVersion())).append(" on ")
                .append(Html.escape(h.generatedAt())).append(". Data beside this file: <code>*-data.json</code> and CSVs. ")
                .append("Charts drawn with Apache ECharts ").append(ECHARTS_VERSION)
                .append(" (Apache License 2.0), inlined: this page needs no network.</div></footer>\n");
        b.append("<noscript><p class=\"missing\">The charts need JavaScript.</p></noscript>\n");
        b.append("<script type=\"application/json\" id=\"report-data\">").append(Html.jsonForScript(json)).append("</script>\n");
        b.append("<script>").append(echarts).append("</script>\n");
        b.append("<script>").append(app).append("</script>\n");
        b.append("</body>\n</html>\n");
        return b.toString();
    }

    private static String num(double v) {
        return Html.escape(RunReader.fmt(v));
    }

    private static String seconds(Double s) {
        if (s == null || s.isNaN()) {
            return "n/a";
        }
        if (s < 60) {
            return String.format(Locale.ROOT, "%.1f s", s);
        }
        long t = Math.round(s);
        return t < 3600 ? String.format(Locale.ROOT, "%d min %02d s", t / 60, t % 60)
                : String.format(Locale.ROOT, "%d h %02d min", t / 3600, (t % 3600) / 60);
    }

    private static void summary(StringBuilder b, ReportData d) {
        Header h = d.header();
        b.append("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
        card(b, "Model", Html.escape(h.modelName()), Html.escape(h.architecture()) + "<br><span class=\"mono small\" title=\"sha-256 "
                + "fingerprint of the checkpoint\">" + Html.escape(h.fingerprint().length() > 16 ? h.fingerprint().substring(0, 16) + "…"
                : h.fingerprint()) + "</span>");
        card(b, "Site" + (h.sites().size() > 1 ? "s" : ""), h.sites().size() == 1 ? "<code>" + Html.escape(h.sites().getFirst()) + "</code>"
                : h.sites().size() + " sites", h.sites().size() == 1 ? d.sites().getFirst().width() + " components"
                : "<code>" + Html.escape(h.sites().getFirst()) + "</code> … <code>" + Html.escape(h.sites().getLast()) + "</code>");
        card(b, "Signal", "<code>" + Html.escape(h.signal()) + "</code>", Html.escape(h.method()));
        card(b, "Support set", String.format(Locale.ROOT, "%,d prompts", h.supportSize()), "of " + Html.escape(h.datasetFile())
                + String.format(Locale.ROOT, " (%,d problems)", h.datasetProblems()));
        card(b, "Compute time", seconds(h.samplingSeconds() + h.backwardSeconds()), "sampling " + seconds(h.samplingSeconds())
                + " + backward " + seconds(h.backwardSeconds()) + ", summed over prompts" + (h.wallSeconds() == null ? ""
                : "; wall time of the last invocation " + seconds(h.wallSeconds())) + "<br>"
                + String.format(Locale.ROOT, "%,d tokens generated", h.generatedTokens())
                + (h.threads() == null ? "" : ", " + h.threads() + " threads"));
        b.append("</div>");
        b.append("<h3>Completeness check</h3><p class=\"lead\">With the leave-one-out (rloo) advantage, the scores should add up to "
                + "the change in expected reward between the baseline and the model: &Sigma;<sub>i</sub> S<sub>i</sub> &asymp; "
                + "mean over prompts of J&#772;(1) &minus; J&#772;(0). Under the GRPO advantage, or with the truncated policy's "
                + "gradient under top-k / top-p sampling, the identity is not expected to hold. This run: <span id=\"estimator\">")
                .append(Html.escape(d.completeness().isEmpty() ? "" : d.completeness().getFirst().estimator())).append("</span>.</p>");
        b.append("<table class=\"grid\"><thead><tr><th>Site</th><th class=\"num\">&Sigma; S<sub>i</sub></th>"
                + "<th class=\"num\">J&#772;(1) &minus; J&#772;(0)</th><th class=\"num\">Gap &plusmn; s.e.</th>"
                + "<th class=\"num\">J&#772;(&alpha;<sub>1</sub>) &minus; J&#772;(0)</th><th>Verdict</th></tr></thead><tbody>");
        for (Completeness c : d.completeness()) {
            b.append("<tr><td><code>").append(Html.escape(c.site())).append("</code></td><td class=\"num\">").append(num(c.sumScores()))
                    .append("</td><td class=\"num\">").append(num(c.meanDelta())).append("</td><td class=\"num\">").append(num(c.gap()))
                    .append(Double.isNaN(c.gapStdErr()) ? "" : " &plusmn; " + num(c.gapStdErr())).append("</td><td class=\"num\">")
                    .append(num(c.firstStep())).append("</td><td><span class=\"badge v-").append(c.verdict().name().toLowerCase(Locale.ROOT))
                    .append("\">").append(verdictLabel(c.verdict())).append(" (").append(Html.escape(c.estimator())).append(")</span> ")
                    .append(Html.escape(c.explanation())).append("</td></tr>");
        }
        b.append("</tbody></table>");
        for (Completeness c : d.completeness()) {
            for (String w : c.warnings()) {
                b.append("<p class=\"warn path-warning\">").append(Html.escape(w)).append("</p>");
            }
        }
        b.append("<details class=\"hp\"><summary>Every hyperparameter</summary><table class=\"grid kv\"><tbody>");
        for (Map.Entry<String, String> e : h.hyperparameters().entrySet()) {
            b.append("<tr><th>").append(Html.escape(e.getKey())).append("</th><td><code>").append(Html.escape(e.getValue()))
                    .append("</code></td></tr>");
        }
        b.append("<tr><th>model directory</th><td><code>").append(Html.escape(h.modelDir() == null ? "not recorded" : h.modelDir()))
                .append("</code></td></tr><tr><th>model fingerprint</th><td><code>").append(Html.escape(h.fingerprint()))
                .append("</code></td></tr><tr><th>kernels</th><td><code>").append(Html.escape(h.kernels() == null ? "n/a" : h.kernels()))
                .append("</code></td></tr></tbody></table></details></section>\n");
    }

    private static void comparison(StringBuilder b, ReportData d) {
        b.append("<section id=\"comparison\"><h2>Method comparison</h2>");
        Comparison c = d.comparison().value();
        if (c == null) {
            b.append("<p class=\"missing\">").append(Html.escape(d.comparison().note())).append("</p></section>\n");
            return;
        }
        if (d.comparison().note() != null) {
            b.append("<p class=\"warn\" id=\"comparison-note\">").append(Html.escape(d.comparison().note())).append("</p>");
        }
        b.append("<p class=\"lead\">Accuracy on ").append(String.format(Locale.ROOT, "%,d", c.evalProblems()))
                .append(" problems of <code>").append(Html.escape(c.evalDataset())).append("</code>")
                .append(c.decoding() == null ? "" : " (" + Html.escape(c.decoding()) + ")")
                .append(" when the components each method selects")
                .append(c.site() == null ? "" : " at <code>" + Html.escape(c.site()) + "</code>")
                .append(c.selection() == null ? "" : " (" + Html.escape(c.selection()) + ")")
                .append(" are enhanced (&gamma; &gt; 1) or suppressed (&gamma; = 0), with 95% Wilson intervals; the dashed line and band "
                        + "are the original model. The methods scored the components on ")
                .append(String.format(Locale.ROOT, "%,d", c.supportProblems())).append(" disjoint problems of <code>")
                .append(Html.escape(c.supportDataset())).append("</code>. Read from <code>").append(Html.escape(c.source()))
                .append("</code>; model ").append(Html.escape(c.architecture()))
                .append(c.fingerprint() == null ? "" : " (fingerprint <span class=\"mono small\">" + Html.escape(c.fingerprint().length() > 16
                        ? c.fingerprint().substring(0, 16) + "…" : c.fingerprint()) + "</span>)").append(".</p>")
                .append("<div class=\"chart\" id=\"chart-comparison\" data-chart=\"comparison\"></div>");
        if (!c.verdict().isEmpty()) {
            b.append("<ul class=\"verdict\" id=\"comparison-verdict\">");
            for (String v : c.verdict()) {
                b.append("<li>").append(Html.escape(v)).append("</li>");
            }
            b.append("</ul>");
        }
        b.append("<table class=\"grid\" id=\"comparison-table\"><thead><tr><th>Method</th><th>Condition</th><th>Setting</th>"
                + "<th class=\"num\">Accuracy</th><th class=\"num\">95% interval</th><th class=\"num\">&Delta; vs original</th>"
                + "<th class=\"num\">Correct</th><th class=\"num\">Mean tokens</th></tr></thead><tbody>");
        armRow(b, "original", "original", c.original(), true);
        for (var m : c.methods()) {
            if (m.enhance() != null) {
                armRow(b, m.method(), "enhance", m.enhance(), false);
            }
            if (m.suppress() != null) {
                armRow(b, m.method(), "suppress", m.suppress(), false);
            }
        }
        b.append("</tbody></table>");
        if (c.gammaSweep().isEmpty()) {
            b.append("<p class=\"missing\">The comparison has no gamma sweep (ipg compare --sweep).</p>");
        } else {
            b.append("<h3>Gamma sweep</h3><p class=\"lead\">Accuracy (left axis, with 95% intervals) and mean generated length "
                            + "(right axis, dashed) as the selected components are scaled by &gamma; (&gamma; = 1 is the original model).</p>")
                    .append("<div class=\"chart\" id=\"chart-sweep\" data-chart=\"sweep\"></div>")
                    .append("<details class=\"hp\"><summary>Sweep figures</summary><table class=\"grid\" id=\"sweep-table\"><thead><tr>"
                            + "<th>Method</th><th class=\"num\">&gamma;</th><th class=\"num\">Accuracy</th><th class=\"num\">95% interval</th>"
                            + "<th class=\"num\">&Delta; vs original</th><th class=\"num\">Correct</th><th class=\"num\">Mean tokens</th>"
                            + "</tr></thead><tbody>");
            for (var p : c.gammaSweep()) {
                Arm a = p.arm();
                b.append("<tr><td>").append(methodCell(p.method(), a)).append("</td><td class=\"num\">").append(Html.escape(plain(p.gamma())))
                        .append("</td>");
                figures(b, a, false);
                b.append("</tr>");
            }
            b.append("</tbody></table></details>");
        }
        b.append("</section>\n");
    }

    private static void armRow(StringBuilder b, String method, String condition, Arm a, boolean original) {
        b.append("<tr><td>").append(original ? "original" : methodCell(method, a)).append("</td><td>").append(condition).append("</td><td>")
                .append(original ? "" : a.strength() != null ? "add, strength " + Html.escape(plain(a.strength()))
                        : "&gamma; = " + Html.escape(plain(a.gamma()))).append("</td>");
        figures(b, a, original);
        b.append("</tr>");
    }

    private static String methodCell(String method, Arm a) {
        String s = "<span title=\"" + Html.escape(a.intervention()) + "\">" + Html.escape(method) + "</span>";
        if (a.seedAccuracies().size() > 1) {
            StringBuilder per = new StringBuilder();
            for (double x : a.seedAccuracies()) {
                per.append(per.isEmpty() ? "" : ", ").append(percent(x));
            }
            s += " <span class=\"small\">(" + a.seedAccuracies().size() + " seeds: " + per + ")</span>";
        }
        return s;
    }

    private static void figures(StringBuilder b, Arm a, boolean original) {
        b.append("<td class=\"num\">").append(percent(a.accuracy())).append("</td><td class=\"num\">[").append(percent(a.lower()))
                .append(", ").append(percent(a.upper())).append("]</td><td class=\"num\">")
                .append(original ? "" : String.format(Locale.ROOT, "%+.1f pp", 100 * a.delta())).append("</td><td class=\"num\">")
                .append(a.correct()).append(" / ").append(a.n()).append("</td><td class=\"num\">")
                .append(String.format(Locale.ROOT, "%.1f", a.meanTokens())).append("</td>");
    }

    /** 0.5 as "50.0%". */
    static String percent(double v) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    private static String plain(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    private static String verdictLabel(ReportData.Verdict v) {
        return switch (v) {
            case HOLDS -> "holds";
            case TRIVIAL -> "trivial";
            case NOT_EXPECTED -> "not expected";
            case FIRST_STEP -> "gap at &alpha; &asymp; 0";
            case GAP -> "gap";
            case UNDETERMINED -> "undetermined";
        };
    }

    private static void card(StringBuilder b, String title, String value, String detail) {
        b.append("<div class=\"card\"><div class=\"k\">").append(Html.escape(title)).append("</div><div class=\"v\">").append(value)
                .append("</div><div class=\"d\">").append(detail).append("</div></div>");
    }

    private static void topTable(StringBuilder b, ReportData d) {
        b.append("<section id=\"top\"><h2>Top components</h2><p class=\"lead\">The ").append(d.top().size())
                .append(" components with the largest |S<sub>i</sub>| over all sites. Interval: 95% interval of the mean over the ")
                .append(d.header().supportSize()).append(" prompts (Student t). &#9679; marks the components scaled and tracked in the "
                        + "sections below").append(d.examples().value() != null && !d.examples().value().isEmpty()
                        ? ": " + Html.escape(d.examples().value().getFirst().intervention()) : " (largest signed score)").append(".</p>");
        b.append("<table class=\"grid\" id=\"top-table\"><thead><tr><th class=\"num\">#</th>")
                .append(d.sites().size() > 1 ? "<th>Site</th>" : "")
                .append("<th class=\"num\">Component</th><th class=\"num\">Score S<sub>i</sub></th><th class=\"num\">95% interval</th>"
                        + "<th class=\"num\">Prompts &gt; 0</th><th>Sign</th><th></th></tr></thead><tbody>");
        for (TopRow r : d.top()) {
            b.append("<tr><td class=\"num\">").append(r.rank()).append("</td>")
                    .append(d.sites().size() > 1 ? "<td><code>" + Html.escape(r.site()) + "</code></td>" : "")
                    .append("<td class=\"num\">").append(r.component()).append("</td><td class=\"num\">").append(num(r.score()))
                    .append("</td><td class=\"num\">").append(Double.isNaN(r.lower()) ? "n/a" : "[" + num(r.lower()) + ", " + num(r.upper()) + "]")
                    .append("</td><td class=\"num\">").append(r.positivePrompts()).append(" / ").append(r.prompts())
                    .append("</td><td><span class=\"sign ").append(r.sign() > 0 ? "pos\">+" : r.sign() < 0 ? "neg\">&minus;" : "zero\">0")
                    .append("</span></td><td>").append(r.selected() ? "<span class=\"sel\" title=\"scaled and tracked below\">&#9679;</span>" : "")
                    .append("</td></tr>");
        }
        b.append("</tbody></table></section>\n");
    }

    // ---------------------------------------------------------------------------------------- CSV

    private static String topCsv(ReportData d) {
        StringBuilder b = new StringBuilder("rank,site,component,score,lower95,upper95,positive_prompts,prompts,sign,selected\n");
        for (TopRow r : d.top()) {
            b.append(r.rank()).append(',').append(r.site()).append(',').append(r.component()).append(',').append(g(r.score())).append(',')
                    .append(g(r.lower())).append(',').append(g(r.upper())).append(',').append(r.positivePrompts()).append(',')
                    .append(r.prompts()).append(',').append(r.sign()).append(',').append(r.selected()).append('\n');
        }
        return b.toString();
    }

    private static String scoresCsv(ReportData d) {
        StringBuilder b = new StringBuilder("site,layer,component,score,std_err,positive_prompts,prompts\n");
        for (SiteScores s : d.sites()) {
            for (int c = 0; c < s.width(); c++) {
                b.append(s.site()).append(',').append(s.layer()).append(',').append(c).append(',').append(g(s.scores()[c])).append(',')
                        .append(g(s.stdErr()[c])).append(',').append(s.positivePrompts()[c]).append(',').append(s.prompts()).append('\n');
            }
        }
        return b.toString();
    }

    private static String curvesCsv(ReportData d) {
        StringBuilder b = new StringBuilder("site,prompt,id,alpha,jbar\n");
        List<Curve> all = new ArrayList<>(d.curves());
        all.addAll(d.meanCurves());
        for (Curve c : all) {
            for (int k = 0; k < c.alpha().length; k++) {
                b.append(c.site()).append(',').append(c.prompt()).append(',').append(Html.csv(c.id())).append(',').append(g(c.alpha()[k]))
                        .append(',').append(g(c.jbar()[k])).append('\n');
            }
        }
        return b.toString();
    }

    private static String completenessCsv(ReportData d) {
        StringBuilder b = new StringBuilder("site,sum_scores,mean_jbar1_minus_jbar0,gap,gap_std_err,mean_jbar_alpha1_minus_jbar0,verdict,"
                + "estimator\n");
        for (Completeness c : d.completeness()) {
            b.append(c.site()).append(',').append(g(c.sumScores())).append(',').append(g(c.meanDelta())).append(',').append(g(c.gap()))
                    .append(',').append(g(c.gapStdErr())).append(',').append(g(c.firstStep())).append(',')
                    .append(c.verdict().name().toLowerCase(Locale.ROOT)).append(',').append(Html.csv(c.estimator())).append('\n');
        }
        return b.toString();
    }

    private static String processCsv(ReportData d) {
        StringBuilder b = new StringBuilder("site,component,score,threshold,bin,progress_from,progress_to,tokens,frequency\n");
        var p = d.process().value();
        if (p != null) {
            for (ComponentFrequency c : p.components()) {
                for (int i = 0; i < p.bins(); i++) {
                    b.append(c.site()).append(',').append(c.component()).append(',').append(g(c.score())).append(',')
                            .append(g(c.threshold())).append(',').append(i).append(',').append(g((double) i / p.bins())).append(',')
                            .append(g((double) (i + 1) / p.bins())).append(',').append(p.tokensPerBin()[i]).append(',')
                            .append(g(c.frequency()[i])).append('\n');
                }
            }
        }
        return b.toString();
    }

    private static String tokensCsv(ReportData d) {
        StringBuilder b = new StringBuilder("prompt,id,trajectory,position,token,logp_original,logp_intervened,delta\n");
        List<Example> ex = d.examples().value();
        if (ex != null) {
            for (Example e : ex) {
                for (TokenTrajectory t : e.trajectories()) {
                    for (int k = 0; k < t.tokens().length; k++) {
                        b.append(e.prompt()).append(',').append(Html.csv(e.id())).append(',').append(Html.csv(t.label())).append(',')
                                .append(k).append(',').append(Html.csv(t.tokens()[k])).append(',').append(g(t.logpOriginal()[k]))
                                .append(',').append(g(t.logpIntervened()[k])).append(',')
                                .append(g((double) t.logpIntervened()[k] - t.logpOriginal()[k])).append('\n');
                    }
                }
            }
        }
        return b.toString();
    }

    private static String g(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.8g", v);
    }
}
