package dev.ipg.core.report;

import dev.ipg.core.IpgException;
import dev.ipg.core.run.ProtocolFiles;
import dev.ipg.core.run.RunFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The localization protocol of {@code ipg compare} ({@link dev.ipg.core.compare.Protocol}) as the
 * report reads it, through the records the protocol writes ({@link ProtocolFiles}, where its
 * shape is shown): {@code protocol.json} in the comparison directory, or in its parent when the
 * comparison is one site of a sweep ({@code OUT/SITE/}).
 */
public final class ProtocolFile {

    /** The JSON file name. */
    public static final String JSON = ProtocolFiles.JSON;

    /** The protocol of every site. */
    public record View(String file, int randomSeeds, String area, String groundTruth, List<SiteView> sites, List<String> verdict) {
    }

    /** One site. */
    public record SiteView(String site, int width, int[] ks, int headlineK, double originalAccuracy, int evalProblems,
                           Map<String, String> unavailable, List<CurveSet> curves, GroundTruth groundTruth, String groundTruthNote,
                           int halfSize, List<Stability> stability, List<String> verdict) {
    }

    /** The curves of one condition. */
    public record CurveSet(String condition, double gamma, List<Line> methods) {
    }

    /**
     * One method's curve; the {@code minus*} arrays (method - IPG, paired) are null for IPG, and
     * {@code seedMin}/{@code seedMax} are null for a method of one selection.
     */
    public record Line(String method, int seeds, double[] delta, double[] seedMin, double[] seedMax, double area, double[] minus,
                       double[] minusLower, double[] minusUpper, double[] mcnemar, Double areaMinus, Double areaLower, Double areaUpper) {
    }

    /** The ablation ground truth. */
    public record GroundTruth(int devProblems, boolean allComponents, int candidates, int k, int[] costliest, List<Match> methods) {
    }

    /** One method against the ground truth; {@code spearman} is null for a constant ranking. */
    public record Match(String method, double precision, Double spearman, double precisionMin, double precisionMax) {
    }

    /** Dice between support halves. */
    public record Stability(String method, double[] dice, double headline) {
    }

    private ProtocolFile() {
    }

    /** The protocol file for comparison directory {@code dir}: in it, or in its parent; null when neither has one. */
    public static Path find(Path dir) {
        Path here = dir.resolve(JSON);
        if (Files.exists(here)) {
            return here;
        }
        Path parent = dir.toAbsolutePath().normalize().getParent();
        return parent != null && Files.exists(parent.resolve(JSON)) ? parent.resolve(JSON) : null;
    }

    /** Reads {@code file}; throws {@link IpgException} naming it when it is malformed. */
    public static View read(Path file) {
        ProtocolFiles.File j = RunFiles.read(file, ProtocolFiles.File.class, "a protocol written by ipg compare");
        if (j.sites() == null || j.config() == null) {
            throw new IpgException(file + " is not a protocol written by ipg compare (no 'config' or 'sites')");
        }
        List<SiteView> sites = new ArrayList<>();
        for (ProtocolFiles.SiteEntry s : j.sites()) {
            List<CurveSet> curves = new ArrayList<>();
            for (ProtocolFiles.CurveSet c : s.curves()) {
                List<Line> lines = new ArrayList<>();
                for (ProtocolFiles.Curve m : c.methods()) {
                    List<ProtocolFiles.Difference> mi = m.minusIpg();
                    ProtocolFiles.Difference am = m.areaMinusIpg();
                    lines.add(new Line(m.method(), m.seeds(), m.deltaPoints(), m.seedMinPoints(), m.seedMaxPoints(), m.area(),
                            mi == null ? null : field(mi, ProtocolFiles.Difference::mean), mi == null ? null : field(mi, ProtocolFiles.Difference::lower),
                            mi == null ? null : field(mi, ProtocolFiles.Difference::upper),
                            mi == null ? null : field(mi, d -> d.mcnemarP() == null ? Double.NaN : d.mcnemarP()),
                            am == null ? null : am.mean(), am == null ? null : am.lower(), am == null ? null : am.upper()));
                }
                curves.add(new CurveSet(c.condition(), c.gamma(), lines));
            }
            GroundTruth gt = null;
            ProtocolFiles.GroundTruth g = s.groundTruth();
            if (g != null) {
                gt = new GroundTruth(g.devProblems(), g.allComponents(), g.candidates().length, g.k(), g.costliest(), g.methods().stream()
                        .map(m -> new Match(m.method(), m.precisionAtK(), m.spearman(), m.precisionMin(), m.precisionMax())).toList());
            }
            List<Stability> stab = s.stability().methods().stream().map(m -> new Stability(m.method(), m.dice(), m.diceAtHeadlineK())).toList();
            sites.add(new SiteView(s.site(), s.width(), s.ks(), s.headlineK(), s.originalAccuracy(), s.evalProblems(), s.unavailable(), curves,
                    gt, s.groundTruthNote(), s.stability().halfSize(), stab, s.verdict()));
        }
        ProtocolFiles.Config c = j.config();
        return new View(file.toString(), c.randomSeeds(), c.area() == null ? "" : c.area(), c.groundTruth() == null ? "" : c.groundTruth(),
                sites, j.verdict());
    }

    private static double[] field(List<ProtocolFiles.Difference> ds, java.util.function.ToDoubleFunction<ProtocolFiles.Difference> f) {
        return ds.stream().mapToDouble(f).toArray();
    }
}
