package dev.ipg.cli;

import static dev.ipg.cli.CliTest.assertOneLineError;
import static dev.ipg.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ipg compare --ground-truth}: a bad planted file or a planted site not compared is one line, before any work. */
class CompareGroundTruthCliTest {

    @TempDir
    Path tmp;

    static Path testbed() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path m = d.resolve("models").resolve("ipg-planted");
            if (Files.isRegularFile(m.resolve("planted.json"))) {
                return m;
            }
        }
        throw new AssertionError("the bundled testbed model models/ipg-planted is missing");
    }

    String[] compare(String site, Path truth) {
        Path m = testbed();
        return new String[] {"compare", "-m", m.toString(), "--support", m.resolve("support.jsonl").toString(), "--eval",
                m.resolve("eval.jsonl").toString(), "--site", site, "--top-count", "8", "--chat", "--out",
                tmp.resolve("out").toString(), "--ground-truth", truth.toString(), "--threads", "1"};
    }

    @Test
    void refusesAPlantedSiteThatIsNotComparedAndBadFiles() throws Exception {
        Path planted = testbed().resolve("planted.json");
        assertOneLineError(run(compare("blocks.1.mlp.hook_post", planted)),
                "the planted site blocks.2.mlp.hook_post is not among the compared sites [blocks.1.mlp.hook_post]");
        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, "{\"site\": \"blocks.2.mlp.hook_post\", \"indices\": [3, 999]}");
        assertOneLineError(run(compare("blocks.2.mlp.hook_post", bad)), "planted component 999 is outside blocks.2.mlp.hook_post (384 components)");
        Files.writeString(bad, "{\"indices\": [3]}");
        assertOneLineError(run(compare("blocks.2.mlp.hook_post", bad)), bad + ": needs \"site\"");
        assertOneLineError(run(compare("blocks.2.mlp.hook_post", tmp.resolve("missing.json"))), "does not exist");
        assertTrue(Files.notExists(tmp.resolve("out")), "nothing is written for a refused comparison");
    }
}
