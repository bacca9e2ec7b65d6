package dev.ipg.core.attribution.baselines;

import dev.ipg.core.run.CompletenessCheck;
import dev.ipg.core.run.ComponentStats;
import dev.ipg.core.run.RunDirectory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.attribution.IpgOptions;
import dev.ipg.core.attribution.MeanBaseline;
import dev.ipg.core.attribution.PathIntegral;
import dev.ipg.core.attribution.Quadrature;
import dev.ipg.core.grad.Interpolation;
import dev.ipg.core.grad.ReverseMode;
import dev.ipg.core.grad.Trajectory;
import dev.ipg.core.io.AtomicFiles;
import dev.ipg.core.io.SafetensorsFile;
import dev.ipg.core.io.SafetensorsWriter;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.model.Hooks;
import dev.ipg.core.model.Site;
import dev.ipg.core.nn.Policy;
import dev.ipg.core.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Plain integrated gradients, not outcome-weighted: for each support problem, the objective is
 * the teacher-forced log-probability of its gold solution given the prompt,
 * {@code L(alpha) = sum_{t in solution} log p(x_t | x_<t; h(alpha))}, with
 * {@code h(alpha) = h' + alpha (h - h')} at the interpolated positions, and
 *
 * <pre>
 *   IG_i = integral_0^1 dL/dalpha_i d alpha ~ sum_k w_k sum_t (h_{t,i} - h'_i) dL/dh_{t,i}(alpha_k)
 * </pre>
 *
 * with the same quadratures as IPG ({@link ReverseMode#siteGradients} at each alpha_k gives
 * {@code dL/dalpha_i}, which already carries the factor h - h'). Completeness: sum_i IG_i ~
 * L(1) - L(0) per problem; run.json reports both. Per-problem results are kept in
 * {@code prompts/NNNNN.safetensors}, so an interrupted run resumes.
 */
public final class IntegratedGradients {

    /**
     * @param steps      quadrature points
     * @param quadrature the rule
     * @param baseline   zero, or the {@link MeanBaseline} (mean over the support prompts' positions, as for IPG)
     * @param positions  all positions (prompt and solution) or the solution only
     */
    public record Options(int steps, Quadrature quadrature, IpgOptions.BaselineKind baseline, IpgOptions.Positions positions) {
        public Options {
            quadrature.rule(steps);
        }
    }

    private IntegratedGradients() {
    }

    /** Prompt followed by the gold solution (cut to the context), and the prompt length. */
    public static Trajectory sequence(Support s, int i) {
        int[] prompt = s.prompt(i);
        String rendered = s.format().render(s.problem(i).question(), s.tok());
        String sep = rendered.isEmpty() || Character.isWhitespace(rendered.charAt(rendered.length() - 1)) ? "" : "\n";
        int[] ids = Support.concat(prompt, s.tok().encode(sep + GoldSolutions.of(s.data(), s.problem(i)), false));
        int ctx = s.model().config().maxPositions();
        if (ids.length > ctx) {
            ids = java.util.Arrays.copyOf(ids, ctx);
        }
        if (ids.length <= prompt.length) {
            throw new IpgException("ig: the prompt of problem " + s.problem(i).id() + " fills the model's context of " + ctx
                    + " positions; no room for the solution");
        }
        return new Trajectory(ids, prompt.length);
    }

    /** Computes (or finds, or resumes) the scores at {@code site}. */
    public static JsonNode run(Support s, Site site, Options o, Path dir) {
        try (RunLock lock = ScoresOutput.lock(dir)) {
            return runLocked(s, site, o, dir);
        }
    }

    private static JsonNode runLocked(Support s, Site site, Options o, Path dir) {
        site.checkIn(s.model().config());
        long t0 = System.nanoTime();
        int m = s.used();
        ObjectNode c = s.config(Method.IG.cliName(), site);
        ObjectNode h = c.putObject("hyperparameters");
        h.put("objective", "teacher-forced log-probability of the gold solution");
        h.put("steps", o.steps());
        h.put("quadrature", o.quadrature().cliName());
        h.put("baseline", o.baseline().name().toLowerCase(Locale.ROOT));
        h.put("positions", o.positions().name().toLowerCase(Locale.ROOT));
        if (o.baseline() == IpgOptions.BaselineKind.MEAN) {
            h.put("baseline_problems", m); // the mean baseline, hence every result, depends on the problems used
            h.put("baseline_definition", MeanBaseline.DEFINITION);
        }
        JsonNode done = ScoresOutput.prepare(dir, c);
        if (done != null) {
            return done;
        }
        Path prompts = dir.resolve("prompts");
        AtomicFiles.createDirectories(prompts, "run directory");
        AtomicFiles.removeStaleTemporaries(prompts);
        int d = site.width(s.model().config());
        float[] base = o.baseline() == IpgOptions.BaselineKind.MEAN ? meanBaseline(s, site, m, dir) : null;
        ReverseMode reverse = new ReverseMode(s.model());
        Quadrature.Rule rule = o.quadrature().rule(o.steps());
        float[] perPrompt = new float[m * d];
        double[] l0 = new double[m];
        double[] l1 = new double[m];
        RunDirectory.start(s.progress(), "problems", m, i -> Files.exists(file(prompts, i)));
        for (int i = 0; i < m; i++) {
            Path f = file(prompts, i);
            if (!Files.exists(f)) {
                Trajectory t = sequence(s, i);
                int from = o.positions() == IpgOptions.Positions.GENERATED ? t.from() : 0;
                PathIntegral acc = new PathIntegral(d, null);
                for (int k = 0; k < rule.nodes().length; k++) {
                    var interp = Interpolation.at(site, d, rule.nodes()[k], base, from);
                    PathIntegral.Point point = acc.point(rule.weights()[k]);
                    point.add(1, reverse.siteGradients(List.of(t), interp, false, Policy.softmax()).getFirst().scaleGrad());
                    point.close();
                }
                double a1 = sum(reverse.logProbs(List.of(t), Hooks.none()).getFirst());
                double a0 = sum(reverse.logProbs(List.of(t), Interpolation.at(site, d, 0, base, from).hooks()).getFirst());
                float[] ig = acc.scores();
                double total = acc.sum();
                new SafetensorsWriter().add("ig", ig, new long[] {d}, DType.F32).metadata("ipg.l0", Double.toString(a0))
                        .metadata("ipg.l1", Double.toString(a1)).metadata("ipg.id", s.problem(i).id())
                        .metadata("ipg.tokens", Integer.toString(t.scored())).write(f);
                s.progress().advance(String.format(Locale.ROOT, "sum IG %.3f, L(1)-L(0) %.3f", total, a1 - a0));
            }
            try (SafetensorsFile sf = SafetensorsFile.open(f)) {
                if (!s.problem(i).id().equals(sf.metadata().get("ipg.id"))) {
                    throw new IpgException(f + " belongs to problem '" + sf.metadata().get("ipg.id") + "', not '" + s.problem(i).id()
                            + "'; use another output directory");
                }
                sf.matrix("ig").copyRow(0, perPrompt, i * d);
                l0[i] = Double.parseDouble(sf.metadata().get("ipg.l0"));
                l1[i] = Double.parseDouble(sf.metadata().get("ipg.l1"));
            }
        }
        float[] scores = ComponentStats.meanRows(perPrompt, m, d);
        double[] delta = new double[m];
        for (int i = 0; i < m; i++) {
            delta[i] = l1[i] - l0[i];
        }
        CompletenessCheck check = CompletenessCheck.of(scores, delta, null, null);
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("problems", m);
        ObjectNode comp = r.putObject("completeness");
        comp.put("sum_scores", check.sumScores());
        comp.put("mean_l1_minus_l0", check.meanDelta());
        comp.put("gap", check.gap());
        comp.put("note", "sum_i IG_i equals L(1) - L(0) up to the quadrature error");
        return ScoresOutput.write(dir, site, scores, perPrompt, m, c, r, Map.of(), 50, (System.nanoTime() - t0) / 1e9);
    }

    private static Path file(Path prompts, int i) {
        return prompts.resolve(String.format(Locale.ROOT, "%05d.safetensors", i));
    }

    /** The {@link MeanBaseline} of the support prompts, the one every method uses (kept in DIR/baseline.safetensors). */
    private static float[] meanBaseline(Support s, Site site, int m, Path dir) {
        List<int[]> prompts = new java.util.ArrayList<>();
        for (int i = 0; i < m; i++) {
            prompts.add(s.prompt(i));
        }
        return MeanBaseline.stored(dir.resolve("baseline.safetensors"), s.model(), prompts, List.of(site), null, Site::toString,
                s.progress()::message).get(site);
    }

    private static double sum(float[] a) {
        double s = 0;
        for (float x : a) {
            s += x;
        }
        return s;
    }
}
