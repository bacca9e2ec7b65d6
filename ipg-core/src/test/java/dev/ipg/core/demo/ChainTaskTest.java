package dev.ipg.core.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ChainTaskTest {

    static final ChainTask TASK = new ChainTask(ChainTask.Spec.standard());
    static final Pattern CLAUSE = Pattern.compile(", (add|minus|times) (\\d+)");
    static final Pattern STEP = Pattern.compile("(\\d+)([-+*])(\\d+)=(\\d+)");

    /** Reads the question text and computes its value without the generator's code. */
    static int evaluate(String question) {
        Matcher start = Pattern.compile("^Start with (\\d+)").matcher(question);
        assertTrue(start.find(), question);
        int v = Integer.parseInt(start.group(1));
        Matcher m = CLAUSE.matcher(question);
        int clauses = 0;
        while (m.find()) {
            int k = Integer.parseInt(m.group(2));
            v = switch (m.group(1)) {
                case "add" -> v + k;
                case "minus" -> v - k;
                default -> v * k;
            };
            assertTrue(v >= 0 && v <= 99, question);
            clauses++;
        }
        assertTrue(clauses >= 2 && clauses <= 4, question);
        assertTrue(question.endsWith("."), question);
        return v;
    }

    @Test
    void theFinalLineIsTheTrueResultAndEveryKeptStepIsRight() {
        SplittableRandom rng = new SplittableRandom(11);
        int reflections = 0;
        int corrections = 0;
        int solutions = 2000;
        for (int n = 0; n < solutions; n++) {
            ChainTask.Problem p = TASK.problem(rng);
            int truth = evaluate(p.question());
            assertEquals(truth, p.answer());
            ChainTask.Solution s = TASK.solve(p, rng);
            String[] lines = s.text().split("\n");
            assertEquals(2, lines.length, s.text());
            assertEquals("#### " + truth, lines[1]);
            // steps are separated by ". "; a reflected step reads "a op b=r wait, a op b=c."
            int waits = 0;
            int fixed = 0;
            int previous = Integer.parseInt(p.question().replaceAll("^Start with (\\d+),.*", "$1"));
            for (String step : lines[0].split("\\. ?")) {
                String[] parts = step.split(" wait, ");
                Matcher last = STEP.matcher(parts[parts.length - 1]);
                assertTrue(last.matches(), step);
                int a = Integer.parseInt(last.group(1));
                int b = Integer.parseInt(last.group(3));
                int c = Integer.parseInt(last.group(4));
                int expected = switch (last.group(2)) {
                    case "+" -> a + b;
                    case "-" -> a - b;
                    default -> a * b;
                };
                assertEquals(expected, c, step);
                assertEquals(previous, a, "each step starts from the previous result: " + s.text());
                previous = c;
                if (parts.length == 2) {
                    waits++;
                    Matcher first = STEP.matcher(parts[0]);
                    assertTrue(first.matches(), step);
                    assertEquals(last.group(1) + last.group(2) + last.group(3), first.group(1) + first.group(2) + first.group(3));
                    if (Integer.parseInt(first.group(4)) != c) {
                        fixed++;
                    }
                } else {
                    assertEquals(1, parts.length, step);
                }
            }
            assertEquals(truth, previous);
            assertEquals(waits, s.reflections());
            assertEquals(fixed, s.corrections());
            reflections += waits;
            corrections += fixed;
            assertEquals(ChainTask.cleanSolution(p), new ChainTask(ChainTask.Spec.standard().withoutReflection()).solve(p, rng).text());
        }
        // about 3 steps per problem (2, 3 or 4 equally likely), each reflecting at the error rate plus the
        // check rate and correcting at the error rate
        double perStep = 3.0 * solutions;
        ChainTask.Spec spec = TASK.spec();
        assertEquals(spec.errorRate() + spec.checkRate(), reflections / perStep, 0.02);
        assertEquals(spec.errorRate(), corrections / perStep, 0.015);
    }

    @Test
    void theSameSeedGivesTheSameProblemsAndSolutions() {
        SplittableRandom a = new SplittableRandom(3);
        SplittableRandom b = new SplittableRandom(3);
        for (int i = 0; i < 100; i++) {
            ChainTask.Problem pa = TASK.problem(a);
            ChainTask.Problem pb = TASK.problem(b);
            assertEquals(pa, pb);
            assertEquals(TASK.solve(pa, a), TASK.solve(pb, b));
        }
        assertNotEquals(TASK.problem(new SplittableRandom(3)), TASK.problem(new SplittableRandom(4)));
    }

    @Test
    void slipsAreWrongNonNegativeAndNear() {
        SplittableRandom rng = new SplittableRandom(1);
        for (int r = 0; r <= 99; r++) {
            for (int i = 0; i < 20; i++) {
                int w = ChainTask.slip(r, rng);
                assertNotEquals(r, w);
                assertTrue(w >= 0);
                int swapped = r >= 10 ? (r % 10) * 10 + r / 10 : -1;
                int d = Math.abs(w - r);
                assertTrue(d == 1 || d == 2 || d == 10 || w == swapped, r + " -> " + w);
            }
        }
    }
}
