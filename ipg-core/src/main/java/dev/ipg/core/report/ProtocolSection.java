package dev.ipg.core.report;

import dev.ipg.core.report.ProtocolFile.CurveSet;
import dev.ipg.core.report.ProtocolFile.Line;
import dev.ipg.core.report.ProtocolFile.SiteView;
import dev.ipg.core.report.ProtocolFile.View;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The report's sections of the localization protocol: the verdict per site, the suppression (and
 * enhancement) curves over k as inline SVG with a table of the paired intervals against IPG, the
 * ablation ground truth with each method's precision@k and Spearman correlation, and the
 * stability of each method's top set between support halves. Drawn on the server (static SVG and
 * tables), so they need no script and print as they are.
 */
final class ProtocolSection {

    /** Line colours by method, in the order of the curves. */
    private static final String[] COLOURS = {"#2f5fd0", "#c8372d", "#1f8a4c", "#b7791f", "#7b3fb5", "#0f7c8a", "#616e7c", "#d4508b"};

    private ProtocolSection() {
    }

    static void render(StringBuilder b, ReportData.Section<View> section) {
        b.append("<section id=\"protocol\"><h2>Localization protocol</h2>");
        View v = section == null ? null : section.value();
        if (v == null) {
            // an optional addition to the comparison: its absence is a note, not a missing section
            b.append("<p class=\"lead\" id=\"protocol-note\">").append(Html.escape(section == null ? "No protocol." : section.note()))
                    .append("</p></section>\n");
            return;
        }
        b.append("<p class=\"lead\">Every method's top k components scaled on the evaluation split, k = 1, 2, 4, &hellip;; "
                + "the curve area is ").append(Html.escape(v.area())).append(". Paired 95 % bootstrap intervals over the evaluation "
                + "problems of method &minus; IPG; random selection is the mean over ").append(v.randomSeeds())
                .append(" seeds with their range (never pooled). IPG wins where the interval excludes zero in its favour.</p>");
        b.append("<ul class=\"verdict\" id=\"protocol-verdict\">");
        for (String line : v.verdict()) {
            b.append("<li>").append(Html.escape(line)).append("</li>");
        }
        b.append("</ul>");
        for (SiteView s : v.sites()) {
            site(b, s, v, v.sites().size() > 1);
        }
        b.append("</section>\n");
    }

    private static void site(StringBuilder b, SiteView s, View v, boolean ownVerdict) {
        b.append("<h3>").append(Html.escape(s.site())).append(" &middot; ").append(s.width()).append(" components &middot; original ")
                .append(String.format(Locale.ROOT, "%.1f %%", 100 * s.originalAccuracy())).append(" on ").append(s.evalProblems())
                .append(" problems</h3>");
        s.unavailable().forEach((m, why) -> b.append("<p class=\"warn\">").append(Html.escape(m)).append(" cannot score: ")
                .append(Html.escape(why)).append("</p>"));
        for (CurveSet c : s.curves()) {
            b.append("<p class=\"lead\"><b>").append(Html.escape(c.condition())).append("</b> (gamma ").append(num(c.gamma()))
                    .append("): accuracy change in points against k</p>");
            svg(b, s.ks(), c);
            curveTable(b, s.ks(), c);
        }
        if (s.groundTruth() == null) {
            b.append("<p class=\"missing\">Ground truth: ").append(Html.escape(s.groundTruthNote() == null ? "none" : s.groundTruthNote()))
                    .append("</p>");
        } else {
            var g = s.groundTruth();
            b.append("<p class=\"lead\"><b>Ground truth</b> on ").append(g.devProblems()).append(" dev problems (")
                    .append(Html.escape(v.groundTruth())).append("; ").append(g.allComponents() ? "every component"
                            : g.candidates() + " candidates, the union of every informed method's top " + 2 * g.k())
                    .append("): costliest ").append(g.k()).append(" <code>").append(Arrays.toString(g.costliest())).append("</code></p>");
            b.append("<table class=\"grid protocol-gt\"><thead><tr><th>Method</th><th>precision@").append(g.k())
                    .append("</th><th>Spearman</th></tr></thead><tbody>");
            for (var m : g.methods()) {
                b.append("<tr><td>").append(Html.escape(m.method())).append("</td><td>")
                        .append(String.format(Locale.ROOT, "%.2f", m.precision()))
                        .append(m.precisionMin() != m.precisionMax() ? String.format(Locale.ROOT, " (%.2f&ndash;%.2f)", m.precisionMin(),
                                m.precisionMax()) : "")
                        .append("</td><td>").append(m.spearman() == null ? "n/a" : String.format(Locale.ROOT, "%+.2f", m.spearman()))
                        .append("</td></tr>");
            }
            b.append("</tbody></table>");
        }
        if (!s.stability().isEmpty()) {
            b.append("<p class=\"lead\"><b>Stability</b>: Dice of the top-k sets from two disjoint support halves of ")
                    .append(s.halfSize()).append(" problems (1: the same set; random selection: about k / width)</p>");
            b.append("<table class=\"grid protocol-stability\"><thead><tr><th>Method</th>");
            for (int k : s.ks()) {
                b.append("<th>k=").append(k).append("</th>");
            }
            b.append("<th>k=").append(s.headlineK()).append("</th></tr></thead><tbody>");
            for (var st : s.stability()) {
                b.append("<tr><td>").append(Html.escape(st.method())).append("</td>");
                for (double d : st.dice()) {
                    b.append(String.format(Locale.ROOT, "<td>%.2f</td>", d));
                }
                b.append(String.format(Locale.ROOT, "<td>%.2f</td></tr>", st.headline()));
            }
            b.append("</tbody></table>");
        }
        if (ownVerdict && !s.verdict().isEmpty()) {
            b.append("<ul class=\"verdict\">");
            s.verdict().forEach(x -> b.append("<li>").append(Html.escape(x)).append("</li>"));
            b.append("</ul>");
        }
    }

    /** The curves on a log2 k axis; random as its seed range (band) and mean. */
    static void svg(StringBuilder b, int[] ks, CurveSet c) {
        int w = 640;
        int h = 260;
        int left = 52;
        int right = 160;
        int top = 12;
        int bottom = 36;
        double lo = 0;
        double hi = 0;
        for (Line l : c.methods()) {
            for (double[] a : new double[][] {l.delta(), l.seedMin(), l.seedMax()}) {
                if (a != null) {
                    for (double x : a) {
                        lo = Math.min(lo, x);
                        hi = Math.max(hi, x);
                    }
                }
            }
        }
        double pad = Math.max(1, (hi - lo) * 0.05);
        lo -= pad;
        hi += pad;
        double x0 = log2(ks[0]);
        double x1 = Math.max(x0 + 1e-9, log2(ks[ks.length - 1]));
        final double ylo = lo;
        final double yhi = hi;
        java.util.function.DoubleUnaryOperator px = k -> left + (log2(k) - x0) / (x1 - x0) * (w - left - right);
        java.util.function.DoubleUnaryOperator py = y -> top + (yhi - y) / (yhi - ylo) * (h - top - bottom);
        b.append("<svg class=\"protocol-curve\" role=\"img\" viewBox=\"0 0 ").append(w).append(' ').append(h)
                .append("\" width=\"100%\" style=\"max-width:").append(w).append("px\" xmlns=\"http://www.w3.org/2000/svg\">");
        b.append("<title>").append(Html.escape(c.condition())).append(" curves: accuracy change (points) against k</title>");
        // axes, zero line and ticks
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#9aa5b1\" stroke-dasharray=\"3 3\"/>",
                left, py.applyAsDouble(0), w - right, py.applyAsDouble(0)));
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#616e7c\"/>", left, top, left, h - bottom));
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#616e7c\"/>", left, h - bottom, w - right,
                h - bottom));
        for (int k : ks) {
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" fill=\"#616e7c\">%d</text>",
                    px.applyAsDouble(k), h - bottom + 14, k));
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" fill=\"#616e7c\">k (components"
                + " scaled, log scale)</text>", (left + w - right) / 2, h - 4));
        for (double y : ticks(lo, hi)) {
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#616e7c\">%s</text>",
                    left - 5, py.applyAsDouble(y) + 4, num(y)));
        }
        b.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%d\" font-size=\"11\" fill=\"#616e7c\" transform=\"rotate(-90 12 %d)\" "
                + "text-anchor=\"middle\">points vs original</text>", (top + h - bottom) / 2, (top + h - bottom) / 2));
        List<Line> ms = c.methods();
        for (int i = 0; i < ms.size(); i++) {
            Line l = ms.get(i);
            String col = COLOURS[i % COLOURS.length];
            if (l.seedMin() != null && l.seedMax() != null) {
                StringBuilder band = new StringBuilder();
                for (int j = 0; j < ks.length; j++) {
                    band.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(ks[j]), py.applyAsDouble(l.seedMax()[j])));
                }
                for (int j = ks.length - 1; j >= 0; j--) {
                    band.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(ks[j]), py.applyAsDouble(l.seedMin()[j])));
                }
                b.append("<polygon points=\"").append(band.toString().strip()).append("\" fill=\"").append(col)
                        .append("\" fill-opacity=\"0.15\" stroke=\"none\"/>");
            }
            StringBuilder pts = new StringBuilder();
            for (int j = 0; j < ks.length; j++) {
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(ks[j]), py.applyAsDouble(l.delta()[j])));
            }
            b.append("<polyline points=\"").append(pts.toString().strip()).append("\" fill=\"none\" stroke=\"").append(col)
                    .append("\" stroke-width=\"").append(l.method().equals("ipg") ? "3" : "1.6").append("\"/>");
            b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"3\" fill=\"%s\"/>", w - right + 10, top + 6 + 16 * i,
                    col));
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#1f2933\">%s</text>", w - right + 27,
                    top + 11 + 16 * i, Html.escape(l.method() + (l.seeds() > 1 ? " (" + l.seeds() + " seeds)" : ""))));
        }
        b.append("</svg>");
    }

    private static void curveTable(StringBuilder b, int[] ks, CurveSet c) {
        b.append("<table class=\"grid protocol-curves\"><thead><tr><th>Method</th>");
        for (int k : ks) {
            b.append("<th>k=").append(k).append("</th>");
        }
        b.append("<th>area</th></tr></thead><tbody>");
        for (Line l : c.methods()) {
            b.append("<tr><td>").append(Html.escape(l.method() + (l.seeds() > 1 ? " (" + l.seeds() + " seeds)" : ""))).append("</td>");
            for (int j = 0; j < ks.length; j++) {
                b.append("<td>").append(String.format(Locale.ROOT, "%+.1f", l.delta()[j]));
                if (l.seedMin() != null) {
                    b.append(String.format(Locale.ROOT, " <small>(%+.0f..%+.0f)</small>", l.seedMin()[j], l.seedMax()[j]));
                }
                if (l.minus() != null) {
                    b.append(String.format(Locale.ROOT, "<br><small>&minus;IPG [%+.0f, %+.0f]%s</small>", l.minusLower()[j], l.minusUpper()[j],
                            Double.isNaN(l.mcnemar()[j]) ? "" : String.format(Locale.ROOT, " p=%.2g", l.mcnemar()[j])));
                }
                b.append("</td>");
            }
            b.append("<td>").append(String.format(Locale.ROOT, "%+.1f", l.area()));
            if (l.areaMinus() != null) {
                b.append(String.format(Locale.ROOT, "<br><small>&minus;IPG %+.1f [%+.1f, %+.1f]</small>", l.areaMinus(), l.areaLower(),
                        l.areaUpper()));
            }
            b.append("</td></tr>");
        }
        b.append("</tbody></table>");
    }

    /** About five round tick values between lo and hi. */
    static double[] ticks(double lo, double hi) {
        double span = hi - lo;
        double step = Math.pow(10, Math.floor(Math.log10(span / 5)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (span / (step * m) <= 6) {
                step *= m;
                break;
            }
        }
        double first = Math.ceil(lo / step) * step;
        int n = (int) Math.floor((hi - first) / step) + 1;
        double[] t = new double[Math.max(0, n)];
        for (int i = 0; i < t.length; i++) {
            t[i] = first + i * step;
        }
        return t;
    }

    private static double log2(double k) {
        return Math.log(k) / Math.log(2);
    }

    private static String num(double v) {
        return java.math.BigDecimal.valueOf(Math.round(v * 1000) / 1000.0).stripTrailingZeros().toPlainString();
    }
}
