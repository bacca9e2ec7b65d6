package dev.ipg.core.signal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ipg.core.IpgException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The external verifier protocol, against a small Python verifier written to a temp dir. */
class ExternalSignalTest {

    private static final Path PYTHON = Path.of("/usr/bin/python3");

    /**
     * reward = 1000 * len(prompt) + 100 * (completion == gold) + len(completion), except for a
     * few completions that misbehave on purpose; "count" replies with the number of lines this
     * process has read so far.
     */
    private static final String VERIFIER = """
            import json, sys, time
            seen = 0
            for line in sys.stdin:
                seen += 1
                d = json.loads(line)
                c = d["completion"]
                if c == "crash":
                    sys.stderr.write("verifier exploded\\n"); sys.exit(3)
                if c == "garbage":
                    print("not json at all", flush=True); continue
                if c == "noreward":
                    print(json.dumps({"score": 1}), flush=True); continue
                if c == "wrongid":
                    print(json.dumps({"id": "other", "reward": 1}), flush=True); continue
                if c == "hang":
                    time.sleep(30)
                if c == "count":
                    print(json.dumps({"reward": seen}), flush=True); continue
                if c == "tokens":
                    print(json.dumps({"reward": d["generated_tokens"], "id": d["id"]}), flush=True); continue
                r = 1000 * len(d["prompt"] or "") + 100 * (c == d["gold"]) + len(c)
                print(json.dumps({"id": d["id"], "reward": r}), flush=True)
            """;

    @TempDir
    static Path dir;
    private static String command;

    @BeforeAll
    static void writeVerifier() throws IOException {
        if (!Files.isExecutable(PYTHON)) {
            throw new AssertionError(PYTHON + " is needed for the external signal tests");
        }
        var script = dir.resolve("verify.py");
        Files.writeString(script, VERIFIER);
        command = "exec " + PYTHON + " " + script;
    }

    private static Sample sample(String id, String prompt, String completion, String gold) {
        return new Sample(id, prompt, completion, 7, gold);
    }

    @Test
    void repliesAreReadInOrderFromOneLongLivedProcess() {
        try (var ext = new External(command)) {
            assertEquals(2000 + 100 + 2, ext.reward(sample("a", "xy", "42", "42")));
            assertEquals(0 + 0 + 5, ext.reward(sample("b", null, "a\nb ü", "42")), "newline and non-ASCII survive");
            assertEquals(7, ext.reward(sample("c", "", "tokens", null)));
            // the same process has now read its fourth line
            assertEquals(4, ext.reward(sample("d", "", "count", null)));
        }
    }

    @Test
    void batchesAreWrittenAheadAndComeBackInOrder() {
        var samples = new ArrayList<Sample>();
        var expected = new double[200];
        for (int i = 0; i < expected.length; i++) {
            String completion = "x".repeat(i % 13);
            String gold = i % 3 == 0 ? completion : "y";
            samples.add(sample("s" + i, "p".repeat(i % 2), completion, gold));
            expected[i] = 1000 * (i % 2) + (i % 3 == 0 ? 100 : 0) + i % 13;
        }
        try (var ext = new External(command)) {
            assertArrayEquals(expected, ext.rewards(samples), 0);
            assertArrayEquals(new double[0], ext.rewards(List.of()), 0);
        }
    }

    @Test
    void weightedSumsBatchThroughTheVerifier() {
        try (var s = Signals.parse("correct + 0.5*external:" + command)) {
            var r = s.rewards(List.of(sample("a", "", "\\boxed{3}", "3"), sample("b", "p", "no", "3")));
            assertArrayEquals(new double[] {1 + 0.5 * 9, 0 + 0.5 * 1002}, r, 1e-12);
        }
    }

    @Test
    void aCrashNamesTheExitCodeAndTheLastErrorLine() {
        try (var ext = new External(command)) {
            assertEquals(2, ext.reward(sample("a", "", "ok", "no")));
            var e = assertThrows(IpgException.class, () -> ext.reward(sample("b7", "", "crash", null)));
            assertOneLine(e);
            assertTrue(e.getMessage().contains("exited with code 3"), e.getMessage());
            assertTrue(e.getMessage().contains("sample b7"), e.getMessage());
            assertTrue(e.getMessage().endsWith(": verifier exploded"), e.getMessage());
            var again = assertThrows(IpgException.class, () -> ext.reward(sample("c", "", "ok", "ok")));
            assertTrue(again.getMessage().contains("failed earlier"), again.getMessage());
        }
    }

    @Test
    void aMissingCommandIsACrashWithExitCode127() {
        try (var ext = new External("/nonexistent/verifier --flag")) {
            var e = assertThrows(IpgException.class, () -> ext.reward(sample("a", "", "x", "y")));
            assertOneLine(e);
            assertTrue(e.getMessage().contains("exited with code 127"), e.getMessage());
        }
    }

    @Test
    void nonJsonRepliesAreRejected() {
        try (var ext = new External(command)) {
            var e = assertThrows(IpgException.class, () -> ext.reward(sample("g", "", "garbage", null)));
            assertOneLine(e);
            assertEquals("external signal `" + command + "` replied to sample g with a line that is not a JSON"
                    + " object: not json at all", e.getMessage());
        }
    }

    @Test
    void repliesWithoutRewardAreRejected() {
        try (var ext = new External(command)) {
            var e = assertThrows(IpgException.class, () -> ext.reward(sample("n", "", "noreward", null)));
            assertOneLine(e);
            assertEquals("external signal `" + command + "` reply for sample n has no numeric \"reward\": {\"score\": 1}",
                    e.getMessage());
        }
    }

    @Test
    void repliesForAnotherIdAreRejected() {
        try (var ext = new External(command)) {
            var e = assertThrows(IpgException.class, () -> ext.reward(sample("w", "", "wrongid", null)));
            assertTrue(e.getMessage().contains("replied for id other where sample w was expected"), e.getMessage());
        }
    }

    @Test
    void aSilentVerifierTimesOut() {
        try (var ext = new External(command, Duration.ofMillis(300))) {
            var e = assertThrows(IpgException.class, () -> ext.reward(sample("h", "", "hang", null)));
            assertOneLine(e);
            assertEquals("external signal `" + command + "` did not reply within 300 ms for sample h", e.getMessage());
        }
    }

    @Test
    void closingEndsTheProcess() throws Exception {
        var ext = new External(command);
        ext.reward(sample("a", "", "ok", "ok"));
        ext.close();
        ext.close(); // twice is fine
        assertThrows(IllegalStateException.class, () -> ext.reward(sample("b", "", "ok", "ok")));
        var pids = new ArrayList<Long>();
        ProcessHandle.current().children().forEach(p -> pids.add(p.pid()));
        assertFalse(ProcessHandle.current().children().anyMatch(p -> p.info().commandLine()
                .map(c -> c.contains(dir.toString())).orElse(false)), "verifier still running: " + pids);
    }

    private static void assertOneLine(IpgException e) {
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
