package dev.ipg.core.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.data.Dataset;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoDataTest {

    static final ChainTask TASK = new ChainTask(ChainTask.Spec.standard());

    @TempDir
    Path dir;

    @Test
    void splitsAreDisjointAndLoadAsGsm8k() {
        DemoData d = DemoData.generate(TASK, 42, 3000, 200, 300);
        assertEquals(3000, d.train().size());
        assertEquals(200, d.support().size());
        assertEquals(300, d.eval().size());
        Set<String> all = new HashSet<>();
        for (List<DemoData.Example> split : List.of(d.train(), d.support(), d.eval())) {
            for (DemoData.Example e : split) {
                assertTrue(all.add(e.question()), "question twice: " + e.question());
            }
        }
        DemoData.writeJsonl(dir.resolve("train.jsonl"), d.train());
        DemoData.writeJsonl(dir.resolve("support.jsonl"), d.support());
        DemoData.writeJsonl(dir.resolve("eval.jsonl"), d.eval());
        Dataset train = Dataset.load(dir.resolve("train.jsonl"));
        Dataset support = Dataset.load(dir.resolve("support.jsonl"));
        Dataset eval = Dataset.load(dir.resolve("eval.jsonl"));
        assertEquals(Dataset.Shape.GSM8K, eval.shape());
        assertEquals(Dataset.Shape.GSM8K, support.shape());
        assertTrue(Dataset.disjoint(support, eval).isDisjoint());
        assertTrue(Dataset.disjoint(train, eval).isDisjoint());
        assertTrue(Dataset.disjoint(train, support).isDisjoint());
        for (int i = 0; i < eval.size(); i++) {
            assertEquals(Integer.toString(ChainTaskTest.evaluate(eval.get(i).question())), eval.get(i).gold());
            assertEquals(d.eval().get(i).question(), eval.get(i).question());
            assertTrue(!d.eval().get(i).answer().contains("wait"));
        }
        for (int i = 0; i < train.size(); i++) {
            assertEquals(Integer.toString(ChainTaskTest.evaluate(train.get(i).question())), train.get(i).gold());
        }
        long reflective = d.train().stream().filter(e -> e.answer().contains("wait")).count();
        // a solution of n steps reflects somewhere with probability 1 - (1 - r)^n, n = 2, 3, 4 equally likely
        double r = TASK.spec().errorRate() + TASK.spec().checkRate();
        double expected = 3000 * (3 - Math.pow(1 - r, 2) - Math.pow(1 - r, 3) - Math.pow(1 - r, 4)) / 3;
        assertEquals(expected, reflective, 4 * Math.sqrt(expected), "reflective training solutions");
    }

    @Test
    void evalAndSupportDoNotDependOnTheTrainingSetSize() {
        DemoData small = DemoData.generate(TASK, 7, 10, 50, 60);
        DemoData large = DemoData.generate(TASK, 7, 2000, 50, 60);
        assertEquals(small.eval(), large.eval());
        assertEquals(small.support(), large.support());
        assertEquals(small.train(), large.train().subList(0, 10));
        assertTrue(!small.eval().equals(DemoData.generate(TASK, 8, 10, 50, 60).eval()));
    }
}
