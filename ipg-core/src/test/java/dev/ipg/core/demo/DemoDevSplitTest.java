package dev.ipg.core.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.data.Dataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled model's dev split (models/ipg-demo/dev.jsonl) is what {@link DemoData#dev} draws
 * from the build seed, and it shares no problem with the support, evaluation or training data.
 */
class DemoDevSplitTest {

    /** The build of models/ipg-demo (its README): seed 1234, 32000 training, 200 support, 500 eval problems. */
    static final long SEED = 1234;
    static final int DEV_SIZE = 200;

    static Path bundled() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("mvnw"))) {
                Path m = d.resolve("models").resolve("ipg-demo");
                assertTrue(Files.isRegularFile(m.resolve("dev.jsonl")), "the bundled dev split is missing: " + m);
                return m;
            }
        }
        throw new AssertionError("not inside the ipg repository");
    }

    @Test
    void bundledDevSplitIsTheDeterministicDrawAndDisjointFromEverySplit(@TempDir Path tmp) throws Exception {
        Path m = bundled();
        ChainTask task = new ChainTask(ChainTask.Spec.standard());
        DemoData data = DemoData.generate(task, SEED, 32000, 200, 500);
        // the generator reproduces the bundled splits, so the exclusion below is of the real data
        Path s = tmp.resolve("support.jsonl");
        DemoData.writeJsonl(s, data.support());
        assertEquals(Files.readString(m.resolve("support.jsonl")), Files.readString(s));
        Path e = tmp.resolve("eval.jsonl");
        DemoData.writeJsonl(e, data.eval());
        assertEquals(Files.readString(m.resolve("eval.jsonl")), Files.readString(e));
        List<DemoData.Example> dev = DemoData.dev(task, SEED, DEV_SIZE, data);
        assertEquals(dev, DemoData.dev(task, SEED, DEV_SIZE, data));
        Path d = tmp.resolve("dev.jsonl");
        DemoData.writeJsonl(d, dev);
        assertEquals(Files.readString(m.resolve("dev.jsonl")), Files.readString(d));
        Dataset devSet = Dataset.load(m.resolve("dev.jsonl"));
        assertEquals(DEV_SIZE, devSet.size());
        for (String split : List.of("support.jsonl", "eval.jsonl", "train.jsonl")) {
            var overlap = Dataset.disjoint(devSet, Dataset.load(m.resolve(split)));
            assertTrue(overlap.isDisjoint(), overlap.describe());
        }
    }
}
