package dev.ipg.cli;

import static dev.ipg.cli.CliTest.assertOneLineError;
import static dev.ipg.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.cli.CliTest.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** steer, eval, baseline and compare from the command line: outputs, identities, one-line errors. */
class SteerEvalCliTest {

    @TempDir
    static Path tmp;

    static Path model;
    static Path support;
    static Path eval;

    static final String SITE = "blocks.0.hook_resid_post";

    @BeforeAll
    static void setUp() throws IOException {
        model = tmp.resolve("qwen3");
        Run r = run("random-model", "--out", model.toString(), "--family", "qwen3", "--hidden", "32", "--heads", "2", "--kv-heads", "1",
                "--layers", "1", "--context", "64", "--tokenizer", CliTest.shared().resolve("fixtures/tokenizers/qwen3").toString());
        assertEquals(0, r.code(), r.err());
        support = tmp.resolve("support.jsonl");
        Files.writeString(support, """
                {"question": "What is 2 + 3?", "answer": "2 + 3 = <<2+3=5>>5\\n#### 5"}
                {"question": "What is 7 - 4?", "answer": "7 - 4 = <<7-4=3>>3\\n#### 3"}
                """);
        eval = tmp.resolve("eval.jsonl");
        Files.writeString(eval, """
                {"question": "What is 6 * 2?", "answer": "#### 12"}
                {"question": "What is 9 - 1?", "answer": "#### 8"}
                {"question": "What is 1 + 1?", "answer": "#### 2"}
                """);
    }

    static String m() {
        return model.toString();
    }

    @Test
    void everyNewCommandHasHelp() {
        for (String c : List.of("steer", "eval", "baseline", "compare")) {
            Run h = run(c, "--help");
            assertEquals(0, h.code(), c);
            assertTrue(h.out().contains("--model"), c + ": " + h.out());
        }
        assertTrue(run("steer", "--help").out().contains("--gamma"));
        assertTrue(run("compare", "--help").out().contains("--random-seeds"));
    }

    @Test
    void steeringWithGammaOneReproducesPlainGeneration() {
        Path rd = tmp.resolve("rand");
        Run b = run("baseline", "--method", "random", "--model", m(), "--site", SITE, "--out", rd.toString(), "--seed", "4");
        assertEquals(0, b.code(), b.err());
        assertTrue(Files.exists(rd.resolve("scores.safetensors")));
        Run plain = run("generate", "--model", m(), "--prompt", "Hello", "--temperature", "0", "--max-new-tokens", "6");
        Run one = run("steer", "--model", m(), "--prompt", "Hello", "--scores", rd.toString(), "--top-percent", "25", "--gamma", "1",
                "--max-new-tokens", "6");
        assertEquals(0, one.code(), one.err());
        assertEquals(plain.out(), one.out());
        assertTrue(one.err().contains("scale 8 of 32 components of " + SITE), one.err());
        Run spec = run("steer", "--model", m(), "--prompt", "Hello", "--intervention", "scale:" + rd + ":top-count=8:gamma=1",
                "--max-new-tokens", "6");
        assertEquals(plain.out(), spec.out());
        Run both = run("steer", "--model", m(), "--prompt", "Hello", "--scores", rd.toString(), "--top-count", "8", "--gamma", "0",
                "--max-new-tokens", "6", "--compare");
        assertEquals(0, both.code(), both.err());
        assertTrue(both.out().startsWith("=== original"), both.out());
        assertTrue(both.out().contains("=== steered"), both.out());
    }

    @Test
    void steerRefusesIncompleteOrMixedOptions() {
        assertOneLineError(run("steer", "--model", m(), "--prompt", "x"), "nothing to steer with");
        assertOneLineError(run("steer", "--model", m(), "--prompt", "x", "--scores", tmp.toString(), "--gamma", "0"),
                "one of --top-percent P or --top-count K");
        assertOneLineError(run("steer", "--model", m(), "--prompt", "x", "--scores", tmp.toString(), "--gamma", "0", "--top-k", "8"),
                "--top-k is the sampling top-k; the number of components is --top-count");
        assertOneLineError(run("steer", "--model", m(), "--prompt", "x", "--vector", tmp.resolve("v").toString()), "--vector needs --strength");
        assertOneLineError(run("steer", "--model", m(), "--prompt", "x", "--intervention", "scale:nowhere:gamma=0"), "bad intervention");
        assertOneLineError(run("steer", "--model", m(), "--prompt", "x", "--scores", tmp.resolve("none").toString(), "--top-percent", "5",
                "--gamma", "0"), "does not exist");
    }

    /** A usage error: exit code 2 and one line naming what to write instead. */
    static void assertRefused(Run r, String... phrases) {
        assertEquals(2, r.code(), "exit code; stderr: " + r.err());
        String e = r.err().strip();
        assertFalse(e.contains("\n"), "one line expected: " + e);
        for (String p : phrases) {
            assertTrue(e.contains(p), "'" + p + "' not in: " + e);
        }
    }

    @Test
    void retiredSelectionAndSamplingSpellingsAreRefusedWithTheNewNames() {
        String scores = tmp.toString();
        assertRefused(run("steer", "--model", m(), "--prompt", "x", "--scores", scores, "--top", "5", "--gamma", "0"),
                "--top is retired: use --top-percent P (a percentage) or --top-count K");
        assertRefused(run("steer", "--model", m(), "--prompt", "x", "--sample-top-k", "5"), "--sample-top-k is retired: use --top-k K");
        assertRefused(run("eval", "--model", m(), "--dataset", eval.toString(), "--out", scores, "--sample-top-k", "5"),
                "--sample-top-k is retired: use --top-k K");
        assertRefused(run("compare", "--model", m(), "--support", support.toString(), "--eval", eval.toString(), "--site", SITE, "--out",
                scores, "--top-k", "3"), "--top-k is retired: use --top-count K");
        assertRefused(run("compare", "--model", m(), "--support", support.toString(), "--eval", eval.toString(), "--site", SITE, "--out",
                scores, "--top", "5%"), "--top is retired: use --top-percent P");
        assertRefused(run("attribute", "--model", m(), "--dataset", support.toString(), "--site", SITE, "--signal", "correct", "--out",
                scores, "--top", "-5"), "--top is retired: use --csv-rows N");
        assertRefused(run("report", scores, "--top", "5"), "--top is retired: use --table-rows N");
        assertRefused(run("report", scores, "--components", "5"), "--components is retired: use --top-count K");
        assertRefused(run("demo", "--top", "5%"), "--top is retired: use --top-percent P");
        // the intervention spec: top= is retired too, and each of its sizes says what it is
        assertOneLineError(run("eval", "--model", m(), "--dataset", eval.toString(), "--out", tmp.resolve("ev3").toString(),
                "--intervention", "scale:" + scores + ":top=5%:gamma=0"), "top= is retired: write top-percent=P", "or top-count=K");
        assertOneLineError(run("steer", "--model", m(), "--prompt", "x", "--scores", scores, "--top-percent", "150", "--gamma", "0"),
                "--top-percent 150 is not a percentage in [0, 100]");
        assertOneLineError(run("steer", "--model", m(), "--prompt", "x", "--scores", scores, "--top-count", "-5", "--gamma", "0"),
                "--top-count must be >= 0, got -5");
        assertOneLineError(run("steer", "--model", m(), "--prompt", "x", "--scores", scores, "--top-percent", "5", "--top-count", "3",
                "--gamma", "0"), "one of --top-percent P or --top-count K");
        assertOneLineError(run("attribute", "--model", m(), "--dataset", support.toString(), "--site", SITE, "--signal", "correct",
                "--out", tmp.resolve("neg").toString(), "--csv-rows", "-5"), "--csv-rows must be >= 1, got -5");
        assertFalse(Files.exists(tmp.resolve("neg")), "nothing written");
    }

    @Test
    void evalAndSteerWarnAboutConstantScoresAndTheSupportSet() throws IOException {
        // a random model never answers right: every reward is 0, every advantage 0, every IPG score 0
        Path ipg = tmp.resolve("ipg-zero");
        Run a = run("attribute", "--model", m(), "--dataset", support.toString(), "--site", SITE, "--signal", "correct", "--steps", "2",
                "--samples", "2", "--max-new-tokens", "3", "--out", ipg.toString());
        assertEquals(0, a.code(), a.err());
        String spec = "scale:" + ipg + ":top-percent=25:gamma=0";
        Run same = run("eval", "--model", m(), "--dataset", support.toString(), "--out", tmp.resolve("ev-same").toString(),
                "--max-new-tokens", "2", "--intervention", spec);
        assertEquals(0, same.code(), same.err());
        assertTrue(same.err().contains("[warning: every score in " + ipg.resolve("scores.safetensors") + " is 0 (all zero"), same.err());
        assertTrue(same.err().contains("overlap: 2 shared ids") && same.err().contains("the scores were computed on problems evaluated here"),
                same.err());
        // another file holding one support question: found through the questions the run records
        Path mixed = tmp.resolve("mixed.jsonl");
        Files.writeString(mixed, """
                {"question": "What is 6 * 2?", "answer": "#### 12"}
                {"question": "what is  7 - 4?", "answer": "#### 3"}
                """);
        Run other = run("eval", "--model", m(), "--dataset", mixed.toString(), "--out", tmp.resolve("ev-mixed").toString(),
                "--max-new-tokens", "2", "--intervention", spec);
        assertEquals(0, other.code(), other.err());
        assertTrue(other.err().contains("overlap: 1 identical question (support-1 = mixed-1)"), other.err());
        Run disjoint = run("eval", "--model", m(), "--dataset", eval.toString(), "--out", tmp.resolve("ev-disjoint").toString(),
                "--max-new-tokens", "2", "--intervention", spec);
        assertEquals(0, disjoint.code(), disjoint.err());
        assertFalse(disjoint.err().contains("overlap"), disjoint.err());
        Run steer = run("steer", "--model", m(), "--prompt", "What is 2 + 3?", "--scores", ipg.toString(), "--top-count", "3",
                "--gamma", "0", "--max-new-tokens", "2");
        assertEquals(0, steer.code(), steer.err());
        assertTrue(steer.err().contains("is 0 (all zero"), steer.err());
        assertTrue(steer.err().contains("the prompt is support problem support-0 of"), steer.err());
        // scores whose run does not record its problems, from another file: said, not passed silently
        Path act = tmp.resolve("act");
        assertEquals(0, run("baseline", "--method", "activation", "--model", m(), "--site", SITE, "--dataset", support.toString(),
                "--max-new-tokens", "2", "--out", act.toString()).code());
        Run unknown = run("eval", "--model", m(), "--dataset", eval.toString(), "--out", tmp.resolve("ev-act").toString(),
                "--max-new-tokens", "2", "--intervention", "scale:" + act + ":top-count=4:gamma=0");
        assertEquals(0, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("cannot check whether eval.jsonl overlaps the support set"), unknown.err());
    }

    @Test
    void evalWritesCompletionsAndASummaryAndResumes() throws IOException {
        Path out = tmp.resolve("ev");
        Run r = run("eval", "--model", m(), "--dataset", eval.toString(), "--out", out.toString(), "--limit", "2", "--max-new-tokens", "4",
                "--batch-size", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(0/2)") || r.out().contains("(1/2)") || r.out().contains("(2/2)"), r.out());
        assertTrue(r.out().contains("95") || r.out().contains("["), r.out());
        assertEquals(2, Files.readAllLines(out.resolve("completions.jsonl")).size());
        Run more = run("eval", "--model", m(), "--dataset", eval.toString(), "--out", out.toString(), "--max-new-tokens", "4",
                "--batch-size", "2");
        assertEquals(0, more.code(), more.err());
        assertTrue(more.err().contains("resuming: 2 of 3"), more.err());
        assertEquals(3, Files.readAllLines(out.resolve("completions.jsonl")).size());
        assertOneLineError(run("eval", "--model", m(), "--dataset", eval.toString(), "--out", out.toString(), "--max-new-tokens", "5"),
                "different configuration", "decoding.max_new_tokens 4 vs 5");
        assertOneLineError(run("eval", "--model", m(), "--dataset", eval.toString(), "--out", tmp.resolve("ev2").toString(),
                "--intervention", "scale:x"), "bad intervention");
    }

    @Test
    void baselinesNeedTheirInputs() {
        assertOneLineError(run("baseline", "--method", "activation", "--model", m(), "--site", SITE, "--out", tmp.resolve("a").toString()),
                "needs --dataset");
        assertOneLineError(run("baseline", "--method", "ipg", "--model", m(), "--site", SITE, "--out", tmp.resolve("a").toString()),
                "ipg attribute");
        assertOneLineError(run("baseline", "--method", "magic", "--model", m(), "--site", SITE, "--out", tmp.resolve("a").toString()),
                "unknown method 'magic'");
        Path cv = tmp.resolve("cv");
        Run r = run("baseline", "--method", "control-vector", "--model", m(), "--site", SITE, "--out", cv.toString(), "--dataset",
                support.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(cv.resolve("vector.safetensors")));
        Run add = run("steer", "--model", m(), "--prompt", "Hi", "--vector", cv.toString(), "--strength", "0", "--max-new-tokens", "5");
        Run plain = run("generate", "--model", m(), "--prompt", "Hi", "--temperature", "0", "--max-new-tokens", "5");
        assertEquals(0, add.code(), add.err());
        assertEquals(plain.out(), add.out(), "strength 0 is a no-op");
    }

    @Test
    void compareProducesTheTableAndRefusesOverlap() throws IOException {
        Path out = tmp.resolve("cmp");
        Run r = run("compare", "--model", m(), "--support", support.toString(), "--eval", eval.toString(), "--site", SITE, "--out",
                out.toString(), "--methods", "random,activation,control-vector", "--top-percent", "25", "--random-seeds", "2", "--max-new-tokens", "3",
                "--eval-max-new-tokens", "3", "--sweep", "none", "--enhance", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("random (2 seeds)"), r.out());
        assertTrue(r.out().contains("add 1"), r.out());
        assertTrue(Files.exists(out.resolve("comparison.json")));
        assertEquals(1 + 1 + 2 + 2 + 1, Files.readAllLines(out.resolve("comparison.csv")).size());
        assertEquals(1, Files.readAllLines(out.resolve("gamma_sweep.csv")).size());
        assertTrue(Files.exists(out.resolve("protocol.json")));
        assertTrue(r.out().contains("IPG not compared"), r.out());
        assertTrue(r.out().contains("ground truth: no dev split given"), r.out());
        assertOneLineError(run("compare", "--model", m(), "--support", support.toString(), "--eval", eval.toString(), "--dev", eval.toString(),
                "--site", SITE, "--out", tmp.resolve("cmp4").toString(), "--methods", "random", "--top-percent", "5"), "overlap", "3 shared ids");
        assertOneLineError(run("compare", "--model", m(), "--support", support.toString(), "--eval", eval.toString(),
                "--site", "blocks.3-1.hook_resid_post", "--out", tmp.resolve("cmp5").toString(), "--methods", "random", "--top-percent", "5"),
                "--site", "empty layer range");
        assertOneLineError(run("compare", "--model", m(), "--support", support.toString(), "--eval", eval.toString(),
                "--site", SITE, "--curve-k", "1,x", "--out", tmp.resolve("cmp6").toString(), "--methods", "random", "--top-percent", "5"),
                "--curve-k", "not a whole number");
        assertOneLineError(run("compare", "--model", m(), "--support", eval.toString(), "--eval", eval.toString(), "--site", SITE, "--out",
                tmp.resolve("cmp2").toString(), "--methods", "random", "--top-percent", "5"), "overlap", "3 shared ids");
        assertOneLineError(run("compare", "--model", m(), "--support", support.toString(), "--eval", eval.toString(), "--site", SITE, "--out",
                tmp.resolve("cmp3").toString(), "--methods", "random"), "one of --top-percent P or --top-count K");
    }
}
