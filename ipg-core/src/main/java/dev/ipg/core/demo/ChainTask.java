package dev.ipg.core.demo;

import dev.ipg.core.IpgException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Chained arithmetic on small numbers: start from a number and apply two to four operations in
 * order; every intermediate value stays in {@code [0, maxValue]}.
 *
 * <pre>
 *   question:  Start with 23, add 9, times 2, minus 17.
 *   solution:  23+9=32. 32*2=62 wait, 32*2=64. 64-17=47.
 *              #### 47
 * </pre>
 *
 * Each written step {@code a op b=c} consumes the previous step's result, so the final answer is
 * right only if every step is. A training solution reflects at some steps: after a step's result
 * it writes {@code wait,} and computes the step again. With probability {@link Spec#errorRate}
 * the first result is a slip (off by 1, 2 or 10, or with its digits swapped) and the second is the
 * correction; with probability {@link Spec#checkRate} the first result is right and the
 * re-check confirms it. A model trained on this learns to compare a written result with its own
 * computation before going on, which is what a reflection signal can count and an attribution
 * can find. Solution length and the number of reflections therefore vary from problem to
 * problem.
 */
public final class ChainTask {

    /** An operation of a chain. */
    public enum Op {
        ADD("add", '+'), SUBTRACT("minus", '-'), MULTIPLY("times", '*');

        private final String word;
        private final char symbol;

        Op(String word, char symbol) {
            this.word = word;
            this.symbol = symbol;
        }

        /** The word used in questions ("add"). */
        public String word() {
            return word;
        }

        /** The symbol used in written steps ('+'). */
        public char symbol() {
            return symbol;
        }

        public int apply(int a, int b) {
            return switch (this) {
                case ADD -> a + b;
                case SUBTRACT -> a - b;
                case MULTIPLY -> a * b;
            };
        }
    }

    /**
     * The distribution of problems and solutions.
     *
     * @param minSteps    fewest operations
     * @param maxSteps    most operations
     * @param maxStart    largest starting number (the smallest is 2)
     * @param maxValue    largest intermediate value
     * @param maxOperand  largest number added or subtracted (the smallest is 2)
     * @param maxFactor   largest multiplier (the smallest is 2)
     * @param errorRate   per step, probability of a slip followed by "wait" and the correction
     * @param checkRate   per step, probability of a right result followed by "wait" and a re-check
     * @param recheckFrom 0: reflection at random at the two rates above; otherwise the rule of the
     *                    planted testbed: a step whose true result is at least this value is always
     *                    re-checked ("wait," and the step again), its first result a slip with
     *                    probability {@code errorRate}; every other step is never re-checked
     *                    ({@code checkRate} unused)
     */
    public record Spec(int minSteps, int maxSteps, int maxStart, int maxValue, int maxOperand, int maxFactor,
                       double errorRate, double checkRate, int recheckFrom) {
        public Spec {
            if (minSteps < 1 || maxSteps < minSteps || maxStart < 2 || maxValue < maxStart || maxOperand < 2
                    || maxFactor < 2 || errorRate < 0 || checkRate < 0 || errorRate + checkRate > 1
                    || recheckFrom < 0 || recheckFrom > maxValue) {
                throw new IpgException("invalid chain task spec: " + this);
            }
        }

        /** Reflection at random at the given rates (no re-check rule). */
        public Spec(int minSteps, int maxSteps, int maxStart, int maxValue, int maxOperand, int maxFactor,
                    double errorRate, double checkRate) {
            this(minSteps, maxSteps, maxStart, maxValue, maxOperand, maxFactor, errorRate, checkRate, 0);
        }

        /**
         * The planted testbed's task: two to five operations, and a step is re-checked exactly
         * when its result is 50 or more (its first result a slip with probability 0.3), so the
         * re-check decision depends on the running value and greedy decoding reflects too.
         */
        public static Spec planted() {
            return new Spec(2, 5, 50, 99, 39, 5, 0.30, 0, 50);
        }

        /** Whether this spec re-checks by the value rule rather than at random. */
        public boolean ruleBased() {
            return recheckFrom > 0;
        }

        /** The demo model's task. */
        public static Spec standard() {
            return new Spec(2, 4, 50, 99, 39, 5, 0.10, 0.20);
        }

        /** The same problems with solutions that never reflect. */
        public Spec withoutReflection() {
            return new Spec(minSteps, maxSteps, maxStart, maxValue, maxOperand, maxFactor, 0, 0, 0);
        }
    }

    /** One operation applied to the running value. */
    public record Step(Op op, int operand, int before, int after) {
        /** {@code before op operand=result}, e.g. {@code 32*2=64}. */
        public String written(int result) {
            return before + String.valueOf(op.symbol()) + operand + "=" + result;
        }
    }

    /** A problem: the start and its steps (each step's {@code before} is the previous {@code after}). */
    public record Problem(int start, List<Step> steps) {
        public Problem {
            steps = List.copyOf(steps);
        }

        /** The question text. */
        public String question() {
            StringBuilder sb = new StringBuilder("Start with ").append(start);
            for (Step s : steps) {
                sb.append(", ").append(s.op().word()).append(' ').append(s.operand());
            }
            return sb.append('.').toString();
        }

        /** The true final value. */
        public int answer() {
            return steps.getLast().after();
        }
    }

    /**
     * A written solution.
     *
     * @param text        the steps and the {@code #### N} line
     * @param reflections how many times it writes "wait"
     * @param corrections how many of those correct a slip
     */
    public record Solution(String text, int reflections, int corrections) {
    }

    private final Spec spec;

    public ChainTask(Spec spec) {
        this.spec = spec;
    }

    public Spec spec() {
        return spec;
    }

    /** A random problem. */
    public Problem problem(SplittableRandom rng) {
        int n = spec.minSteps() + rng.nextInt(spec.maxSteps() - spec.minSteps() + 1);
        int v = 2 + rng.nextInt(spec.maxStart() - 1);
        int start = v;
        List<Step> steps = new ArrayList<>();
        List<Op> feasible = new ArrayList<>(3);
        for (int i = 0; i < n; i++) {
            feasible.clear();
            if (v + 2 <= spec.maxValue()) {
                feasible.add(Op.ADD);
            }
            if (v >= 2) {
                feasible.add(Op.SUBTRACT);
            }
            if (v >= 2 && 2 * v <= spec.maxValue()) {
                feasible.add(Op.MULTIPLY);
            }
            Op op = feasible.get(rng.nextInt(feasible.size()));
            int hi = switch (op) {
                case ADD -> Math.min(spec.maxOperand(), spec.maxValue() - v);
                case SUBTRACT -> Math.min(spec.maxOperand(), v);
                case MULTIPLY -> Math.min(spec.maxFactor(), spec.maxValue() / v);
            };
            int operand = 2 + rng.nextInt(hi - 1);
            int after = op.apply(v, operand);
            steps.add(new Step(op, operand, v, after));
            v = after;
        }
        return new Problem(start, steps);
    }

    /** A solution of {@code p} with reflections drawn from {@code rng} at the spec's rates. */
    public Solution solve(Problem p, SplittableRandom rng) {
        StringBuilder sb = new StringBuilder();
        int reflections = 0;
        int corrections = 0;
        for (Step s : p.steps()) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            double u = rng.nextDouble();
            if (spec.ruleBased()) {
                if (s.after() >= spec.recheckFrom()) {
                    int first = u < spec.errorRate() ? slip(s.after(), rng) : s.after();
                    sb.append(s.written(first)).append(" wait, ");
                    reflections++;
                    corrections += first != s.after() ? 1 : 0;
                }
            } else if (u < spec.errorRate()) {
                sb.append(s.written(slip(s.after(), rng))).append(" wait, ");
                reflections++;
                corrections++;
            } else if (u < spec.errorRate() + spec.checkRate()) {
                sb.append(s.written(s.after())).append(" wait, ");
                reflections++;
            }
            sb.append(s.written(s.after())).append('.');
        }
        sb.append("\n#### ").append(p.answer());
        return new Solution(sb.toString(), reflections, corrections);
    }

    /** The solution without any reflection. */
    public static String cleanSolution(Problem p) {
        StringBuilder sb = new StringBuilder();
        for (Step s : p.steps()) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(s.written(s.after())).append('.');
        }
        return sb.append("\n#### ").append(p.answer()).toString();
    }

    /**
     * The solution text with every re-check removed: each {@code "a op b=x wait, "} before a step
     * deleted, which leaves {@link #cleanSolution} of the same problem.
     */
    public static String withoutRechecks(String solution) {
        return RECHECK.matcher(solution).replaceAll("");
    }

    private static final java.util.regex.Pattern RECHECK = java.util.regex.Pattern.compile("[^ ]+ wait, ");

    /** Whether a written step result is re-checked by the rule of {@code spec} (always false for random reflection). */
    public boolean rechecks(Step s) {
        return spec.ruleBased() && s.after() >= spec.recheckFrom();
    }

    /** A plausible wrong result near {@code r}: off by 1, 2 or 10, or its two digits swapped; never r, never negative. */
    static int slip(int r, SplittableRandom rng) {
        while (true) {
            int w = switch (rng.nextInt(4)) {
                case 0 -> r + (rng.nextBoolean() ? 1 : -1);
                case 1 -> r + (rng.nextBoolean() ? 2 : -2);
                case 2 -> r + (rng.nextBoolean() ? 10 : -10);
                default -> r >= 10 && r <= 99 ? (r % 10) * 10 + r / 10 : -1;
            };
            if (w >= 0 && w != r && !(r >= 10 && w < 10 && r % 10 == 0 && w == r / 10)) {
                return w;
            }
        }
    }
}
