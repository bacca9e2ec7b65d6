package dev.ipg.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The planted testbed's task rule, its counterfactual solutions and the planted set's choice. */
class PlantedTaskTest {

    static final Pattern WRITTEN = Pattern.compile("(\\d+)([-+*])(\\d+)=(\\d+)( wait, |\\.)");

    /** Every step whose true result is at least 50 is re-checked exactly once, no other step is; the text parsed independently. */
    @Test
    void reChecksExactlyTheStepsWhoseResultIsFiftyOrMore() {
        ChainTask task = new ChainTask(ChainTask.Spec.planted());
        SplittableRandom rng = new SplittableRandom(3);
        int slips = 0;
        int rechecks = 0;
        for (int n = 0; n < 2000; n++) {
            ChainTask.Problem p = task.problem(rng);
            ChainTask.Solution s = task.solve(p, rng);
            Matcher m = WRITTEN.matcher(s.text());
            int expected = 0;
            int seen = 0;
            String pendingWait = null;
            while (m.find()) {
                int a = Integer.parseInt(m.group(1));
                int b = Integer.parseInt(m.group(3));
                int truth = switch (m.group(2)) {
                    case "+" -> a + b;
                    case "-" -> a - b;
                    default -> a * b;
                };
                int written = Integer.parseInt(m.group(4));
                if (m.group(5).equals(" wait, ")) {
                    assertTrue(truth >= 50, s.text());
                    pendingWait = m.group(1) + m.group(2) + m.group(3);
                    seen++;
                    slips += written != truth ? 1 : 0;
                } else {
                    assertEquals(truth, written, s.text());
                    if (truth >= 50) {
                        expected++;
                        assertEquals(m.group(1) + m.group(2) + m.group(3), pendingWait, "a step of 50 or more not re-checked: " + s.text());
                    }
                    pendingWait = null;
                }
            }
            assertEquals(expected, seen, s.text());
            assertEquals(seen, s.reflections());
            rechecks += seen;
            assertEquals(ChainTask.cleanSolution(p), ChainTask.withoutRechecks(s.text()));
            assertTrue(p.steps().size() >= 2 && p.steps().size() <= 5);
        }
        // the first result of a re-checked step is a slip with probability 0.3
        double rate = (double) slips / rechecks;
        assertTrue(Math.abs(rate - 0.3) < 4 * Math.sqrt(0.21 / rechecks), "slip rate " + rate + " of " + rechecks);
    }

    @Test
    void theStandardTaskIsUnchanged() {
        // the demo model's data must not move: random reflection draws the same stream as before the rule existed
        ChainTask task = new ChainTask(ChainTask.Spec.standard());
        assertEquals(0, ChainTask.Spec.standard().recheckFrom());
        SplittableRandom a = new SplittableRandom(11);
        ChainTask.Problem p = task.problem(a);
        ChainTask.Solution s = task.solve(p, a);
        assertEquals(ChainTask.cleanSolution(p), ChainTask.withoutRechecks(s.text()));
    }

    @Test
    void plantedIndicesAreDistinctSortedAndFixedBySeed() {
        Planted pl = Planted.standard();
        int[] a = pl.indices(1234, 384);
        assertEquals(8, a.length);
        assertArrayEquals(a, pl.indices(1234, 384));
        assertTrue(Arrays.stream(a).distinct().count() == 8 && Arrays.stream(a).allMatch(i -> i >= 0 && i < 384));
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        assertArrayEquals(sorted, a);
        int[] r = DemoRecipe.randomSet(5, 384, 8, a);
        assertEquals(8, Arrays.stream(r).distinct().count());
        for (int i : r) {
            assertTrue(Arrays.stream(a).noneMatch(x -> x == i));
        }
    }
}
