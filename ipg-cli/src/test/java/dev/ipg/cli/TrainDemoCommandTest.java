package dev.ipg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ipg train-demo} on a tiny shape: progress on stderr, a loadable model directory, one-line errors. */
class TrainDemoCommandTest {

    @TempDir
    Path tmp;

    static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void trainsATinyModelAndGeneratesWithIt() throws Exception {
        Path out = tmp.resolve("demo");
        String[] r = run("train-demo", "--out", out.toString(), "--steps", "4", "--batch", "4", "--eval-size", "6",
                "--probe", "2", "--hidden", "32", "--layers", "1", "--heads", "2", "--kv-heads", "1", "--intermediate", "64");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[2].contains("steps 4/4 (100%)  elapsed "), r[2]);
        assertTrue(r[2].contains("eta done  loss "), r[2]);
        assertTrue(r[2].contains("greedy accuracy"), r[2]);
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(card.contains("--steps 4 --seed 1234 --threads 2 --batch 4"), card);
        String[] g = run("generate", "-m", out.toString(), "--chat", "-p", "Start with 5, add 3, times 2.",
                "--max-new-tokens", "5", "--no-stream");
        assertEquals("0", g[0], g[2]);
    }

    @Test
    void badSettingsAreOneLineErrors() {
        String[] r = run("train-demo", "--out", tmp.resolve("x").toString(), "--steps", "0");
        assertEquals("1", r[0]);
        assertEquals("ipg: --steps must be >= 1, got 0", r[2].strip());
        r = run("train-demo", "--out", tmp.resolve("y").toString(), "--hidden", "30", "--heads", "4");
        assertEquals("1", r[0]);
        assertTrue(r[2].startsWith("ipg: inconsistent demo model shape") && r[2].strip().lines().count() == 1, r[2]);
    }

    @Test
    void thePlantedRecipeWritesItsGroundTruthAndItsCommand() throws Exception {
        Path out = tmp.resolve("planted");
        String[] r = run("train-demo", "--recipe", "planted", "--out", out.toString(), "--steps", "3", "--batch", "4",
                "--eval-size", "4", "--probe", "2", "--hidden", "32", "--layers", "3", "--heads", "2", "--kv-heads", "1",
                "--intermediate", "64");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[2].contains("[causal check on 4 eval problems, reflections per answer: intact "), r[2]);
        assertTrue(Files.readString(out.resolve("planted.json")).contains("\"site\" : \"blocks.2.mlp.hook_post\""));
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(card.contains("ipg train-demo --out DIR --recipe planted --steps 3 --seed 1234"), card);
        assertTrue(card.contains("## Planted mechanism"), card);
    }

    @Test
    void plantedRecipeErrorsAreOneLine() {
        String[] r = run("train-demo", "--recipe", "bogus", "--out", tmp.resolve("a").toString());
        assertEquals("1", r[0]);
        assertEquals("ipg: unknown recipe 'bogus': use standard or planted", r[2].strip());
        r = run("train-demo", "--recipe", "planted", "--out", tmp.resolve("b").toString(), "--layers", "2", "--hidden", "32",
                "--heads", "2", "--kv-heads", "1", "--intermediate", "64");
        assertEquals("1", r[0]);
        assertTrue(r[2].startsWith("ipg: the planted mechanism needs a block of the model (0..1)") && r[2].strip().lines().count() == 1,
                r[2]);
        assertTrue(Files.notExists(tmp.resolve("b")));
    }
}
