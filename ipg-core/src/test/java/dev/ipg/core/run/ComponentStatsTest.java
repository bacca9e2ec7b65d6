package dev.ipg.core.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.testutil.PyTorchReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-component figures and the ranking against numpy (mean, std with ddof = 1, a stable descending sort). */
class ComponentStatsTest {

    @TempDir
    Path tmp;

    @Test
    void meanStandardErrorPositiveAndRankingMatchNumpy() throws IOException {
        int m = 7;
        int d = 6;
        Random rnd = new Random(3);
        float[] pp = new float[m * d];
        for (int i = 0; i < pp.length; i++) {
            pp[i] = (float) (rnd.nextGaussian() + 0.5);
        }
        for (int i = 0; i < m; i++) { // components 2 and 4 tie exactly; 5 is constant
            pp[i * d + 4] = pp[i * d + 2];
            pp[i * d + 5] = 0.25f;
        }
        StringBuilder values = new StringBuilder();
        for (float v : pp) {
            values.append(values.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, "%.9e", v));
        }
        Path script = tmp.resolve("stats.py");
        Files.writeString(script, String.join("\n",
                "import numpy as np",
                "x = np.array([" + values + "], dtype=np.float32).reshape(" + m + ", " + d + ").astype(np.float64)",
                "mean = x.mean(axis=0)",
                "se = x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])",
                "pos = (x > 0).sum(axis=0)",
                "order = sorted(range(x.shape[1]), key=lambda c: (-np.float32(mean[c]), c))",
                "print(' '.join(repr(float(v)) for v in mean))",
                "print(' '.join(repr(float(v)) for v in se))",
                "print(' '.join(str(int(v)) for v in pos))",
                "print(' '.join(str(c) for c in order))", ""));
        String[] lines = PyTorchReference.runScript(script, List.of()).strip().split("\n");

        ComponentStats s = ComponentStats.of("blocks.0.hook_resid_post", pp, m, d);
        double[] mean = parse(lines[0]);
        double[] se = parse(lines[1]);
        double[] pos = parse(lines[2]);
        double[] order = parse(lines[3]);
        for (int c = 0; c < d; c++) {
            assertEquals(mean[c], s.scores()[c], 1e-6 * Math.max(1, Math.abs(mean[c])), "mean of component " + c);
            assertEquals(se[c], s.stdErr()[c], 1e-6 * Math.max(1e-3, se[c]), "standard error of component " + c);
            assertEquals((int) pos[c], s.positive()[c], "positive prompts of component " + c);
        }
        int[] ranked = ComponentStats.ranked(s.scores(), v -> v);
        for (int r = 0; r < d; r++) {
            assertEquals((int) order[r], ranked[r], "rank " + r);
        }
        assertEquals(0f, s.stdErr()[5], "a constant component has no spread");
    }

    @Test
    void topCsvListsTheBestRowsWithTheirSpread() throws IOException {
        float[] pp = {1, -2, 3, 3, -4, 1}; // m = 2, d = 3: means 2, -3, 2
        ComponentStats s = ComponentStats.of("x", pp, 2, 3);
        Path file = tmp.resolve("top.csv");
        ComponentStats.writeTopCsv(file, List.of(s, ComponentStats.of("y", new float[] {0.5f}, null, 0, 1)), 2);
        List<String> rows = Files.readAllLines(file);
        assertEquals(ComponentStats.TOP_CSV_HEADER, rows.get(0));
        // component 0 and 2 tie at 2: the lower index first; se = |1 - 3| / 2 = 1 for both
        assertEquals("x,1,0,2.0000000,2.0000000,1.0000000,2,2", rows.get(1));
        assertEquals("x,2,2,2.0000000,2.0000000,1.0000000,2,2", rows.get(2));
        assertEquals("y,1,0,0.50000000,0.50000000,,,", rows.get(3));
        assertEquals(4, rows.size());
    }

    @Test
    void onePromptHasNoStandardError() {
        ComponentStats s = ComponentStats.of("x", new float[] {1, -1}, 1, 2);
        assertTrue(Float.isNaN(s.stdErr()[0]));
        assertArrayEquals(new int[] {1, 0}, s.positive());
        assertArrayEquals(new float[] {1, -1}, ComponentStats.meanRows(new float[] {1, -1}, 1, 2));
    }

    private static double[] parse(String line) {
        List<Double> out = new ArrayList<>();
        for (String t : line.trim().split(" ")) {
            out.add(Double.parseDouble(t));
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
