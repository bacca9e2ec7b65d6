package dev.ipg.cli;

import static dev.ipg.cli.CliTest.assertOneLineError;
import static dev.ipg.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ipg compare --alpha-min} and {@code --refine}: parsed into the IPG options, bad values one line before any work. */
class CompareVariantsCliTest {

    @TempDir
    Path tmp;

    String[] compare(String... extra) {
        Path m = CompareGroundTruthCliTest.testbed();
        List<String> a = new ArrayList<>(List.of("compare", "-m", m.toString(), "--support", m.resolve("support.jsonl").toString(), "--eval",
                m.resolve("eval.jsonl").toString(), "--site", "blocks.0.hook_resid_post,blocks.1.mlp.hook_post", "--top-count", "8",
                "--chat", "--out", tmp.resolve("out").toString(), "--threads", "1"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void badValuesAreOneLineAndNothingIsWritten() {
        assertOneLineError(run(compare("--alpha-min", "1")), "--alpha-min must be in [0, 1), got 1.0");
        assertOneLineError(run(compare("--alpha-min", "-0.5")), "--alpha-min must be in [0, 1), got -0.5");
        assertOneLineError(run(compare("--refine", "-1")), "--refine must be >= 0 (0 = off), got -1");
        // the residual site is 128 wide (the MLP site 384): K must be below every compared site's width
        assertOneLineError(run(compare("--refine", "128")), "--refine 128 must be below the 128 components of blocks.0.hook_resid_post");
        assertOneLineError(run(compare("--refine", "4", "--rank", "abs")), "--refine ranks by signed score", "--rank abs");
        assertTrue(Files.notExists(tmp.resolve("out")), "nothing is written for a refused comparison");
    }

    @Test
    void helpNamesBothOptionsWithTheirDefaults() {
        CliTest.Run r = run("compare", "--help");
        assertEquals(0, r.code(), r.err());
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("--alpha-min=A IPG: the path runs over alpha in [A, 1] (default: 0, from the baseline)"), help);
        assertTrue(help.contains("--refine=K IPG in two stages"), help);
        assertTrue(help.contains("(default: 0 = one stage; signed rank only)"), help);
    }
}
