package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** How an executor reads the file names inside the spec options of a job (against the driver's directory). */
class ClusterTest {

    static final Path BASE = Path.of("/driver/cwd");

    @Test
    void theFileInsideASpecResolvesAgainstTheDriversDirectory() {
        assertEquals("/driver/cwd/runs/first:top=20", Cluster.resolveIn("--candidates", "runs/first:top=20", BASE));
        assertEquals("/abs/run:top=5", Cluster.resolveIn("--candidates", "/abs/run:top=5", BASE));
        assertEquals("correct-0.1*reward-model:/driver/cwd/models/rm", Cluster.resolveIn("--signal", "correct-0.1*reward-model:models/rm", BASE));
        assertEquals("Reward-Model:/driver/cwd/rm", Cluster.resolveIn("--signal", "Reward-Model: rm", BASE));
        assertEquals("scale:/driver/cwd/runs/a:b:top-count=4:gamma=0", Cluster.resolveIn("--intervention", "scale:runs/a:b:top-count=4:gamma=0", BASE));
        assertEquals("add:/driver/cwd/cv/vector.safetensors:strength=2", Cluster.resolveIn("--intervention", "add:cv/vector.safetensors:strength=2", BASE));
    }

    @Test
    void specsWithoutAFileAndOtherOptionsAreLeftAsTheyAre() {
        assertEquals("correct-0.01*reflection", Cluster.resolveIn("--signal", "correct-0.01*reflection", BASE));
        assertEquals("reward-model:", Cluster.resolveIn("--signal", "reward-model:", BASE));
        assertEquals("none", Cluster.resolveIn("--intervention", "none", BASE));
        assertEquals("reconstruction", Cluster.resolveIn("--intervention", "reconstruction", BASE));
        assertEquals("runs/x", Cluster.resolveIn("--candidates", "runs/x", BASE));
        assertEquals("blocks.1.hook_resid_post", Cluster.resolveIn("--site", "blocks.1.hook_resid_post", BASE));
    }
}
