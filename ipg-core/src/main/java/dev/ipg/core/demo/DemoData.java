package dev.ipg.core.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ipg.core.IpgException;
import dev.ipg.core.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The demo task's train, support and eval splits. No question appears twice, within a split or
 * across splits. Each split draws from its own random stream (splits of the seed, in the order
 * eval, support, train), so the eval and support sets do not change when the training set grows.
 * Support and eval answers are clean solutions (no reflection); training answers reflect at the
 * task's rates. All three are written in GSM8K shape: {@code {"question": ..., "answer": "... #### N"}}.
 *
 * @param train   training examples
 * @param support the support set for attribution
 * @param eval    the held-out evaluation set
 */
public record DemoData(List<Example> train, List<Example> support, List<Example> eval) {

    /**
     * One problem with a written solution.
     *
     * @param question    the question text
     * @param answer      the solution, ending in {@code #### N}
     * @param gold        N, the true final value
     * @param steps       number of operations
     * @param reflections how often the solution writes "wait"
     */
    public record Example(String question, String answer, int gold, int steps, int reflections) {
    }

    public DemoData {
        train = List.copyOf(train);
        support = List.copyOf(support);
        eval = List.copyOf(eval);
    }

    /** Generates the splits. */
    public static DemoData generate(ChainTask task, long seed, int trainSize, int supportSize, int evalSize) {
        SplittableRandom base = new SplittableRandom(seed);
        SplittableRandom evalRng = base.split();
        SplittableRandom supportRng = base.split();
        SplittableRandom trainRng = base.split();
        Set<String> seen = new HashSet<>();
        List<Example> eval = draw(task, evalRng, evalSize, seen, false);
        List<Example> support = draw(task, supportRng, supportSize, seen, false);
        List<Example> train = draw(task, trainRng, trainSize, seen, true);
        return new DemoData(train, support, eval);
    }

    /**
     * A dev split: {@code size} clean problems drawn from the fourth random stream of
     * {@code seed} (after eval, support and train, so those splits do not change), sharing no
     * question with any split of {@code others} (the data the same seed generated).
     */
    public static List<Example> dev(ChainTask task, long seed, int size, DemoData others) {
        SplittableRandom base = new SplittableRandom(seed);
        base.split();
        base.split();
        base.split();
        SplittableRandom devRng = base.split();
        Set<String> seen = new HashSet<>();
        for (List<Example> l : List.of(others.eval(), others.support(), others.train())) {
            l.forEach(e -> seen.add(e.question()));
        }
        return draw(task, devRng, size, seen, false);
    }

    private static List<Example> draw(ChainTask task, SplittableRandom rng, int n, Set<String> seen, boolean reflect) {
        List<Example> out = new ArrayList<>(n);
        int misses = 0;
        while (out.size() < n) {
            ChainTask.Problem p = task.problem(rng);
            if (!seen.add(p.question())) {
                if (++misses > 1000 + 10L * n) {
                    throw new IpgException("the task has too few distinct problems for " + n + " more examples");
                }
                continue;
            }
            if (reflect) {
                ChainTask.Solution s = task.solve(p, rng);
                out.add(new Example(p.question(), s.text(), p.answer(), p.steps().size(), s.reflections()));
            } else {
                out.add(new Example(p.question(), ChainTask.cleanSolution(p), p.answer(), p.steps().size(), 0));
            }
        }
        return out;
    }

    /** Writes examples as GSM8K-shaped JSON lines, atomically. */
    public static void writeJsonl(Path file, List<Example> examples) {
        ObjectMapper om = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        try {
            for (Example e : examples) {
                ObjectNode n = om.createObjectNode();
                n.put("question", e.question());
                n.put("answer", e.answer());
                sb.append(om.writeValueAsString(n)).append('\n');
            }
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }
}
