package dev.ipg.core.attribution.baselines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.Json;
import dev.ipg.core.io.RunLock;
import dev.ipg.core.model.Site;
import dev.ipg.core.steer.ScoresFile;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;

/**
 * The ranking of two-stage IPG ({@code ipg compare --refine K}): a first IPG run over the whole
 * path ranks every component; a second run moves only the first stage's top K (the candidates)
 * along the path while every other component stays at its real activation (alpha = 1), so that
 * its scores of the candidates add up to Jbar(1) - Jbar(candidates at the baseline), the
 * counterfactual a suppression of those candidates tests. The final ranking puts the K
 * candidates first, in the order of their second-stage scores, then every other component in
 * the order of its first-stage score (ties by the lower index, as every selection).
 *
 * <p>The run directory holds that ranking as scores: a component's score is the number of
 * components ranked below it (d - 1 for the first, 0 for the last), so that the top k by signed
 * score is the ranking's first k. The two stages' own scores stay in their run directories.
 */
public final class RefinedRanking {

    private RefinedRanking() {
    }

    /**
     * The ranking scores: {@code candidates} (distinct indices into both arrays) ordered by
     * {@code second}, then the others by {@code first}, as {@code d - 1 - position}.
     */
    public static float[] scores(float[] first, float[] second, int[] candidates) {
        int d = first.length;
        if (second.length != d) {
            throw new IllegalArgumentException("stage scores of different widths: " + d + " and " + second.length);
        }
        boolean[] in = new boolean[d];
        for (int c : candidates) {
            if (in[c]) {
                throw new IllegalArgumentException("candidate " + c + " is listed twice");
            }
            in[c] = true;
        }
        Integer[] order = new Integer[d];
        for (int i = 0; i < d; i++) {
            order[i] = i;
        }
        Comparator<Integer> byStage = Comparator.comparing((Integer i) -> !in[i])
                .thenComparing((Integer i) -> -(double) (in[i] ? second[i] : first[i]))
                .thenComparing(i -> i);
        Arrays.sort(order, byStage);
        float[] s = new float[d];
        for (int p = 0; p < d; p++) {
            s[order[p]] = d - 1 - p;
        }
        return s;
    }

    /**
     * Writes (or finds) the ranking of the two stages in {@code stage1} and {@code stage2} (the
     * second run with the first's top {@code k} as its candidates) at {@code site} into {@code dir}.
     */
    public static JsonNode write(Path stage1, Path stage2, Site site, int[] candidates, int k, Path dir) {
        try (RunLock lock = ScoresOutput.lock(dir)) {
            long t0 = System.nanoTime();
            ObjectNode c = JsonNodeFactory.instance.objectNode();
            c.put("method", Method.IPG.cliName());
            c.put("site", site.toString());
            c.putArray("sites").add(site.toString());
            c.put("refine", k);
            c.set("stage1", config(stage1));
            c.set("stage2", config(stage2));
            JsonNode done = ScoresOutput.prepare(dir, c);
            if (done != null) {
                return done;
            }
            float[] s = scores(ScoresFile.load(stage1, site).scores(), ScoresFile.load(stage2, site).scores(), candidates);
            ObjectNode r = JsonNodeFactory.instance.objectNode();
            r.put("note", "ranking scores (components ranked below): the first stage's top " + k + " in the order of the second"
                    + " stage (only they move along the path, the rest at alpha = 1), then the rest in the first stage's order");
            r.put("stage1_dir", stage1.toString());
            r.put("stage2_dir", stage2.toString());
            return ScoresOutput.write(dir, site, s, null, 0, c, r, Map.of(), 50, (System.nanoTime() - t0) / 1e9);
        }
    }

    private static JsonNode config(Path stage) {
        JsonNode run = Json.read(stage.resolve(ScoresOutput.RUN));
        JsonNode c = run.path("config");
        if (c.isMissingNode()) {
            throw new IpgException(stage.resolve(ScoresOutput.RUN) + ": no config");
        }
        return c;
    }
}
